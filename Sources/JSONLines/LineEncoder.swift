import PollScheduling
import RegisterDecoding

/// The two output shapes of SPEC section 4.
public enum OutputFormat: String, CaseIterable, Sendable {
    /// One line per poll of a device per cycle.
    case records
    /// One line per point per cycle.
    case points
}

/// Encodes samples as JSON Lines in the records or points format (SPEC section 4).
///
/// Records: `{"time","device","poll"[,"missed"],"values":{…}[,"errors":{…}]}`, or with
/// `"error":{…}` in place of values when the device could not be reached. Points: one
/// `{"time","device","poll"[,"missed"],"point","value"|"error"[,"unit"]}` per point; a
/// `missed` count is repeated on every point line of the cycle, since each point missed those
/// cycles. Keys come in this fixed order.
public struct LineEncoder: Sendable {
    /// The format written.
    public let format: OutputFormat
    private var buffer: JSONBuffer

    /// Creates an encoder whose buffer first holds `capacity` bytes (it grows as needed).
    public init(format: OutputFormat, capacity: Int = 1024) {
        self.format = format
        buffer = JSONBuffer(capacity: capacity)
    }

    /// A buffer size that holds a typical sample of `points` points without growing: about 48
    /// bytes per point in records, a whole line of about 192 per point in points.
    public static func capacity(format: OutputFormat, points: Int) -> Int {
        max(1024, 128 + points * (format == .points ? 192 : 48))
    }

    /// Encodes a sample as one line (records) or as one line per point (points), each ending
    /// in a newline, and returns the bytes; valid until the next call.
    public mutating func encode(_ sample: Sample) -> [UInt8] {
        buffer.reset()
        switch format {
        case .records: record(sample)
        case .points: points(sample)
        }
        return buffer.bytes
    }

    private mutating func header(_ sample: Sample) {
        buffer.raw("{\"time\":")
        buffer.timestamp(milliseconds: sample.time)
        buffer.raw(",\"device\":")
        buffer.string(sample.layout.device)
        buffer.raw(",\"poll\":")
        buffer.string(sample.layout.poll)
        if sample.missed > 0 {
            buffer.raw(",\"missed\":")
            buffer.integer(Int64(sample.missed))
        }
    }

    private mutating func record(_ sample: Sample) {
        header(sample)
        switch sample.result {
        case .unreachable(let failure):
            buffer.raw(",\"error\":")
            error(failure)
        case .points(let outcomes):
            let names = sample.layout.pointNames
            buffer.raw(",\"values\":{")
            var failures = 0
            for (index, outcome) in outcomes.enumerated() {
                if index > 0 { buffer.byte(UInt8(ascii: ",")) }
                buffer.string(names[index])
                buffer.byte(UInt8(ascii: ":"))
                switch outcome {
                case .value(let value): buffer.value(value)
                case .failed:
                    buffer.raw("null")
                    failures += 1
                }
            }
            buffer.byte(UInt8(ascii: "}"))
            if failures > 0 {
                buffer.raw(",\"errors\":{")
                var first = true
                for (index, outcome) in outcomes.enumerated() {
                    guard case .failed(let failure) = outcome else { continue }
                    if !first { buffer.byte(UInt8(ascii: ",")) }
                    first = false
                    buffer.string(names[index])
                    buffer.byte(UInt8(ascii: ":"))
                    error(failure)
                }
                buffer.byte(UInt8(ascii: "}"))
            }
        }
        buffer.raw("}\n")
    }

    private mutating func points(_ sample: Sample) {
        let names = sample.layout.pointNames
        let units = sample.layout.units
        // Every line of the sample starts with the same time, device, poll and missed: encode
        // them once and copy the bytes.
        header(sample)
        let headerLength = buffer.bytes.count
        for index in names.indices {
            if index > 0 { buffer.repeatPrefix(headerLength) }
            buffer.raw(",\"point\":")
            buffer.string(names[index])
            switch sample.result {
            case .unreachable(let failure):
                buffer.raw(",\"error\":")
                error(failure)
            case .points(let outcomes):
                switch outcomes[index] {
                case .value(let value):
                    buffer.raw(",\"value\":")
                    buffer.value(value)
                case .failed(let failure):
                    buffer.raw(",\"error\":")
                    error(failure)
                }
            }
            if let unit = units[index] {
                buffer.raw(",\"unit\":")
                buffer.string(unit)
            }
            buffer.raw("}\n")
        }
    }

    private mutating func error(_ failure: PointFailure) {
        buffer.raw("{\"kind\":")
        buffer.string(failure.kind)
        if let code = failure.code {
            buffer.raw(",\"code\":")
            buffer.integer(Int64(code))
        }
        buffer.raw(",\"message\":")
        buffer.string(failure.message)
        buffer.byte(UInt8(ascii: "}"))
    }
}
