import ArgumentParser
import DeviceMaps
import Foundation
import JSONLines
import Logging
import ModbusProtocol
import ModbusTransport
import PollScheduling

extension Fieldpoll {
    /// `fieldpoll run [OPTIONS] MAP...`: poll until stopped, or for a number of cycles.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Poll every device of the maps on their schedules; one JSON object per line on stdout.",
            discussion: """
                Runs until SIGINT or SIGTERM (exit 0, after the line being written is complete) or \
                until stdout is closed (exit 0, quietly). With --once or --count the exit status is \
                1 when a device or a point could not be read in some cycle.

                Example: fieldpoll run --count 10 --format points device-maps/demo.yaml | jq .
                """)

        @Flag(help: "One cycle of every poll of every device, then exit.")
        var once = false

        @Option(help: ArgumentHelp("Run N cycles of every poll, then exit.", valueName: "N"))
        var count: Int?

        @Option(help: "Output shape: records (one line per poll and cycle) or points (one line per point).")
        var format: OutputFormat = .records

        @Option(help: "Lowest level of log lines on stderr: trace, debug, info, notice, warning, error, critical.")
        var logLevel: Logger.Level = .info

        @Option(name: .customLong("output-buffer"), help: .hidden)
        var outputBuffer: Int = 256 * 1024

        @OptionGroup var maps: MapFiles

        func validate() throws {
            if once, count != nil { throw ValidationError("--once and --count cannot be used together.") }
            if let count, count < 1 { throw ValidationError("--count must be at least 1.") }
        }

        func run() throws {
            let devices = try maps.load()
            let limit = once ? 1 : count
            let writer = LineWriter(descriptor: 1, capacity: max(outputBuffer, 1)) { Polling.shutdown.outputClosed() }
            try Polling.run(
                devices: devices, options: .init(count: limit, spreadStarts: limit == nil),
                sink: JSONLinesSink(format: format, writer: writer), writer: writer, logLevel: logLevel)
        }
    }
}

/// What `run`, `read` and `snapshot` share: the engine over libmodbus clients, signals, and
/// SPEC's exit statuses.
enum Polling {
    /// The one shutdown path of the process.
    static let shutdown = Shutdown()

    /// Polls `devices` until the count is reached or the process is told to stop, then throws
    /// the exit status: 0 when stopped early or running without a count; with a count, 1 when
    /// some device or point failed in some cycle.
    static func run(
        devices: [Device], options: PollEngine.Options, sink: any SampleSink, writer: LineWriter?, logLevel: Logger.Level
    ) throws -> Never {
        let engine = try makeEngine(devices: devices, options: options, sink: sink, logLevel: logLevel)
        shutdown.arm(engine: engine, writer: writer)
        Process.onTermination { _ in shutdown.terminate() }
        engine.run()
        writer?.finish()
        if shutdown.stoppedEarly || options.count == nil { throw ExitCode(ExitStatus.success) }
        throw ExitCode(engine.sawFailures ? ExitStatus.failure : ExitStatus.success)
    }

    /// The engine over libmodbus clients; exit status 1 when a client cannot be made.
    static func makeEngine(devices: [Device], options: PollEngine.Options, sink: any SampleSink, logLevel: Logger.Level) throws -> PollEngine {
        do {
            return try PollEngine(
                devices: devices, options: options,
                clientFactory: { endpoint, timeout throws(ModbusError) in
                    try ModbusTCPClient(endpoint: endpoint, connectTimeout: timeout)
                },
                sink: sink, logger: Logger.stderr(level: logLevel))
        } catch {
            Console.error("fieldpoll: \(error.message)")
            throw ExitCode(ExitStatus.failure)
        }
    }
}

extension OutputFormat: ExpressibleByArgument {}

/// Ends `run` promptly on SIGINT/SIGTERM or a closed stdout: stops the workers (a blocked read
/// is woken with `shutdown(2)`), lets the line being written complete, and exits 0 even if a
/// worker is still stuck in a connect after a grace period.
final class Shutdown: Sendable {
    private struct State {
        var engine: PollEngine?
        var writer: LineWriter?
        var stopping = false
    }

    private let state = Locked(State())

    /// How long stopped workers get before the process exits without them.
    static let grace = Duration.milliseconds(900)

    func arm(engine: PollEngine, writer: LineWriter?) {
        state.withLock {
            $0.engine = engine
            $0.writer = writer
        }
    }

    var stoppedEarly: Bool { state.withLock { $0.stopping } }

    /// SIGINT or SIGTERM.
    func terminate() { stop() }

    /// The reader of stdout went away.
    func outputClosed() { stop() }

    private func stop() {
        let (engine, writer, first) = state.withLock { state in
            defer { state.stopping = true }
            return (state.engine, state.writer, !state.stopping)
        }
        guard first, let engine else { return }
        engine.stop()
        let thread = Thread {
            if !engine.waitForWorkers(timeout: Shutdown.grace) {
                writer?.finish(timeout: .milliseconds(500))
                Foundation.exit(ExitStatus.success)
            }
        }
        thread.start()
    }
}
