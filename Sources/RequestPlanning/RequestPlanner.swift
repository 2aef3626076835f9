import DeviceMaps
import ModbusProtocol

/// Covers the points of a poll with the fewest read requests a device allows.
///
/// Per table, points are first grouped into segments that must share a read: points whose
/// registers overlap (several bits of one register, overlapping multi-register points) and a
/// point with its `scale_factor` point (with everything between them). Segments are then
/// partitioned, in address order, into reads by dynamic programming that minimises the number
/// of reads and, among plans with that number, the registers read; a read never exceeds the
/// table's limit (`max_registers` for registers, 2000 for bits) and never spans more than
/// `max_gap` unmapped addresses between two segments. On a line, a plan of reads over
/// consecutive segments is optimal, so the result is minimal. Every point is in exactly one
/// read. The result depends only on the points' addresses and sizes, never on their order in
/// the map; it costs O(segments × limit).
public enum RequestPlanner {
    /// An address interval to cover, with the points it stands for.
    public struct Item: Hashable, Sendable {
        /// The point's index in its poll.
        public let index: Int
        /// First address.
        public let start: Int
        /// One past the last address.
        public let end: Int
        /// Index of a point that must be read in the same request (a scale factor), if any.
        public let linkedTo: Int?

        /// Creates an item.
        public init(index: Int, start: Int, end: Int, linkedTo: Int? = nil) {
            self.index = index
            self.start = start
            self.end = end
            self.linkedTo = linkedTo
        }
    }

    /// The reads for one poll of a device.
    public static func plan(_ poll: Poll, maxRegisters: Int, maxGap: Int) -> [PlannedRead] {
        var byTable: [Table: [Item]] = [:]
        for (index, point) in poll.points.enumerated() {
            byTable[point.table, default: []].append(
                Item(index: index, start: point.address, end: point.end, linkedTo: point.scaleFactor))
        }
        return byTable.keys.sorted().flatMap { table in
            let limit = table.holdsBits ? table.maximumReadCount : min(maxRegisters, table.maximumReadCount)
            return plan(byTable[table]!, table: table, limit: limit, maxGap: maxGap)
        }
    }

    /// The reads covering `items` of one table.
    ///
    /// - Parameters:
    ///   - limit: most addresses one read may cover.
    ///   - maxGap: most uncovered addresses one read may span between two segments.
    public static func plan(_ items: [Item], table: Table, limit: Int, maxGap: Int) -> [PlannedRead] {
        let segments = segments(of: items, limit: limit)
        let count = segments.count
        guard count > 0 else { return [] }
        // best[j] = (reads, registers) to cover segments 0..<j; from[j] = first segment of the last read.
        var best = [(reads: Int, registers: Int)](repeating: (Int.max, Int.max), count: count + 1)
        var from = [Int](repeating: 0, count: count + 1)
        best[0] = (0, 0)
        for last in 0..<count {
            var end = segments[last].end
            var first = last
            while first >= 0 {
                if first < last {
                    // Gap between segment `first` and the run after it.
                    if segments[first + 1].start - segments[first].end > maxGap { break }
                    end = max(end, segments[first].end)
                }
                let span = end - segments[first].start
                // A lone segment is always read on its own, even one over the limit (the map
                // loader refuses such points; the request then fails before the wire).
                if span > limit, first < last { break }
                let previous = best[first]
                if previous.reads != Int.max {
                    let candidate = (reads: previous.reads + 1, registers: previous.registers + span)
                    let current = best[last + 1]
                    if candidate.reads < current.reads
                        || (candidate.reads == current.reads && candidate.registers < current.registers)
                    {
                        best[last + 1] = candidate
                        from[last + 1] = first
                    }
                }
                first -= 1
            }
            precondition(best[last + 1].reads != Int.max, "every segment fits one read on its own")
        }
        var reads: [PlannedRead] = []
        var last = count
        while last > 0 {
            let first = from[last]
            reads.append(PlannedRead(table: table, segments: Array(segments[first..<last])))
            last = first
        }
        return reads.reversed()
    }

    /// Groups items into segments that must share a read, sorted by start; a group that would
    /// exceed `limit` is cut into pieces that fit, in address order (its overlapping
    /// registers are then read twice).
    static func segments(of items: [Item], limit: Int) -> [PlannedRead.Segment] {
        guard !items.isEmpty else { return [] }
        let byIndex = Dictionary(items.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        // A point and its scale factor cover, together, everything between them.
        var reach: [Int: (start: Int, end: Int)] = [:]
        for item in items { reach[item.index] = (item.start, item.end) }
        for item in items {
            guard let other = item.linkedTo.flatMap({ byIndex[$0] }) else { continue }
            let start = min(item.start, other.start)
            let end = max(item.end, other.end)
            for index in [item.index, other.index] {
                let current = reach[index]!
                reach[index] = (min(current.start, start), max(current.end, end))
            }
        }
        let sorted = items.sorted { a, b in
            let ra = reach[a.index]!
            let rb = reach[b.index]!
            return (ra.start, ra.end, a.start, a.end, a.index) < (rb.start, rb.end, b.start, b.end, b.index)
        }
        var groups: [[Item]] = []
        var groupEnd = Int.min
        for item in sorted {
            let span = reach[item.index]!
            if span.start < groupEnd, !groups.isEmpty {
                groups[groups.count - 1].append(item)
                groupEnd = max(groupEnd, span.end)
            } else {
                groups.append([item])
                groupEnd = span.end
            }
        }
        var segments: [PlannedRead.Segment] = []
        for group in groups {
            let start = group.map(\.start).min()!
            let end = group.map(\.end).max()!
            if end - start <= limit {
                segments.append(segment(group))
                continue
            }
            // Too long to read at once: cut in address order into pieces that fit.
            var piece: [Item] = []
            var pieceStart = 0
            var pieceEnd = 0
            for item in group.sorted(by: { ($0.start, $0.end, $0.index) < ($1.start, $1.end, $1.index) }) {
                if !piece.isEmpty, max(pieceEnd, item.end) - pieceStart > limit {
                    segments.append(segment(piece))
                    piece = []
                }
                if piece.isEmpty {
                    pieceStart = item.start
                    pieceEnd = item.end
                }
                piece.append(item)
                pieceEnd = max(pieceEnd, item.end)
            }
            if !piece.isEmpty { segments.append(segment(piece)) }
        }
        return segments.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
    }

    private static func segment(_ items: [Item]) -> PlannedRead.Segment {
        let ordered = items.sorted { ($0.start, $0.end, $0.index) < ($1.start, $1.end, $1.index) }
        return PlannedRead.Segment(
            start: ordered.map(\.start).min()!, end: ordered.map(\.end).max()!, points: ordered.map(\.index))
    }
}
