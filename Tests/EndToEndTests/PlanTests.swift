import Foundation
import Testing
import TestSupport

/// `fieldpoll plan`, and adaptive splitting against the simulator, with the built binary.
@Suite struct PlanTests {
    static let maps = [Paths.inPackage("device-maps/demo.yaml"), Paths.inPackage("device-maps/demo-meter.yaml")]

    @Test func printsThePlanForPeople() throws {
        let result = try runCommand(Paths.fieldpoll, ["plan"] + Self.maps, timeout: .seconds(20))
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        try EndToEnd.expectGoldenText(result.stdout, "demo-plan.txt")
    }

    @Test func printsThePlanAsOneJSONDocument() throws {
        let result = try runCommand(Paths.fieldpoll, ["plan", "--format", "json"] + Self.maps, timeout: .seconds(20))
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        #expect(result.stdoutLines.count == 1)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(document.map { "\($0["device"]!)/\($0["poll"]!)" } == ["boiler-1/fast", "boiler-1/slow", "meter-1/power", "meter-1/identity"])
        let power = try #require(document[2]["requests"] as? [[String: Any]])
        #expect(power.count == 2)
        #expect(power[0]["table"] as? String == "input")
        #expect(power[0]["address"] as? Int == 0)
        #expect(power[0]["count"] as? Int == 6)
        #expect(power[0]["points"] as? [String] == ["voltage", "current", "active_power"])
        try EndToEnd.expectGoldenText(result.stdout, "demo-plan.json")
    }

    @Test func refusesAnInvalidMapWithStatus2() throws {
        let result = try runCommand(Paths.fieldpoll, ["plan", Paths.inPackage("fixtures/maps/invalid/bits.yaml")], timeout: .seconds(20))
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("bits.yaml:5:64: error: bit 16 is outside 0-15"))
    }

    @Test func findsTheSimulatorsHolesOverAFewCyclesAndThenDeliversEveryOtherPoint() throws {
        let directory = Paths.temporaryDirectory()
        let fixture = directory.appendingPathComponent("holes.json").path
        // Registers 0-29 except 4, 11-12 and 25.
        let present = (0..<30).filter { ![4, 11, 12, 25].contains($0) }
        let blocks = present.map { "\"\($0)\": [\($0 * 10)]" }.joined(separator: ", ")
        try "{\"units\": {\"1\": {\"holding\": {\(blocks)}}}}".write(toFile: fixture, atomically: true, encoding: .utf8)
        let simulator = try SimulatorProcess(fixtures: [fixture])
        let map = directory.appendingPathComponent("holes.yaml").path
        let points = (0..<30).map { "      - {name: r\($0), table: holding, address: \($0), type: uint16}" }.joined(separator: "\n")
        try """
            device: {name: holes, host: 127.0.0.1, port: \(simulator.port), max_gap: 30}
            polls:
              - name: all
                interval: 10ms
                points:
            \(points)
            """.write(toFile: map, atomically: true, encoding: .utf8)
        let plan = try runCommand(Paths.fieldpoll, ["plan", "--format", "json", map], timeout: .seconds(20))
        #expect(plan.stdout.contains(#""address":0,"count":30"#), "planned as one read across the holes")
        // One planned read: each cycle sends at most one probe beside the answered reads, so
        // finding the three holes takes some cycles; the last line has every other value.
        let result = try runCommand(Paths.fieldpoll, ["run", "--count", "100", map], timeout: .seconds(30))
        #expect(result.status == 1)
        let records = EndToEnd.objects(result.stdoutLines)
        #expect(records.count == 100)
        let record = try #require(records.last)
        let values = try #require(record["values"] as? [String: Any])
        let errors = try #require(record["errors"] as? [String: [String: Any]])
        for address in 0..<30 {
            if present.contains(address) {
                #expect(values["r\(address)"] as? Int == address * 10, "r\(address)")
            } else {
                #expect(values["r\(address)"] is NSNull)
                #expect(errors["r\(address)"]?["code"] as? Int == 2)
            }
        }
        #expect(errors.count == 4)
        #expect(result.stderr.contains("device 'holes' poll 'all' refuses holding 4"))
        #expect(result.stderr.contains("(exception 2, illegal data address)"))
        #expect(simulator.stop() == 0)
    }
}
