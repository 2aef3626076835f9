import Foundation
import Glibc

/// A pymodbus server (PyPI, in the venv `make test` creates) serving a raw SPEC fixture.
public final class PymodbusServer: @unchecked Sendable {
    /// The child process.
    public let child: ChildProcess
    /// The port it listens on.
    public let port: Int

    /// Starts the server; fails (never skips) when the venv or pymodbus is missing.
    public init(fixture: String) throws {
        let python = Paths.venvPython
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("pymodbus venv missing at \(python): run `make test`, which creates it (pip must reach PyPI)")
        }
        child = try ChildProcess(python, [Paths.inPackage("Tests/Peers/pymodbus_server.py"), fixture])
        var port: Int?
        child.wait(for: .seconds(30)) { stdout, _ in
            port = stdout.split(separator: "\n").first { $0.hasPrefix("listening on") }
                .flatMap { $0.split(separator: ":").last }.flatMap { Int($0) }
            return port != nil
        }
        guard let port else {
            child.signal(SIGKILL)
            throw TestFailure("pymodbus did not start: \(child.stderr)")
        }
        self.port = port
    }

    deinit {
        child.signal(SIGKILL)
        _ = child.waitForExit(timeout: .seconds(5))
    }
}
