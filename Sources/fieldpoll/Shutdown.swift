import Foundation
import JSONLines
import ModbusProtocol
import PollScheduling

/// Ends polling promptly on SIGINT/SIGTERM or when stdout fails: stops the workers (a blocked
/// read is woken with `shutdown(2)`), lets the line being written complete, and exits even if
/// a worker is still stuck in a connect after a grace period.
///
/// The exit status (README, "Exit status"): a write error on stdout other than a reader that
/// went away is 1; a one-shot command (one with a count) interrupted by a signal is 1 with a
/// line saying how far it got; otherwise a signal or a reader that went away is 0.
final class Shutdown: Sendable {
    private struct State {
        var engine: PollEngine?
        var writer: LineWriter?
        var interrupted: (@Sendable (Int, Int) -> String)?
        var signalled = false
        var stopping = false
        var reported = false
    }

    private let state = Locked(State())

    /// How long stopped workers get before the process exits without them.
    static let grace = Duration.milliseconds(900)
    /// How long the lines already queued get to reach a slow reader after a signal.
    static let flush = Duration.milliseconds(500)

    /// Connects the shutdown path to the running engine and its output.
    func arm(engine: PollEngine, writer: LineWriter?, interrupted: (@Sendable (Int, Int) -> String)?) {
        state.withLock {
            $0.engine = engine
            $0.writer = writer
            $0.interrupted = interrupted
        }
    }

    /// Whether a signal or the output stopped the work before it finished.
    var stoppedEarly: Bool { state.withLock { $0.stopping } }

    /// SIGINT or SIGTERM.
    func terminate() {
        state.withLock { $0.signalled = true }
        stop()
    }

    /// The writer stopped: the reader went away, or a write failed.
    func outputFailed(_ failure: OutputFailure) { stop() }

    /// Writes what the engine produced: everything after a normal end, or what fits in
    /// ``flush`` (whole lines only) after a signal.
    func finishOutput() {
        let (writer, signalled) = state.withLock { ($0.writer, $0.signalled) }
        guard let writer else { return }
        if signalled { writer.finish(within: Self.flush) } else { writer.finish() }
    }

    /// The exit status, after saying on stderr what ended the work early (once).
    func exitStatus(sawFailures: Bool) -> Int32 {
        let (engine, writer, interrupted, signalled, alreadyReported) = state.withLock { state in
            defer { state.reported = true }
            return (state.engine, state.writer, state.interrupted, state.signalled, state.reported)
        }
        if let failure = writer?.failure {
            return alreadyReported ? (failure == .readerGone ? ExitStatus.success : ExitStatus.failure) : failure.exitStatus()
        }
        if signalled {
            guard let interrupted, let engine else { return ExitStatus.success }
            if !alreadyReported { Console.error(interrupted(engine.linesEmitted, engine.linesExpected ?? 0)) }
            return ExitStatus.failure
        }
        return engine?.linesExpected != nil && sawFailures ? ExitStatus.failure : ExitStatus.success
    }

    private func stop() {
        let (engine, first) = state.withLock { state in
            defer { state.stopping = true }
            return (state.engine, !state.stopping)
        }
        guard first, let engine else { return }
        engine.stop()
        let thread = Thread { [self] in
            // After a signal this also releases workers waiting for room in a full buffer.
            finishOutput()
            if !engine.waitForWorkers(timeout: Shutdown.grace) {
                Foundation.exit(exitStatus(sawFailures: engine.sawFailures))
            }
        }
        thread.start()
    }
}
