import ModbusProtocol

/// One read request of a poll: a table, a range of addresses, and the points it serves.
///
/// The range is made of ``Segment``s: groups of points that must be read together (points
/// sharing registers, a point and its SunSpec scale factor). Adaptive splitting cuts a read
/// only between segments.
public struct PlannedRead: Hashable, Sendable {
    /// A group of points read together, and the addresses they cover.
    public struct Segment: Hashable, Sendable {
        /// First address.
        public let start: Int
        /// One past the last address.
        public let end: Int
        /// Indices of the points (in their poll), by address.
        public let points: [Int]

        /// Creates a segment.
        public init(start: Int, end: Int, points: [Int]) {
            self.start = start
            self.end = end
            self.points = points
        }
    }

    /// The table read.
    public let table: Table
    /// The segments, by address.
    public let segments: [Segment]
    /// First address read.
    public let start: Int
    /// One past the last address read.
    public let end: Int
    /// Indices of every point served, by address.
    ///
    /// Stored, like ``start`` and ``end``, because the poller asks for them on every cycle.
    public let points: [Int]

    /// Creates a read covering `segments` (at least one, sorted by start).
    public init(table: Table, segments: [Segment]) {
        precondition(!segments.isEmpty, "a read serves at least one segment")
        self.table = table
        self.segments = segments
        start = segments[0].start
        end = segments.reduce(0) { max($0, $1.end) }
        points = segments.flatMap(\.points)
    }

    /// Registers (or bits) read.
    public var count: Int { end - start }

    /// The request to send to `unit`.
    public func request(unit: UnitID) throws(ReadRequest.Invalid) -> ReadRequest {
        try ReadRequest(unit: unit, table: table, start: start, count: count)
    }

    /// The two halves of this read, split between segments, each reading only its own
    /// segments' range; `nil` for a read of a single segment.
    public func bisected() -> (PlannedRead, PlannedRead)? {
        guard segments.count > 1 else { return nil }
        let middle = segments.count / 2
        return (
            PlannedRead(table: table, segments: Array(segments[..<middle])),
            PlannedRead(table: table, segments: Array(segments[middle...]))
        )
    }
}
