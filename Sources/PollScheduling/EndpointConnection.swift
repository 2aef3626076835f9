import Logging
import ModbusProtocol

/// The connection to one endpoint as the poll loop sees it: when to connect, how long to back
/// off, and the log lines of its changes of state.
///
/// An endpoint counts as up only once it has answered a request (values or a Modbus
/// exception): a gateway that accepts TCP connections while the device behind it is off, or
/// a device that accepts and closes, is still down, and the ``Backoff`` keeps doubling.
/// The log says one line per change of state (up, down, up again), never one per cycle.
///
/// Polls due together form a round; a round makes at most one connection attempt, and once
/// the connection failed in a round, the round's other polls report that failure at once
/// instead of paying another timeout.
final class EndpointConnection {
    let endpoint: Endpoint
    private let client: any ModbusClient
    private let clock: any EngineClock
    private let logger: Logger
    private let jitter: @Sendable () -> Double
    private let wake: WakeSignal
    private let pauseAfterConnect: Duration

    private var backoff: Backoff
    private var nextAttempt: MonotonicInstant?
    private var lastFailure: PointFailure?
    private var state = State.starting
    private var roundStart = MonotonicInstant(nanoseconds: 0)
    private var failedThisRound = false
    private var finalRound = false

    private enum State {
        /// No request has been answered yet.
        case starting
        /// The last request was answered.
        case up
        /// Failing since then.
        case down(since: MonotonicInstant)
    }

    init(
        endpoint: Endpoint, client: any ModbusClient, shortestInterval: Duration, pauseAfterConnect: Duration,
        clock: any EngineClock, logger: Logger, jitter: @escaping @Sendable () -> Double, wake: WakeSignal
    ) {
        self.endpoint = endpoint
        self.client = client
        self.clock = clock
        self.logger = logger
        self.jitter = jitter
        self.wake = wake
        self.pauseAfterConnect = pauseAfterConnect
        self.backoff = Backoff(interval: shortestInterval)
    }

    /// Starts a round of polls due together; backoff waits count from its start, so the first
    /// retry comes at the first cycle one backoff after the failed one, however long the
    /// failure took.
    ///
    /// - Parameter final: whether no round follows (a one-shot run's last), so nothing is
    ///   announced as retried.
    func beginRound(final: Bool) {
        roundStart = clock.now()
        failedThisRound = false
        finalRound = final
    }

    /// Connects when needed and allowed.
    ///
    /// - Returns: the failure to report when there is no connection.
    func ensureConnected(stopped: () -> Bool) -> PointFailure? {
        if client.isConnected { return nil }
        if failedThisRound, let lastFailure { return lastFailure }
        if let nextAttempt, clock.now() < nextAttempt, let lastFailure { return lastFailure }
        do {
            try client.connect()
        } catch {
            failed(error, stopped: stopped())
            return lastFailure
        }
        logger.debug("TCP connection to \(endpoint) open")
        if pauseAfterConnect > .zero {
            clock.wait(until: clock.now() + pauseAfterConnect, wake: wake)
        }
        return nil
    }

    /// A request was answered (with values or a Modbus exception): the endpoint is up.
    func answered() {
        switch state {
        case .up: return
        case .starting:
            logger.info("connected to \(endpoint)")
        case .down(let since):
            let failures = backoff.failures
            logger.info("reconnected to \(endpoint) after \((clock.now() - since).text) (\(failures) failed \(failures == 1 ? "attempt" : "attempts"))")
        }
        state = .up
        backoff.succeeded()
        nextAttempt = nil
        lastFailure = nil
    }

    /// A connect or a request failed in a way that needs a new connection: close, back off.
    func failed(_ error: ModbusError, stopped: Bool) {
        client.close()
        failedThisRound = true
        lastFailure = PointFailure(error)
        if stopped { return }
        let wait = backoff.failed(jitter: jitter())
        nextAttempt = roundStart + wait
        let retry = finalRound ? "" : "; retrying in \(wait.text)"
        switch state {
        case .up:
            logger.warning("lost connection to \(endpoint): \(error.message)\(retry)")
            state = .down(since: clock.now())
        case .starting:
            logger.warning("\(error.message)\(finalRound ? "" : "\(retry), backing off up to \(backoff.cap.text)")")
            state = .down(since: clock.now())
        case .down:
            logger.debug("still cannot reach \(endpoint): \(error.message)\(finalRound ? "" : "; next attempt in \(wait.text)")")
        }
    }

    /// Closes the connection.
    func close() {
        client.close()
    }
}
