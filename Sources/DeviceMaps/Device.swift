import ModbusProtocol
import RegisterDecoding

/// A device to poll, as a map describes it: where it is, how to talk to it, and its polls.
public struct Device: Hashable, Sendable {
    /// Unique across every map given to one run; written in every output line.
    public var name: String
    /// Host name, IPv4 or IPv6 address.
    public var host: String
    /// TCP port, default 502.
    public var port: Int
    /// Modbus unit identifier, default 1.
    public var unit: UnitID
    /// Response timeout for one request (also the connect timeout), default 1 s.
    public var timeout: Duration
    /// Most registers one read may ask for, 1...125, default 125.
    public var maxRegisters: Int
    /// Most unmapped registers (or bits) one read may span between points, default 0.
    public var maxGap: Int
    /// Wait after connecting before the first request, default 0.
    public var pauseAfterConnect: Duration
    /// Wait between two requests to this device, default 0.
    public var pauseBetweenRequests: Duration
    /// Free text.
    public var description: String?
    /// The polls, each with its own interval.
    public var polls: [Poll]
    /// Where the device's block starts.
    public var location: SourceLocation

    /// The default TCP port.
    public static let defaultPort = 502
    /// The default unit identifier.
    public static let defaultUnit = UnitID(rawValue: 1)
    /// The default response timeout.
    public static let defaultTimeout = Duration.seconds(1)
    /// The default and largest `max_registers`.
    public static let defaultMaxRegisters = 125

    /// Creates a device.
    public init(
        name: String, host: String, port: Int = Device.defaultPort, unit: UnitID = Device.defaultUnit,
        timeout: Duration = Device.defaultTimeout, maxRegisters: Int = Device.defaultMaxRegisters,
        maxGap: Int = 0, pauseAfterConnect: Duration = .zero, pauseBetweenRequests: Duration = .zero,
        description: String? = nil, polls: [Poll], location: SourceLocation
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.unit = unit
        self.timeout = timeout
        self.maxRegisters = maxRegisters
        self.maxGap = maxGap
        self.pauseAfterConnect = pauseAfterConnect
        self.pauseBetweenRequests = pauseBetweenRequests
        self.description = description
        self.polls = polls
        self.location = location
    }
}

/// A set of points read together on one schedule.
public struct Poll: Hashable, Sendable {
    /// Unique within the device; written in every output line.
    public var name: String
    /// Time between cycle starts; zero runs cycles back to back.
    public var interval: Duration
    /// The points, in map order (the order of `values` in output).
    public var points: [Point]

    /// The interval used when a poll gives none.
    public static let defaultInterval = Duration.seconds(1)

    /// Creates a poll.
    public init(name: String, interval: Duration, points: [Point]) {
        self.name = name
        self.interval = interval
        self.points = points
    }
}

/// One named value of a device: where it lives and how to decode it.
public struct Point: Hashable, Sendable {
    /// Unique within the device; the key in output.
    public var name: String
    /// The table it lives in.
    public var table: Table
    /// Its first address (zero-based protocol address).
    public var address: Int
    /// How its registers become a value.
    public var decoding: PointDecoding
    /// Engineering unit label, written with the value in the points format.
    public var unit: String?
    /// Free text.
    public var description: String?
    /// Index (within the same poll) of the point whose raw value is this point's SunSpec scale factor.
    public var scaleFactor: Int?
    /// Where the point's block starts.
    public var location: SourceLocation

    /// Creates a point.
    public init(
        name: String, table: Table, address: Int, decoding: PointDecoding, unit: String? = nil,
        description: String? = nil, scaleFactor: Int? = nil, location: SourceLocation
    ) {
        self.name = name
        self.table = table
        self.address = address
        self.decoding = decoding
        self.unit = unit
        self.description = description
        self.scaleFactor = scaleFactor
        self.location = location
    }

    /// How many registers (or bits) the point spans.
    public var count: Int { table.holdsBits ? 1 : decoding.registerCount }

    /// One past its last address.
    public var end: Int { address + count }
}
