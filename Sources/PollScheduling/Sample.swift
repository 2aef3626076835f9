import ModbusProtocol
import RegisterDecoding

/// The names a poll's output lines carry, shared by every sample of the poll.
public final class PollLayout: Sendable {
    /// The device name.
    public let device: String
    /// The poll name.
    public let poll: String
    /// Point names, in map order.
    public let pointNames: [String]
    /// Engineering units, aligned with ``pointNames``.
    public let units: [String?]

    /// Creates a layout.
    public init(device: String, poll: String, pointNames: [String], units: [String?]) {
        self.device = device
        self.poll = poll
        self.pointNames = pointNames
        self.units = units
    }
}

/// Why one point has no value in a cycle, as written in output.
public struct PointFailure: Error, Hashable, Sendable {
    /// One of `connect`, `timeout`, `connection_lost`, `exception`, `bad_response`, `decode`.
    public let kind: String
    /// The Modbus exception code, for `exception`.
    public let code: UInt8?
    /// A sentence for people.
    public let message: String

    /// Creates a failure.
    public init(kind: String, code: UInt8? = nil, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// The failure for a request error.
    public init(_ error: ModbusError) {
        self.kind = error.kind.name
        self.code = error.exceptionCode?.code
        self.message = error.exceptionCode?.message ?? error.message
    }

    /// A value that could not be decoded.
    public static func decode(_ message: String) -> PointFailure {
        PointFailure(kind: "decode", message: message)
    }
}

/// What one point of one cycle produced.
public enum PointOutcome: Hashable, Sendable {
    /// A value (``Value/null`` for a `nodata` raw value).
    case value(Value)
    /// No value, and why.
    case failed(PointFailure)
}

/// The outcome of one cycle of one poll of one device: one output line in the records format.
public struct Sample: Sendable {
    /// The names to write.
    public let layout: PollLayout
    /// When the cycle's reads started, in milliseconds since 1970-01-01T00:00:00Z.
    public let time: Int64
    /// Cycles of this poll skipped since the previous sample because they could not start on time.
    public let missed: Int
    /// The values, or why the device could not be reached at all.
    public let result: Result
    /// The registers of every read that was answered, when the engine captures them.
    public let reads: [RawRead]

    /// A cycle's result.
    public enum Result: Sendable {
        /// One outcome per point, in map order.
        case points([PointOutcome])
        /// The device could not be reached: no point was read.
        case unreachable(PointFailure)
    }

    /// Creates a sample.
    public init(layout: PollLayout, time: Int64, missed: Int, result: Result, reads: [RawRead] = []) {
        self.layout = layout
        self.time = time
        self.missed = missed
        self.result = result
        self.reads = reads
    }

    /// Whether any point failed or the device was unreachable.
    public var hasFailures: Bool {
        switch result {
        case .unreachable: true
        case .points(let outcomes):
            outcomes.contains { if case .failed = $0 { true } else { false } }
        }
    }
}

/// The registers (or bits, as 0/1) one answered read returned.
public struct RawRead: Hashable, Sendable {
    /// The unit read.
    public let unit: UnitID
    /// The table read.
    public let table: Table
    /// The first address read.
    public let start: Int
    /// One value per address.
    public let values: [UInt16]

    /// Creates a raw read.
    public init(unit: UnitID, table: Table, start: Int, values: [UInt16]) {
        self.unit = unit
        self.table = table
        self.start = start
        self.values = values
    }
}

/// Where samples go: the stdout writer in production, an array in tests.
public protocol SampleSink: AnyObject, Sendable {
    /// Takes one sample; may block while the output is slow (that is the backpressure that
    /// turns a slow reader into missed cycles).
    ///
    /// - Returns: `false` when the output is gone and polling should stop.
    func emit(_ sample: Sample) -> Bool
}
