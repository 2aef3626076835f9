import Dispatch
import Glibc
import ModbusProtocol

/// A point on the monotonic clock, in nanoseconds from an arbitrary origin.
public struct MonotonicInstant: Hashable, Comparable, Sendable {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: Int64

    /// Creates an instant.
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The instant `duration` later.
    public static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
    }

    /// The time from `rhs` to `lhs`.
    public static func - (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Duration {
        .nanoseconds(lhs.nanoseconds &- rhs.nanoseconds)
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }
}

/// The engine's view of time: a monotonic clock for schedules, a wall clock for timestamps,
/// and a way to wait that another thread can cut short.
///
/// The real clock is ``SystemClock``; tests use a manual clock whose waits return at once
/// with time advanced, so cadence and backoff are tested without sleeping.
public protocol EngineClock: AnyObject, Sendable {
    /// Now, on the monotonic clock.
    func now() -> MonotonicInstant
    /// Now, on the wall clock, in milliseconds since 1970-01-01T00:00:00Z.
    func wallMilliseconds() -> Int64
    /// Waits until `deadline` or until `wake` is signalled, whichever comes first.
    func wait(until deadline: MonotonicInstant, wake: WakeSignal)
}

/// A signal that cuts a wait short (used to stop workers promptly).
public final class WakeSignal: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)

    /// Creates a signal.
    public init() {}

    /// Wakes the current or next wait.
    public func signal() { semaphore.signal() }

    /// Waits until `deadline` (in `CLOCK_MONOTONIC` nanoseconds) or a signal.
    func wait(untilMonotonicNanoseconds deadline: Int64) {
        _ = semaphore.wait(timeout: DispatchTime(uptimeNanoseconds: UInt64(max(0, deadline))))
    }
}

/// The system's clocks: `CLOCK_MONOTONIC` and `CLOCK_REALTIME`.
public final class SystemClock: EngineClock {
    /// Creates the clock.
    public init() {}

    public func now() -> MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MonotonicInstant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }

    public func wallMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    public func wait(until deadline: MonotonicInstant, wake: WakeSignal) {
        // DispatchTime counts CLOCK_MONOTONIC nanoseconds on Linux.
        wake.wait(untilMonotonicNanoseconds: deadline.nanoseconds)
    }
}
