import ArgumentParser
import DeviceMaps
import Foundation
import JSONLines
import Logging
import ModbusProtocol
import ModbusTransport
import PollScheduling

/// What `run`, `read` and `snapshot` share: the engine over libmodbus clients, signals, and
/// the exit statuses of the README.
enum Polling {
    /// The one shutdown path of the process.
    static let shutdown = Shutdown()

    /// Polls `devices` until the count is reached or the process is told to stop, then throws
    /// the exit status (``Shutdown/exitStatus(sawFailures:)``).
    ///
    /// - Parameter interrupted: the stderr line of a one-shot command (one with a count)
    ///   interrupted before it finished, given the lines produced and the lines expected.
    static func run(
        devices: [Device], options: PollEngine.Options, sink: any SampleSink, writer: LineWriter?, logLevel: Logger.Level,
        interrupted: @escaping @Sendable (_ emitted: Int, _ expected: Int) -> String
    ) throws -> Never {
        let engine = try makeEngine(devices: devices, options: options, sink: sink, logLevel: logLevel)
        shutdown.arm(engine: engine, writer: writer, interrupted: options.count == nil ? nil : interrupted)
        Process.onTermination { _ in shutdown.terminate() }
        engine.run()
        shutdown.finishOutput()
        throw ExitCode(shutdown.exitStatus(sawFailures: engine.sawFailures))
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

extension OutputFailure {
    /// What this failure of stdout means for the exit status, after naming it on stderr: a
    /// reader that went away ends the command quietly with 0, any other write error with 1.
    func exitStatus() -> Int32 {
        switch self {
        case .readerGone: return ExitStatus.success
        case .failed:
            Console.error("fieldpoll: \(message())")
            return ExitStatus.failure
        }
    }
}
