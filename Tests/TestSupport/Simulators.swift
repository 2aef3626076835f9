import DeviceMaps
import DeviceSimulation
import Foundation
import ModbusProtocol
import ModbusTransport

/// `fieldpoll simulate` started as a child process on 127.0.0.1, on a port the OS picks.
public final class SimulatorProcess: @unchecked Sendable {
    /// The child process.
    public let child: ChildProcess
    /// The port it listens on.
    public let port: Int

    /// Starts the simulator on `fixtures` (paths) and waits until it listens.
    public init(fixtures: [String], extraArguments: [String] = []) throws {
        child = try ChildProcess(Paths.fieldpoll, ["simulate", "--listen", "127.0.0.1:0"] + extraArguments + fixtures)
        guard let line = child.waitForStderrLine(containing: "listening on"),
            let port = line.split(separator: ":").last.flatMap({ Int($0.split(separator: " ").first ?? "") })
        else {
            child.signal(SIGKILL)
            throw TestFailure("the simulator did not start: \(child.stderr)")
        }
        self.port = port
    }

    /// Stops it (SIGTERM) and returns its exit status.
    @discardableResult
    public func stop() -> Int32? {
        child.signal(SIGTERM)
        return child.waitForExit(timeout: .seconds(10))
    }

    deinit {
        if !child.hasExited { child.signal(SIGKILL) }
    }
}

/// A simulator running inside the test process, serving a fixture on 127.0.0.1:0.
public final class InProcessSimulator: @unchecked Sendable {
    /// The server.
    public let server: ModbusTCPServer
    /// Its endpoint.
    public var endpoint: Endpoint { server.endpoint }

    /// Serves `fixture` (values frozen at their start unless `elapsed` says otherwise).
    public init(fixture: Fixture, latency: Duration = .zero, elapsed: @escaping @Sendable () -> Double = { 0 }) throws {
        server = try ModbusTCPServer(
            listeningOn: Endpoint(host: "127.0.0.1", port: 0), handler: RegisterImage(fixture: fixture, elapsedSeconds: elapsed),
            latency: latency)
        server.start()
    }

    /// Serves the fixture text (JSON or YAML).
    public convenience init(fixtureText: String, latency: Duration = .zero) throws {
        let loaded = FixtureLoader.parse(fixtureText, file: "inline.json")
        guard loaded.diagnostics.isEmpty else { throw TestFailure("bad fixture: \(loaded.diagnostics)") }
        try self.init(fixture: loaded.fixture, latency: latency)
    }

    deinit {
        server.stop()
    }
}

/// A test precondition that did not hold.
public struct TestFailure: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    /// Creates a failure.
    public init(_ description: String) {
        self.description = description
    }
}

/// The ``ModbusError`` `body` throws, or `nil` when it returns (any other error is a test failure).
public func modbusError<T>(_ body: () throws -> T) -> ModbusError? {
    do {
        _ = try body()
        return nil
    } catch let error as ModbusError {
        return error
    } catch {
        return ModbusError(.invalidRequest, "unexpected error \(error)")
    }
}
