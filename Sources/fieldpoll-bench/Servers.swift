import Foundation
import Glibc
import TestSupport

/// Where the programs the bench runs are: ours next to the bench binary (one `swift build -c
/// release`), the peers on `PATH` or where the Makefile put them.
enum Programs {
    static let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path

    static var fieldpoll: String { "\(directory)/fieldpoll" }
    static var readLoop: String { "\(directory)/bench-read-loop" }
    static var cServer: String { "\(directory)/bench-modbus-server" }

    /// mbpoll (Debian), or `nil` when it is not installed.
    static var mbpoll: String? { Paths.executableExists("mbpoll") ? Paths.resolve("mbpoll") : nil }

    /// modpoll (PyPI): `$FIELDPOLL_MODPOLL`, set by `make bench` to its venv, or `PATH`.
    static var modpoll: String? {
        let name = ProcessInfo.processInfo.environment["FIELDPOLL_MODPOLL"] ?? "modpoll"
        return Paths.executableExists(name) ? Paths.resolve(name) : nil
    }
}

/// A scratch folder for maps, fixtures and outputs, removed at the end.
final class Scratch {
    let path: String

    init() {
        path = Paths.temporaryDirectory().path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` in the folder and returns its path.
    func write(_ name: String, _ text: String) throws -> String {
        let file = "\(path)/\(name)"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }
}

/// A server process the bench polls: `fieldpoll simulate` or the minimal C server.
final class ServerProcess {
    let name: String
    let process: Subprocess
    let ports: [Int]
    let log: String

    /// `fieldpoll simulate` on `listenCount` free ports of 127.0.0.1, serving `fixture`.
    static func simulator(fixture: String, listenCount: Int = 1, latency: String? = nil, scratch: Scratch, tag: String = "sim") throws -> ServerProcess {
        let log = scratch.file("\(tag).log")
        let listen = Array(repeating: ["--listen", "127.0.0.1:0"], count: listenCount).flatMap { $0 }
        let process = try Subprocess(
            Programs.fieldpoll, ["simulate", "--freeze"] + listen + (latency.map { ["--latency", $0] } ?? []) + [fixture], stderr: log)
        let lines = Subprocess.waitForLines(in: log, containing: "listening on", count: listenCount)
        let ports = lines.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }.flatMap { Int($0.split(separator: ":")[1]) }
        }
        guard ports.count == listenCount else {
            process.signal(SIGKILL)
            throw BenchFailure("the simulator did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        return ServerProcess(name: "fieldpoll simulate", process: process, ports: ports, log: log)
    }

    /// The minimal C libmodbus server on a free port of 127.0.0.1.
    static func cServer(scratch: Scratch) throws -> ServerProcess {
        let log = scratch.file("c-server.log")
        let process = try Subprocess(Programs.cServer, ["0"], stderr: log)
        guard let line = Subprocess.waitForLines(in: log, containing: "listening on").first,
            let port = line.split(separator: ":").last.flatMap({ Int($0) })
        else {
            process.signal(SIGKILL)
            throw BenchFailure("the C server did not start")
        }
        return ServerProcess(name: "C libmodbus server", process: process, ports: [port], log: log)
    }

    private init(name: String, process: Subprocess, ports: [Int], log: String) {
        self.name = name
        self.process = process
        self.ports = ports
        self.log = log
    }

    var port: Int { ports[0] }

    /// The C server's "served N requests from T0 to T1" lines so far.
    func servedConnections() -> [(requests: Int, first: Double, last: Double)] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            // served N requests from T0 to T1
            guard words.count == 7, words[0] == "served", let count = Int(words[1]), let first = Double(words[4]),
                let last = Double(words[6])
            else { return nil }
            return (count, first, last)
        }
    }

    /// Requests the C server answered since `previous` connections, and the time from the
    /// first of them to the last reply.
    func served(since previous: Int) -> (requests: Int, seconds: Double) {
        let connections = servedConnections().dropFirst(previous)
        guard let first = connections.map(\.first).min(), let last = connections.map(\.last).max() else { return (0, 0) }
        return (connections.reduce(0) { $0 + $1.requests }, last - first)
    }

    /// Waits (bounded) until the C server has logged more than `previous` connections.
    func waitForConnections(moreThan previous: Int, timeout: Duration = .seconds(5)) {
        let deadline = ContinuousClock.now + timeout
        while servedConnections().count <= previous, ContinuousClock.now < deadline { usleep(5_000) }
    }

    func stop() {
        process.signal(SIGTERM)
        process.wait(timeout: .seconds(10))
    }
}
