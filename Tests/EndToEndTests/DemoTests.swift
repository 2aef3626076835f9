import Foundation
import Testing
import TestSupport

/// `make run`'s pieces, with the built binary: the simulator on the demo fixture, and the
/// poller on the demo maps.
@Suite struct DemoTests {
    @Test func pollsTheDemoPlantExactlyAsTheFixtureHoldsIt() throws {
        let simulator = try SimulatorProcess(fixtures: [Paths.inPackage("fixtures/demo.json")], extraArguments: ["--freeze"])
        let maps = [try EndToEnd.map("device-maps/demo.yaml", port: simulator.port), try EndToEnd.map("device-maps/demo-meter.yaml", port: simulator.port)]
        let result = try runCommand(Paths.fieldpoll, ["run", "--once"] + maps, timeout: .seconds(30))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).last ?? "" } == ["info: connected to 127.0.0.1:\(simulator.port)"])
        let records = EndToEnd.objects(result.stdoutLines)
        #expect(records.count == 4, "one line per poll")
        try EndToEnd.expectGolden(EndToEnd.normalized(result.stdoutLines), "demo-once.jsonl")
        #expect(simulator.stop() == 0)
    }

    @Test func liveValuesChangeFromCycleToCycle() throws {
        let simulator = try SimulatorProcess(fixtures: [Paths.inPackage("fixtures/demo.json")])
        let map = try EndToEnd.map("device-maps/demo-meter.yaml", port: simulator.port)
        let child = try ChildProcess(Paths.fieldpoll, ["run", map])
        let gotThree = child.wait(for: .seconds(20)) { stdout, _ in
            stdout.split(separator: "\n").filter { $0.contains(#""poll":"power""#) }.count >= 3
        }
        child.signal(SIGTERM)
        #expect(gotThree)
        #expect(child.waitForExit(timeout: .seconds(5)) == 0)
        let power = EndToEnd.objects(child.stdout.split(separator: "\n").map(String.init)).filter { $0["poll"] as? String == "power" }
        let energies = power.compactMap { ($0["values"] as? [String: Any])?["energy"] as? Int }
        #expect(energies.count >= 3)
        #expect(energies.first! < energies.last!, "the energy counter of the demo meter runs")
        #expect(simulator.stop() == 0)
    }

    @Test func printsTheChosenPortWhenAskedForPortZero() throws {
        let simulator = try SimulatorProcess(fixtures: [Paths.inPackage("fixtures/demo.json")])
        #expect(simulator.port > 0)
        #expect(simulator.child.stderr.contains("listening on 127.0.0.1:\(simulator.port) (units 1, 2)"))
        #expect(simulator.child.stdout.isEmpty)
        #expect(simulator.stop() == 0)
    }

    @Test func refusesAnInvalidFixtureWithStatus2() throws {
        let directory = Paths.temporaryDirectory()
        let fixture = directory.appendingPathComponent("bad.json")
        try #"{"units": {"1": {"holding": {"0": [70000]}}}}"#.write(to: fixture, atomically: true, encoding: .utf8)
        let result = try runCommand(Paths.fieldpoll, ["simulate", fixture.path], timeout: .seconds(10))
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "\(fixture.path):1:36: error: a register value must be an integer 0-65535 (or -32768 to -1), not '70000'\n")
    }
}
