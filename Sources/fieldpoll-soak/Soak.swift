import DeviceSimulation
import Foundation
import Glibc
import TestSupport

/// `make soak MINUTES=N`: `fieldpoll run` polls 100 devices for N minutes — 50 on a
/// `fieldpoll simulate` process (restarted once, an outage), 50 on fault servers that switch
/// random faults on and off — then reports lines by kind, cycles accounted for against the
/// schedule, RSS and open descriptors of the poller at start and end.
///
/// It exits 1 when a cycle is unaccounted for (a line's cycle index, counting `missed`,
/// disagrees with its time), a value differs from the device's, RSS grew by more than 10 %, or
/// descriptors leaked. Start figures are taken after a fault-free warm-up, end figures after a
/// fault-free cool-down in which every device delivers data again, so both are comparable.
@main
enum Soak {
    static let simulatorEndpoints = 5
    static let unitsPerSimulatorEndpoint = 10
    static let faultServers = 10
    static let unitsPerFaultServer = 5
    static let points = 10
    static let interval: Int64 = 1000

    /// Register i of unit u holds u × 100 + i, on every device.
    static func fixture(units: ClosedRange<Int>) -> String {
        let entries = units.map { unit in
            "\"\(unit)\": {\"holding\": {\"0\": [\((0..<points).map { String(unit * 100 + $0) }.joined(separator: ","))]}}"
        }
        return "{\"units\": {\(entries.joined(separator: ", "))}}"
    }

    static func map(name: String, port: Int, unit: Int) -> String {
        """
        device: {name: \(name), host: 127.0.0.1, port: \(port), unit: \(unit), timeout: 500ms}
        polls:
          - name: p
            interval: 1s
            points:
        \((0..<points).map { "      - {name: r\($0), table: holding, address: \($0), type: uint16}" }.joined(separator: "\n"))
        """
    }

    static let faults: [FaultServer.Fault] = [
        .silent, .drip(.milliseconds(100)), .garbage, .shortFrame, .wrongTransaction, .wrongUnit, .wrongFunction,
        .wrongProtocol, .wrongByteCount, .lyingLength(3), .lyingLength(-2), .oversize, .duplicate, .resetMidFrame, .close,
        .exception(2), .exception(4), .exception(6), .exception(11),
    ]

    static func main() {
        let minutes = Double(ProcessInfo.processInfo.environment["MINUTES"] ?? CommandLine.arguments.dropFirst().first ?? "10") ?? 10
        let total = minutes * 60
        let warmUp = min(60, max(10, total * 0.1))
        let coolDown = min(60, max(15, total * 0.1))
        do {
            exit(try run(total: total, warmUp: warmUp, coolDown: coolDown) ? 0 : 1)
        } catch {
            print("soak: \(error)")
            exit(1)
        }
    }

