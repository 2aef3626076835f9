import Foundation
import Testing
import TestSupport

/// fieldpoll against peers nobody here wrote: mbpoll (Debian) as a client of our simulator,
/// pymodbus (PyPI) as a server for our poller. The expected values are worked out by hand
/// from fixtures/peer.json, not by our decoder.
@Suite struct PeerTests {
    static let fixture = Paths.inPackage("fixtures/peer.json")

    /// The values fixtures/maps/peer.yaml must decode from fixtures/peer.json.
    static let expected: [String: String] = [
        "supply_temp": "71.5",  // 715 × 0.1
        "delta": "-1",  // 0xFFFF as int16
        "voltage": "230.5",  // 0x4366 0x8000 = 230.5 (IEEE 754 binary32)
        "voltage_cdab": "230.5",  // the same words swapped
        "energy": "100000",  // 0x0001 0x86A0
        "energy_cdab": "100000",
        "burner_on": "true", "fan_on": "false", "alarm_overheat": "true",  // 9 = 0b1001
        "balance": "-2",  // 0xFFFF 0xFFFE as int32
        "serial_number": "\"AB12-345\"",  // 0x4142 0x3132 0x2D33 0x3435, NUL-padded
        "flow": "50",  // 0x4248 0x0000 = 50.0
        "pump_running": "true", "valve_open": "false", "heater_on": "true",
        "door_open": "false", "flame_detected": "true",
        "missing": "null",
    ]

    static func checkRecord(_ result: CommandResult, server: String) throws {
        #expect(result.status == 1, "a point could not be read (\(server)); stderr: \(result.stderr)")
        #expect(result.stdoutLines.count == 1)
        let line = try #require(result.stdoutLines.first)
        let record = try #require(EndToEnd.objects([line]).first)
        #expect(record["device"] as? String == "peer-unit-1")
        let values = try #require(record["values"] as? [String: Any])
        #expect(Set(values.keys) == Set(expected.keys))
        for (name, text) in expected {
            let fragment = "\"\(name)\":\(text)"
            #expect(line.contains(fragment), "\(server): \(name) should be written \(text) in \(line)")
        }
        let errors = try #require(record["errors"] as? [String: [String: Any]])
        #expect(errors.keys.sorted() == ["missing"])
        #expect(errors["missing"]?["kind"] as? String == "exception")
        #expect(errors["missing"]?["code"] as? Int == 2)
    }

    @Test func pollsAPymodbusServerAndGetsExactlyItsValues() throws {
        let server = try PymodbusServer(fixture: Self.fixture)
        let map = try EndToEnd.map("fixtures/maps/peer.yaml", port: server.port)
        let result = try runCommand(Paths.fieldpoll, ["run", "--once", map], timeout: .seconds(30))
        try Self.checkRecord(result, server: "pymodbus")
    }

    @Test func pollsOurSimulatorAndGetsTheSameValues() throws {
        let simulator = try SimulatorProcess(fixtures: [Self.fixture])
        let map = try EndToEnd.map("fixtures/maps/peer.yaml", port: simulator.port)
        let result = try runCommand(Paths.fieldpoll, ["run", "--once", map], timeout: .seconds(30))
        try Self.checkRecord(result, server: "fieldpoll simulate")
        #expect(simulator.stop() == 0)
    }

    /// Runs mbpoll once and returns the values it printed, by address.
    static func mbpoll(port: Int, unit: Int, type: String, start: Int, count: Int) throws -> (values: [Int: Int], result: CommandResult) {
        guard Paths.executableExists("mbpoll") else {
            throw TestFailure("mbpoll is not installed: run `make test`, which installs it with apt-get")
        }
        let result = try runCommand(
            "mbpoll", ["-m", "tcp", "-a", "\(unit)", "-0", "-r", "\(start)", "-c", "\(count)", "-t", type, "-1", "-p", "\(port)", "127.0.0.1"],
            timeout: .seconds(20))
        var values: [Int: Int] = [:]
        for line in result.stdout.split(separator: "\n") where line.hasPrefix("[") {
            // "[12]: \t1" or "[1]: \t65535 (-1)"
            let parts = line.split(whereSeparator: { "[]: \t()".contains($0) })
            if parts.count >= 2, let address = Int(parts[0]), let value = Int(parts[1]) { values[address] = value }
        }
        return (values, result)
    }

    @Test func mbpollReadsExactlyTheFixturesValuesFromOurSimulator() throws {
        let simulator = try SimulatorProcess(fixtures: [Self.fixture])
        let blocks: [(unit: Int, type: String, start: Int, values: [Int])] = [
            (1, "4", 0, [715, 65535, 17254, 32768, 32768, 17254, 1, 34464, 34464, 1, 9, 65535, 65534]),
            (1, "4", 200, [16706, 12594, 11571, 13365, 0, 0, 0, 0]),
            (1, "3", 100, [16968, 0]),
            (1, "0", 12, [1, 0, 1]),
            (1, "1", 0, [0, 1]),
            (2, "4", 0, [42]),
        ]
        for block in blocks {
            let (values, result) = try Self.mbpoll(port: simulator.port, unit: block.unit, type: block.type, start: block.start, count: block.values.count)
            #expect(result.status == 0, "mbpoll: \(result.stderr)")
            let expected = Dictionary(uniqueKeysWithValues: block.values.enumerated().map { (block.start + $0, $1) })
            #expect(values == expected, "unit \(block.unit) table \(block.type) at \(block.start)")
        }
        #expect(simulator.stop() == 0)
    }

    @Test func mbpollGetsExceptionsForHolesAndUnknownUnits() throws {
        let simulator = try SimulatorProcess(fixtures: [Self.fixture])
        let hole = try Self.mbpoll(port: simulator.port, unit: 1, type: "4", start: 12, count: 2)
        #expect(hole.values.isEmpty)
        #expect(hole.result.stderr.contains("Illegal data address"), "\(hole.result.stderr)")
        let unknown = try Self.mbpoll(port: simulator.port, unit: 9, type: "4", start: 0, count: 1)
        #expect(unknown.values.isEmpty)
        #expect(unknown.result.stderr.contains("Target device failed to respond"), "\(unknown.result.stderr)")
        #expect(simulator.stop() == 0)
    }
}
