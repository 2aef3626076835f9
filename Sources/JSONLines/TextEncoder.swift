import PollScheduling
import RegisterDecoding

/// The human-readable form of `fieldpoll read --format text`: a heading per read, then one
/// aligned line per point, `null` for "not available", errors spelled out.
public struct TextEncoder: Sendable {
    /// Creates an encoder.
    public init() {}

    /// The lines for one sample.
    public func encode(_ sample: Sample) -> [UInt8] {
        var time = JSONBuffer(capacity: 32)
        time.timestamp(milliseconds: sample.time)
        let stamp = String(decoding: time.bytes.dropFirst().dropLast(), as: UTF8.self)
        var lines = "\(stamp)  \(sample.layout.device)"
        if sample.missed > 0 { lines += "  (\(sample.missed) missed)" }
        lines += "\n"
        let width = sample.layout.pointNames.map(\.count).max() ?? 0
        for (index, name) in sample.layout.pointNames.enumerated() {
            let padded = name + String(repeating: " ", count: width - name.count)
            let text: String
            switch sample.result {
            case .unreachable(let failure): text = Self.describe(failure)
            case .points(let outcomes):
                switch outcomes[index] {
                case .value(let value): text = Self.describe(value) + (sample.layout.units[index].map { " \($0)" } ?? "")
                case .failed(let failure): text = Self.describe(failure)
                }
            }
            lines += "  \(padded)  \(text)\n"
        }
        return Array(lines.utf8)
    }

    static func describe(_ value: Value) -> String {
        var buffer = JSONBuffer(capacity: 32)
        buffer.value(value)
        return String(decoding: buffer.bytes, as: UTF8.self)
    }

    static func describe(_ failure: PointFailure) -> String {
        let code = failure.code.map { " \($0)" } ?? ""
        return "error: \(failure.kind)\(code): \(failure.message)"
    }
}

/// A sink writing ``TextEncoder`` output.
public final class TextSink: SampleSink, @unchecked Sendable {
    private let writer: LineWriter

    /// Creates a sink writing to `writer`.
    public init(writer: LineWriter) {
        self.writer = writer
    }

    public func emit(_ sample: Sample) -> Bool {
        writer.write(TextEncoder().encode(sample))
    }
}
