import Foundation
import Glibc
import RegisterDecoding

/// Row 5 of `make bench`: 1,000 devices × 50 points at 1 s for a minute, against simulators
/// answering each request after 5 ms, as `fieldpoll run` is used as a sidecar (no `--count`,
/// start times spread, stopped with SIGTERM).
///
/// Each device is its own endpoint (127.0.0.1, a port of its own), so the poller holds 1,000
/// connections on 1,000 threads: the most one process can hold under libmodbus's `select()`
/// limit of 1024 descriptors. Four simulator processes serve 250 ports each, so none of them
/// comes near that limit either.
enum FleetBenchmark {
    static let devices = 1000
    static let simulators = 4
    static let points = 50

    /// The registers of one device: 20 uint16, 10 int16 scaled by 0.1, 10 float32 CDAB, 5 bits
    /// of one register, 4 int32 CDAB and a 4-register string: 63 registers, one request.
    static func registers() -> [UInt16] {
        var words: [UInt16] = []
        for index in 0..<20 { words.append(UInt16(1000 + index)) }
        for index in 0..<10 { words += RegisterEncoding.encode(.integer(Int64(700 + index)), as: .int16)! }
        for index in 0..<10 { words += RegisterEncoding.encode(.real(230.1 + Double(index)), as: .float32, order: .cdab)! }
        words.append(0b10110)
        for index in 0..<4 { words += RegisterEncoding.encode(.integer(-100_000 - Int64(index)), as: .int32, order: .cdab)! }
        words += RegisterEncoding.encode(text: "SDM72D", length: 4)!
        return words
    }

    static var fixture: String {
        "{\"units\": {\"1\": {\"holding\": {\"0\": [\(registers().map(String.init).joined(separator: ","))]}}}}\n"
    }

    /// One of a device's points, as both fieldpoll's map and modpoll's CSV name it.
    struct Point {
        let name: String
        let address: Int
        let type: String
        var bit: Int? = nil
        var order: String? = nil
        var length: Int? = nil
        var scale: String? = nil
        var unit: String? = nil

        /// The point in a fieldpoll map.
        var yaml: String {
            var keys = ["name: \(name)", "table: holding", "address: \(address)", "type: \(type)"]
            if let bit { keys.append("bit: \(bit)") }
            if let order { keys.append("order: \(order)") }
            if let length { keys.append("length: \(length)") }
            if let scale { keys.append("scale: \(scale)") }
            if let unit { keys.append("unit: \"\(unit)\"") }
            return "{\(keys.joined(separator: ", "))}"
        }

        /// The point as a modpoll `ref` row: name, address (`50:3` for a bit), type, rw, unit, scale.
        var csv: String {
            let address = bit.map { "\(self.address):\($0)" } ?? String(self.address)
            let type = length.map { "string\($0 * 2)" } ?? self.type
            return ["ref", name, address, type, "r", unit ?? "", scale ?? ""].joined(separator: ",")
        }
    }

    static let devicePoints: [Point] =
        (0..<20).map { Point(name: "count_\($0)", address: $0, type: "uint16") }
        + (0..<10).map { Point(name: "temperature_\($0)", address: 20 + $0, type: "int16", scale: "0.1", unit: "°C") }
        + (0..<10).map { Point(name: "voltage_\($0)", address: 30 + 2 * $0, type: "float32", order: "CDAB", unit: "V") }
        + (0..<5).map { (bit: Int) in Point(name: "alarm_\(bit)", address: 50, type: "bool", bit: bit) }
        + (0..<4).map { Point(name: "offset_\($0)", address: 51 + 2 * $0, type: "int32", order: "CDAB") }
        + [Point(name: "model", address: 59, type: "string", length: 4)]

