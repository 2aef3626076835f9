import Foundation
import Glibc

/// Row 4 of `make bench`: `fieldpoll run --count 20000 > /dev/null` on one device with one
/// poll of 10 holding registers at `interval: 0`, against libmodbus's own client calling
/// `modbus_read_registers` in a C loop on the same server, the two alternating.
enum LimitBenchmark {
    static let requests = 20_000
    static let registers = 10

    /// 100 holding registers, register i holding i.
    static let fixture = "{\"units\": {\"1\": {\"holding\": {\"0\": [\((0..<100).map(String.init).joined(separator: ","))]}}}}\n"

    static func map(port: Int) -> String {
        """
        device: {name: bench, host: 127.0.0.1, port: \(port), unit: 1, timeout: 1s}
        polls:
          - name: registers
            interval: 0
            points:
        \((0..<registers).map { "      - {name: r\($0), table: holding, address: \($0), type: uint16}" }.joined(separator: "\n"))

        """
    }

    /// One program's run: whole-process figures, and the server's view when it can tell.
    struct Run {
        let exit: Subprocess.Exit
        /// Requests per second over the whole process, start-up included.
        var rate: Double { Double(LimitBenchmark.requests) / exit.wallSeconds }
        /// CPU time per request, µs.
        var cpuPerRequest: Double { exit.cpuSeconds / Double(LimitBenchmark.requests) * 1e6 }
        /// Requests per second from the first request to the last reply, as the C server saw them.
        let steadyRate: Double?
    }

    struct Result {
        let server: String
        let fieldpoll: [Run]
        let cLoop: [Run]

        /// fieldpoll's rate over the C loop's, pair by pair (each pair ran back to back).
        var ratio: Summary { Summary(zip(fieldpoll, cLoop).map { $0.rate / $1.rate }) }
        var steadyRatio: Summary? {
            let pairs = zip(fieldpoll, cLoop).compactMap { pair -> Double? in
                guard let ours = pair.0.steadyRate, let theirs = pair.1.steadyRate else { return nil }
                return ours / theirs
            }
            return pairs.isEmpty ? nil : Summary(pairs)
        }
    }

    static func run(server: ServerProcess, countsAtServer: Bool, runs: Int, scratch: Scratch) throws -> Result {
        let mapPath = try scratch.write("limit-\(server.port).yaml", map(port: server.port))

        func measured(_ executable: String, _ arguments: [String]) throws -> Run {
            let before = countsAtServer ? server.servedConnections().count : 0
            let process = try Subprocess(executable, arguments, stderr: scratch.file("limit.err"))
            let exit = process.wait(timeout: .seconds(120))
            guard exit.status == 0 else {
                let log = (try? String(contentsOfFile: scratch.file("limit.err"), encoding: .utf8)) ?? ""
                throw BenchFailure("\(executable) \(arguments.joined(separator: " ")) exited \(exit.status): \(log.suffix(500))")
            }
            var steady: Double?
            if countsAtServer {
                server.waitForConnections(moreThan: before)
                let served = server.served(since: before)
                guard served.requests == requests else {
                    throw BenchFailure("the C server answered \(served.requests) requests of \(executable), not \(requests)")
                }
                steady = Double(served.requests - 1) / served.seconds
            }
            return Run(exit: exit, steadyRate: steady)
        }
        let ours = { try measured(Programs.fieldpoll, ["run", "--count", String(requests), mapPath]) }
        let theirs = { try measured(Programs.readLoop, ["127.0.0.1", String(server.port), String(requests), String(registers)]) }

        _ = try ours()
        _ = try theirs()
        var fieldpoll: [Run] = []
        var cLoop: [Run] = []
        for index in 0..<runs {
            // Alternate which goes first, so neither always runs on a machine the other warmed.
            if index % 2 == 0 {
                cLoop.append(try theirs())
                fieldpoll.append(try ours())
            } else {
                fieldpoll.append(try ours())
                cLoop.append(try theirs())
            }
        }
        return Result(server: server.name, fieldpoll: fieldpoll, cLoop: cLoop)
    }
}

/// Row 6, the part of row 4 peers can do: the same read of 10 holding registers as often as
/// each tool can be configured to send it, counted by the C server.
enum PeerLimitBenchmark {
    /// A peer's figures over its runs.
    struct Result {
        let tool: String
        let configuration: String
        /// Requests per second, as the server counted them.
        let rate: Summary
        /// CPU time per request, µs.
        let cpuPerRequest: Summary
        /// `nil` for a tool started once per read: it ends before its peak can be read.
        let peakRSSKiB: Summary?
    }

    /// A peer left running for `seconds`, then stopped with SIGINT; the C server counts what it sent.
    static func timed(
        tool: String, configuration: String, executable: String, arguments: [String], seconds: Double, runs: Int,
        server: ServerProcess, scratch: Scratch
    ) throws -> Result {
        func once() throws -> (rate: Double, cpu: Double, rss: Double) {
            let before = server.servedConnections().count
            let process = try Subprocess(executable, arguments, stderr: scratch.file("peer.err"))
            usleep(UInt32(seconds * 1e6))
            let peak = process.peakRSSKiB() ?? 0
            process.signal(SIGINT)
            let exit = process.wait(timeout: .seconds(20))
            server.waitForConnections(moreThan: before)
            let served = server.served(since: before)
            guard served.requests > 1 else {
                let log = (try? String(contentsOfFile: scratch.file("peer.err"), encoding: .utf8)) ?? ""
                throw BenchFailure("\(tool) sent \(served.requests) requests: \(log.suffix(500))")
            }
            return (Double(served.requests - 1) / served.seconds, exit.cpuSeconds / Double(served.requests) * 1e6, Double(peak))
        }
        _ = try once()
        let results = try (0..<runs).map { _ in try once() }
        return Result(
            tool: tool, configuration: configuration, rate: Summary(results.map(\.rate)),
            cpuPerRequest: Summary(results.map(\.cpu)), peakRSSKiB: Summary(results.map(\.rss)))
    }

    /// A peer started once per request, `count` times in a row, as a shell loop would.
    static func repeated(
        tool: String, configuration: String, executable: String, arguments: [String], count: Int, runs: Int,
        server: ServerProcess, scratch: Scratch
    ) throws -> Result {
        func once() throws -> (rate: Double, cpu: Double) {
            let before = server.servedConnections().count
            let start = ContinuousClock.now
            var cpu = 0.0
            for _ in 0..<count {
                let exit = try Subprocess(executable, arguments).wait(timeout: .seconds(20))
                guard exit.status == 0 else { throw BenchFailure("\(tool) exited \(exit.status)") }
                cpu += exit.cpuSeconds
            }
            let wall = (ContinuousClock.now - start).seconds
            server.waitForConnections(moreThan: before + count - 1)
            let served = server.served(since: before)
            guard served.requests == count else { throw BenchFailure("the C server answered \(served.requests) of \(count) \(tool) runs") }
            return (Double(count) / wall, cpu / Double(count) * 1e6)
        }
        _ = try once()
        let results = try (0..<runs).map { _ in try once() }
        return Result(
            tool: tool, configuration: configuration, rate: Summary(results.map(\.rate)),
            cpuPerRequest: Summary(results.map(\.cpu)), peakRSSKiB: nil)
    }

    /// modpoll's configuration for the same 10 registers (its CSV format).
    static let modpollConfig = """
        device,bench,1,,
        poll,holding_register,0,10,BE_BE
        \((0..<10).map { "ref,r\($0),\($0),uint16,r" }.joined(separator: "\n"))

        """
}
