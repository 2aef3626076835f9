/// The fixed-rate schedule of one poll: cycle k is due at `start + k × interval`, whatever
/// time earlier cycles took, so there is no drift.
///
/// A cycle that cannot start before the next one is due (the previous one overran, or the
/// output was blocked) is skipped, never queued: ``take(at:)`` jumps to the latest due cycle and
/// reports how many were skipped.
public struct CycleSchedule: Hashable, Sendable {
    /// When cycle 0 is due.
    public let start: MonotonicInstant
    /// Time between cycle starts; zero runs cycles back to back.
    public let interval: Duration
    /// The next cycle to run.
    public private(set) var next: Int64 = 0

    /// Creates a schedule.
    public init(start: MonotonicInstant, interval: Duration) {
        self.start = start
        self.interval = interval
    }

    /// When the next cycle is due.
    public var nextDue: MonotonicInstant {
        interval == .zero && next > 0 ? start : MonotonicInstant(nanoseconds: start.nanoseconds &+ next &* interval.nanoseconds)
    }

    /// The due time of cycle `cycle`.
    public func due(_ cycle: Int64) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: start.nanoseconds &+ cycle &* interval.nanoseconds)
    }

    /// Starts the next cycle at `now`, if it is due.
    ///
    /// - Returns: the cycle to run, when it was due, and how many cycles before it were
    ///   skipped because their slot had passed; `nil` when no cycle is due yet.
    public mutating func take(at now: MonotonicInstant) -> (cycle: Int64, due: MonotonicInstant, missed: Int)? {
        let step = interval.nanoseconds
        guard step > 0 else {
            defer { next += 1 }
            return (next, now, 0)
        }
        guard now >= nextDue else { return nil }
        let latest = (now.nanoseconds &- start.nanoseconds) / step
        let missed = Int(latest - next)
        next = latest + 1
        return (latest, due(latest), missed)
    }
}