    static func map(ports: [Int]) -> String {
        var lines = ["devices:"]
        for (index, port) in ports.enumerated() {
            lines.append("  - {name: meter-\(String(format: "%04d", index)), host: 127.0.0.1, port: \(port), unit: 1, timeout: 1s}")
        }
        lines += ["polls:", "  - name: power", "    interval: 1s", "    points:"]
        lines += devicePoints.map { "      - \($0.yaml)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One run's figures.
    struct Run {
        let exit: Subprocess.Exit
        let peakRSSKiB: Int
        let seconds: Double
        let lines: Int
        let errorLines: Int
        let pointsDelivered: Int
        let missed: Int
        /// Cycles due while polling: devices × whole seconds run.
        let due: Int

        var cpuPerPoint: Double { exit.cpuSeconds / Double(max(pointsDelivered, 1)) * 1e6 }
        var peakRSSMiB: Double { Double(peakRSSKiB) / 1024 }
        /// CPU time as a share of one core, over the run.
        var coreShare: Double { exit.cpuSeconds / exit.wallSeconds }
    }

    struct Result {
        let runs: [Run]
        var cpuPerPoint: Summary { Summary(runs.map(\.cpuPerPoint)) }
        var peakRSSMiB: Summary { Summary(runs.map(\.peakRSSMiB)) }
        var missed: Summary { Summary(runs.map { Double($0.missed) }) }
        var coreShare: Summary { Summary(runs.map(\.coreShare)) }
    }

    static func run(seconds: Double, warmUpSeconds: Double, runs: Int, scratch: Scratch) throws -> Result {
        let fixturePath = try scratch.write("fleet.json", fixture)
        let servers = try (0..<simulators).map { index in
            try ServerProcess.simulator(
                fixture: fixturePath, listenCount: devices / simulators, latency: "5ms", scratch: scratch, tag: "fleet-sim\(index)")
        }
        defer { servers.forEach { $0.stop() } }
        let mapPath = try scratch.write("fleet.yaml", map(ports: servers.flatMap(\.ports)))
        _ = try once(map: mapPath, seconds: warmUpSeconds, scratch: scratch)
        return Result(runs: try (0..<runs).map { _ in try once(map: mapPath, seconds: seconds, scratch: scratch) })
    }

    static func once(map: String, seconds: Double, scratch: Scratch) throws -> Run {
        let output = scratch.file("fleet.jsonl")
        let log = scratch.file("fleet.err")
        let poller = try Subprocess(Programs.fieldpoll, ["run", "--log-level", "warning", map], stdout: output, stderr: log)
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            usleep(100_000)
            if kill(poller.pid, 0) != 0 { break }
        }
        let peak = poller.peakRSSKiB() ?? 0
        poller.signal(SIGTERM)
        let exit = poller.wait(timeout: .seconds(20))
        guard exit.status == 0 else {
            throw BenchFailure("fieldpoll run exited \(exit.status): \(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(500))")
        }
        let tally = try tallyLines(output)
        try? FileManager.default.removeItem(atPath: output)
        return Run(
            exit: exit, peakRSSKiB: peak, seconds: seconds, lines: tally.lines, errorLines: tally.errorLines, pointsDelivered: tally.points,
            missed: tally.missed, due: devices * Int(seconds))
    }

    /// Lines, lines with an error, values delivered (non-null, without an error) and the sum of
    /// `missed`, of a JSON Lines output in the records format.
    static func tallyLines(_ path: String) throws -> (lines: Int, errorLines: Int, points: Int, missed: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BenchFailure("no output at \(path)") }
        defer { try? handle.close() }
        let data = handle.readDataToEndOfFile()
        var lines = 0
        var errorLines = 0
        var points = 0
        var missed = 0
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                throw BenchFailure("a line that is not a JSON object: \(String(decoding: line.prefix(200), as: UTF8.self))")
            }
            lines += 1
            missed += object["missed"] as? Int ?? 0
            let errors = object["errors"] as? [String: Any] ?? [:]
            if object["error"] != nil || !errors.isEmpty { errorLines += 1 }
            if let values = object["values"] as? [String: Any] {
                points += values.filter { errors[$0.key] == nil && !($0.value is NSNull) }.count
            }
        }
        return (lines, errorLines, points, missed)
    }
}

/// Row 6, the part of row 5 modpoll can do. modpoll polls the devices of one process one
/// after another over one TCP endpoint (`--tcp HOST`), so the closest it comes is the same
/// 1,000 devices × 50 points as unit ids behind one simulated gateway with the same 5 ms
/// latency, at `--rate 1`.
enum PeerFleetBenchmark {
    struct Run {
        let exit: Subprocess.Exit
        let peakRSSKiB: Int
        /// Rounds modpoll completed (each polls every device once).
        let rounds: Int
        let pointsDelivered: Int
        let due: Int

        var devicePolls: Int { rounds * FleetBenchmark.devices }
        var cpuPerPoint: Double { exit.cpuSeconds / Double(max(pointsDelivered, 1)) * 1e6 }
        var peakRSSMiB: Double { Double(peakRSSKiB) / 1024 }
        var missed: Int { max(0, due - devicePolls) }
    }

    struct Result {
        let runs: [Run]
        var cpuPerPoint: Summary { Summary(runs.map(\.cpuPerPoint)) }
        var peakRSSMiB: Summary { Summary(runs.map(\.peakRSSMiB)) }
        var missed: Summary { Summary(runs.map { Double($0.missed) }) }
        var rounds: Summary { Summary(runs.map { Double($0.rounds) }) }
    }

    /// The same 50 points per device in modpoll's CSV: one poll of 63 registers, CDAB words
    /// (`BE_LE`: big-endian bytes, little-endian words).
    static func config() -> String {
        var lines: [String] = []
        for index in 0..<FleetBenchmark.devices {
            lines.append("device,meter-\(String(format: "%04d", index)),1,,")
            lines.append("poll,holding_register,0,63,BE_LE")
            lines += FleetBenchmark.devicePoints.map(\.csv)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func run(modpoll: String, seconds: Double, warmUpSeconds: Double, runs: Int, scratch: Scratch) throws -> Result {
        let fixturePath = try scratch.write("fleet.json", FleetBenchmark.fixture)
        let server = try ServerProcess.simulator(fixture: fixturePath, latency: "5ms", scratch: scratch, tag: "modpoll-sim")
        defer { server.stop() }
        let configPath = try scratch.write("modpoll-fleet.csv", config())
        func once(_ seconds: Double) throws -> Run {
            let output = scratch.file("modpoll.out")
            let process = try Subprocess(
                modpoll,
                ["--tcp", "127.0.0.1", "--tcp-port", String(server.port), "--rate", "1", "--interval", "0",
                 "--loglevel", "WARNING", "-f", configPath],
                stdout: output, stderr: scratch.file("modpoll.err"))
            usleep(UInt32(seconds * 1e6))
            let peak = process.peakRSSKiB() ?? 0
            process.signal(SIGINT)
            let exit = process.wait(timeout: .seconds(30))
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            var rounds = 0
            var points = 0
            for line in text.split(separator: "\n") {
                if line == "Device: meter-0000" { rounds += 1 }
                // Value rows of its tables: "| name | value | unit |"; None when a read failed.
                if line.hasPrefix("| "), !line.hasPrefix("| Reference"), !line.contains("None") { points += 1 }
            }
            return Run(exit: exit, peakRSSKiB: peak, rounds: rounds, pointsDelivered: points, due: FleetBenchmark.devices * Int(seconds))
        }
        _ = try once(warmUpSeconds)
        return Result(runs: try (0..<runs).map { _ in try once(seconds) })
    }
}