    static func run(total: Double, warmUp: Double, coolDown: Double) throws -> Bool {
        let directory = Paths.temporaryDirectory()
        var random = SystemRandomNumberGenerator()

        // Half the devices on the simulator, 10 units on each of 5 ports.
        let simulatorFixture = directory.appendingPathComponent("simulated.json").path
        try fixture(units: 1...unitsPerSimulatorEndpoint).write(toFile: simulatorFixture, atomically: true, encoding: .utf8)
        var simulator = try startSimulator(fixture: simulatorFixture, ports: Array(repeating: 0, count: simulatorEndpoints))
        let simulatorPorts = simulator.ports

        // The other half on fault servers, 5 units each.
        let image = FixtureLoader.parse(fixture(units: 1...unitsPerFaultServer), file: "fault.json").fixture
        let servers = try (0..<faultServers).map { _ in try FaultServer(handler: RegisterImage(fixture: image, elapsedSeconds: { 0 })) }

        var maps: [String] = []
        for (index, port) in simulatorPorts.enumerated() {
            for unit in 1...unitsPerSimulatorEndpoint { maps.append(map(name: "sim\(index)-u\(unit)", port: port, unit: unit)) }
        }
        for (index, server) in servers.enumerated() {
            for unit in 1...unitsPerFaultServer { maps.append(map(name: "fault\(index)-u\(unit)", port: server.port, unit: unit)) }
        }
        let mapPaths = try maps.enumerated().map { index, text -> String in
            let path = directory.appendingPathComponent("device\(index).yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        print("soak: \(mapPaths.count) devices, \(Int(total)) s (warm-up \(Int(warmUp)) s, cool-down \(Int(coolDown)) s)")
        let poller = try ChildProcess(Paths.fieldpoll, ["run", "--log-level", "warning"] + mapPaths)
        let started = Date()
        func elapsed() -> Double { Date().timeIntervalSince(started) }

        Thread.sleep(forTimeInterval: warmUp)
        let rssStart = residentKilobytes(poller.pid)
        let fdsStart = openDescriptors(poller.pid)
        var peakRSS = rssStart

        // Faults on and off at random, one simulator outage in the middle.
        let faultPhaseEnd = total - coolDown
        var nextSwitch = [Double](repeating: elapsed(), count: servers.count)
        var outageDone = false
        while elapsed() < faultPhaseEnd {
            let now = elapsed()
            for (index, server) in servers.enumerated() where now >= nextSwitch[index] {
                if server.fault == .none, Int.random(in: 0..<3, using: &random) > 0 {
                    if Int.random(in: 0..<8, using: &random) == 0 {
                        server.refuseConnections(true)
                        server.fault = .close
                    } else if Int.random(in: 0..<8, using: &random) == 0 {
                        server.closeAfter(requests: 3)
                        server.fault = .none
                    } else {
                        server.fault = faults.randomElement(using: &random)!
                    }
                } else {
                    server.fault = .none
                    server.refuseConnections(false)
                    server.closeAfter(requests: nil)
                }
                nextSwitch[index] = now + Double.random(in: 3...8, using: &random)
            }
            if !outageDone, now > warmUp + (faultPhaseEnd - warmUp) / 2 {
                simulator.process.signal(SIGTERM)
                _ = simulator.process.waitForExit(timeout: .seconds(10))
                Thread.sleep(forTimeInterval: 5)
                simulator = try startSimulator(fixture: simulatorFixture, ports: simulatorPorts)
                outageDone = true
            }
            peakRSS = max(peakRSS, residentKilobytes(poller.pid))
            Thread.sleep(forTimeInterval: 0.5)
        }
        for server in servers {
            server.fault = .none
            server.refuseConnections(false)
            server.closeAfter(requests: nil)
        }
        Thread.sleep(forTimeInterval: coolDown)
        let rssEnd = residentKilobytes(poller.pid)
        let fdsEnd = openDescriptors(poller.pid)
        peakRSS = max(peakRSS, rssEnd)
        let stopped = elapsed()
        poller.signal(SIGTERM)
        let status = poller.waitForExit(timeout: .seconds(10))
        simulator.process.signal(SIGTERM)
        _ = simulator.process.waitForExit(timeout: .seconds(10))
        servers.forEach { $0.stop() }

        return report(
            output: poller.stdout, stderr: poller.stderr, status: status, duration: stopped,
            rss: (rssStart, rssEnd, peakRSS), fds: (fdsStart, fdsEnd), startedAt: started)
    }

    static func report(
        output: String, stderr: String, status: Int32?, duration: Double, rss: (Int, Int, Int), fds: (Int, Int), startedAt: Date
    ) -> Bool {
        struct PollState {
            var first: Int64 = 0
            var lines = 0
            var missed = 0
            var index: Int64 = -1
        }
        var polls: [String: PollState] = [:]
        var kinds: [String: Int] = [:]
        var wrongValues: [String] = []
        var unaccounted: [String] = []
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var lines = 0
        for line in output.split(separator: "\n") {
            lines += 1
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let device = object["device"] as? String, let time = (object["time"] as? String).flatMap(formatter.date)
            else {
                unaccounted.append("unreadable line: \(line.prefix(120))")
                continue
            }
            let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded())
            let missed = object["missed"] as? Int ?? 0
            var state = polls[device] ?? PollState(first: milliseconds)
            state.index += Int64(1 + missed)
            state.lines += 1
            state.missed += missed
            // Cycle k starts within [start + k·I, start + (k+1)·I): any two lines' times differ
            // from their index difference × I by less than one interval.
            let offset = (milliseconds - state.first) - state.index * interval
            if abs(offset) >= interval + 2 {
                unaccounted.append("\(device): line at \(object["time"]!) is cycle \(state.index) by its count, \(offset) ms off its slot")
            }
            polls[device] = state
            if let error = object["error"] as? [String: Any] {
                kinds["error:\(error["kind"] as? String ?? "?")", default: 0] += 1
            } else if let values = object["values"] as? [String: Any] {
                let errors = object["errors"] as? [String: [String: Any]] ?? [:]
                if errors.isEmpty { kinds["data", default: 0] += 1 }
                for kind in Set(errors.values.compactMap { $0["kind"] as? String }) { kinds["points:\(kind)", default: 0] += 1 }
                let unit = Int(device.split(separator: "u").last ?? "") ?? -1
                for (name, value) in values where errors[name] == nil {
                    let register = Int(name.dropFirst()) ?? -1
                    if (value as? Int) != unit * 100 + register { wrongValues.append("\(device).\(name) = \(value)") }
                }
            }
        }
        let stoppedMilliseconds = Int64((startedAt.timeIntervalSince1970 + duration) * 1000)
        var accounted = 0
        var expected = 0
        for (_, state) in polls {
            accounted += Int(state.index + 1)
            expected += Int((stoppedMilliseconds - state.first) / interval) + 1
        }
        print("lines: \(lines) from \(polls.count) devices")
        for (kind, count) in kinds.sorted(by: { $0.key < $1.key }) { print("  \(kind): \(count)") }
        print("cycles accounted for (lines + missed): \(accounted); due by the stop: \(expected) (the difference is cycles in flight at the stop)")
        print("poller RSS: \(rss.0) KiB after warm-up, \(rss.1) KiB at the end, peak \(rss.2) KiB")
        print("poller open descriptors: \(fds.0) after warm-up, \(fds.1) at the end")
        print("poller exit status after SIGTERM: \(status.map(String.init) ?? "did not exit")")
        let stderrLines = stderr.split(separator: "\n")
        print("poller log lines (warning and above): \(stderrLines.count)")
        var ok = true
        if !unaccounted.isEmpty {
            ok = false
            print("FAIL: \(unaccounted.count) cycles unaccounted for, e.g. \(unaccounted.prefix(3))")
        }
        if !wrongValues.isEmpty {
            ok = false
            print("FAIL: \(wrongValues.count) wrong values, e.g. \(wrongValues.prefix(3))")
        }
        if polls.count != simulatorEndpoints * unitsPerSimulatorEndpoint + faultServers * unitsPerFaultServer {
            ok = false
            print("FAIL: only \(polls.count) devices produced lines")
        }
        if expected - accounted > polls.count * 2 {
            ok = false
            print("FAIL: \(expected - accounted) cycles due before the stop have no line")
        }
        if Double(rss.1) > Double(rss.0) * 1.10 {
            ok = false
            print("FAIL: RSS grew by more than 10 %")
        }
        if fds.1 > fds.0 {
            ok = false
            print("FAIL: descriptors leaked")
        }
        if status != 0 {
            ok = false
            print("FAIL: the poller did not exit 0 on SIGTERM")
        }
        print(ok ? "soak: PASS" : "soak: FAIL")
        return ok
    }

    struct Simulator {
        let process: ChildProcess
        let ports: [Int]
    }

    static func startSimulator(fixture: String, ports: [Int]) throws -> Simulator {
        let arguments = ["simulate"] + ports.flatMap { ["--listen", "127.0.0.1:\($0)"] } + [fixture]
        let process = try ChildProcess(Paths.fieldpoll, arguments)
        var found: [Int] = []
        process.wait(for: .seconds(20)) { _, stderr in
            found = stderr.split(separator: "\n").filter { $0.contains("listening on") }.compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }.flatMap { Int($0.split(separator: ":")[1]) }
            }
            return found.count == ports.count
        }
        guard found.count == ports.count else { throw TestFailure("the simulator did not start: \(process.stderr)") }
        return Simulator(process: process, ports: found)
    }

    static func residentKilobytes(_ pid: Int32) -> Int {
        guard let data = FileHandle(forReadingAtPath: "/proc/\(pid)/status")?.readDataToEndOfFile() else { return 0 }
        let status = String(decoding: data, as: UTF8.self)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }
}
