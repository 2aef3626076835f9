/// Exponential backoff with jitter for reconnecting to an endpoint.
///
/// The first retry comes after about one poll interval (the endpoint's shortest, at least
/// ``minimumInitial``), each next wait doubles, and no wait exceeds ``cap`` (30 s, or the
/// interval when that is longer). Each wait is multiplied by a random factor in 0.8...1.2 (then
/// capped) so that endpoints that failed together do not retry in lockstep.
public struct Backoff: Sendable {
    /// The shortest first wait (for `interval: 0` polls).
    public static let minimumInitial = Duration.milliseconds(100)
    /// The longest wait, unless the poll interval is longer.
    public static let defaultCap = Duration.seconds(30)

    /// The first wait.
    public let initial: Duration
    /// The longest wait.
    public let cap: Duration
    /// Failures since the last success.
    public private(set) var failures = 0

    /// Creates a backoff for an endpoint whose shortest poll interval is `interval`.
    public init(interval: Duration) {
        initial = max(interval, Self.minimumInitial)
        cap = max(Self.defaultCap, initial)
    }

    /// Records a failure and returns how long to wait before the next attempt.
    ///
    /// - Parameter jitter: a factor in 0.8...1.2 (random in production, fixed in tests).
    public mutating func failed(jitter: Double) -> Duration {
        let doublings = min(failures, 30)
        failures += 1
        let base = Double(initial.nanoseconds) * Double(1 << doublings)
        let jittered = base * min(max(jitter, 0.8), 1.2)
        return .nanoseconds(Int64(min(jittered, Double(cap.nanoseconds))))
    }

    /// Records a success.
    public mutating func succeeded() {
        failures = 0
    }
}
