import Foundation
import Testing
import TestSupport

/// `read`, `snapshot`, the richer `simulate`, and the CLI's feel, with the built binary.
@Suite struct ToolsTests {
    static let peerFixture = Paths.inPackage("fixtures/peer.json")

    /// Holding 2-3 hold 0x4366 0x8000 (230.5); 4-5 hold 0x8000 0x4366, which read big-endian is
    /// the subnormal float32 -17254 × 2^-149, shortest text -2.4178e-41 (numpy agrees).
    @Test func readsDecodedValuesAsJSONLines() throws {
        let simulator = try SimulatorProcess(fixtures: [Self.peerFixture])
        let result = try runCommand(
            Paths.fieldpoll,
            ["read", "--host", "127.0.0.1", "--port", "\(simulator.port)", "--table", "holding", "--address", "2", "--count", "2", "--type", "float32"],
            timeout: .seconds(20))
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        #expect(EndToEnd.normalized(result.stdoutLines) == [
            #"{"time":"T","device":"127.0.0.1:\#(simulator.port)/1","poll":"holding","values":{"2":230.5,"4":-2.4178e-41}}"#
        ])
        #expect(simulator.stop() == 0)
    }

    @Test func readsWithAnOrderInThePointsFormat() throws {
        let simulator = try SimulatorProcess(fixtures: [Self.peerFixture])
        let result = try runCommand(
            Paths.fieldpoll,
            ["read", "--host", "127.0.0.1", "--port", "\(simulator.port)", "--table", "holding", "--address", "4", "--type", "float32",
             "--order", "CDAB", "--format", "points"],
            timeout: .seconds(20))
        #expect(result.status == 0)
        #expect(EndToEnd.normalized(result.stdoutLines) == [
            #"{"time":"T","device":"127.0.0.1:\#(simulator.port)/1","poll":"holding","point":"4","value":230.5}"#
        ])
        #expect(simulator.stop() == 0)
    }

    @Test func readsTextForPeople() throws {
        let simulator = try SimulatorProcess(fixtures: [Self.peerFixture])
        let result = try runCommand(
            Paths.fieldpoll,
            ["read", "--host", "127.0.0.1", "--port", "\(simulator.port)", "--table", "holding", "--address", "200", "--count", "8",
             "--type", "string", "--format", "text"],
            timeout: .seconds(20))
        #expect(result.status == 0)
        let lines = result.stdoutLines
        #expect(lines.count == 2)
        #expect(lines.first?.hasSuffix("  127.0.0.1:\(simulator.port)/1") == true)
        #expect(lines.last == #"  200  "AB12-345""#)
        #expect(simulator.stop() == 0)
    }

    @Test func aFailedReadExitsWith1AndTheSameErrorObjectsAsRun() throws {
        let simulator = try SimulatorProcess(fixtures: [Self.peerFixture])
        let result = try runCommand(
            Paths.fieldpoll, ["read", "--host", "127.0.0.1", "--port", "\(simulator.port)", "--table", "input", "--address", "300"],
            timeout: .seconds(20))
        #expect(result.status == 1)
        #expect(EndToEnd.normalized(result.stdoutLines) == [
            #"{"time":"T","device":"127.0.0.1:\#(simulator.port)/1","poll":"input","values":{"300":null},"errors":{"300":{"kind":"exception","code":2,"message":"illegal data address"}}}"#
        ])
        #expect(simulator.stop() == 0)
        let unreachable = try runCommand(
            Paths.fieldpoll, ["read", "--host", "127.0.0.1", "--port", "\(simulator.port)", "--table", "input", "--address", "0"],
            timeout: .seconds(20))
        #expect(unreachable.status == 1)
        #expect(unreachable.stdout.contains(#""error":{"kind":"connect","message":"cannot connect to 127.0.0.1:\#(simulator.port): connection refused"}"#))
    }

    @Test func readRepeatsEveryIntervalUntilStopped() throws {
        let simulator = try SimulatorProcess(fixtures: [Self.peerFixture])
        let child = try ChildProcess(
            Paths.fieldpoll, ["read", "--host", "127.0.0.1", "--port", "\(simulator.port)", "--table", "coil", "--address", "12", "--count", "3", "--interval", "100ms"])
        #expect(child.wait(for: .seconds(10)) { stdout, _ in stdout.split(separator: "\n").count >= 3 })
        child.signal(SIGINT)
        #expect(child.waitForExit(timeout: .seconds(5)) == 0)
        #expect(child.stdout.split(separator: "\n").allSatisfy { $0.contains(#""values":{"12":true,"13":false,"14":true}"#) })
        #expect(simulator.stop() == 0)
    }

    @Test(arguments: [
        (["--table", "holdings", "--address", "0"], "--table must be coil, discrete, holding or input, not 'holdings'."),
        (["--table", "coil", "--address", "0", "--type", "int16"], "a coil is read as bool, not int16."),
        (["--table", "input", "--address", "65535", "--type", "uint32"], "--address 65535 with 2 registers runs outside 0-65535."),
        (["--table", "input", "--address", "0", "--type", "int16", "--order", "CDAB"], "--order CDAB does not fit int16 (expected AB, BA)."),
    ])
    func refusesBadUsageWithStatus2(arguments: [String], message: String) throws {
        let result = try runCommand(Paths.fieldpoll, ["read", "--host", "127.0.0.1"] + arguments, timeout: .seconds(10))
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("Error: \(message)"), "\(result.stderr)")
    }

    /// A digital twin: snapshot a pymodbus server, serve the snapshot, and poll both the same way.
    @Test func aSnapshotServedBySimulateAnswersLikeTheOriginalDevice() throws {
        let original = try PymodbusServer(fixture: Self.peerFixture)
        let directory = Paths.temporaryDirectory()
        let twinFixture = directory.appendingPathComponent("twin.json").path
        let originalMap = try EndToEnd.map("fixtures/maps/peer.yaml", port: original.port)
        let snapshot = try runCommand(Paths.fieldpoll, ["snapshot", "--out", twinFixture, originalMap], timeout: .seconds(30))
        #expect(snapshot.status == 1, "the map names a register the device refuses")
        #expect(snapshot.stdout.isEmpty)
        #expect(snapshot.stderr.contains("written to \(twinFixture)"))
        let twin = try SimulatorProcess(fixtures: [twinFixture])
        let twinMap = try EndToEnd.map("fixtures/maps/peer.yaml", port: twin.port)
        let fromOriginal = try runCommand(Paths.fieldpoll, ["run", "--once", originalMap], timeout: .seconds(30))
        let fromTwin = try runCommand(Paths.fieldpoll, ["run", "--once", twinMap], timeout: .seconds(30))
        #expect(fromOriginal.status == fromTwin.status)
        #expect(!fromTwin.stdoutLines.isEmpty)
        #expect(EndToEnd.normalized(fromTwin.stdoutLines) == EndToEnd.normalized(fromOriginal.stdoutLines))
        // The refused register is left out of the twin, so the twin refuses it too.
        #expect(fromTwin.stdout.contains(#""missing":{"kind":"exception","code":2"#))
        let written = try String(contentsOfFile: twinFixture, encoding: .utf8)
        #expect(written.contains(#""0": [715, 65535, 17254, 32768, 32768, 17254, 1, 34464, 34464, 1, 9, 65535, 65534]"#))
        #expect(twin.stop() == 0)
    }

    @Test func snapshotRefusesDevicesThatShareAUnitAcrossEndpoints() throws {
        let directory = Paths.temporaryDirectory()
        let maps = try (0..<2).map { index -> String in
            let path = directory.appendingPathComponent("m\(index).yaml").path
            try """
                device: {name: d\(index), host: 127.0.0.1, port: \(1502 + index), unit: 1}
                polls: [{name: p, points: [{name: a, table: holding, address: 0, type: uint16}]}]
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let result = try runCommand(Paths.fieldpoll, ["snapshot", "--out", directory.appendingPathComponent("x.json").path] + maps, timeout: .seconds(10))
        #expect(result.status == 2)
        #expect(result.stderr == "fieldpoll snapshot: devices 'd0' and 'd1' both use unit 1 on different endpoints; snapshot them into separate fixtures\n")
    }

    @Test func servesSeveralFixturesOnSeveralPortsAndUnits() throws {
        let directory = Paths.temporaryDirectory()
        let meter = directory.appendingPathComponent("meter.json").path
        try #"{"units": {"1": {"input": {"0": [230]}}}}"#.write(toFile: meter, atomically: true, encoding: .utf8)
        let child = try ChildProcess(Paths.fieldpoll, ["simulate", "\(meter)@127.0.0.1:0#3-5", "\(Self.peerFixture)@127.0.0.1:0"])
        #expect(child.wait(for: .seconds(20)) { _, stderr in stderr.split(separator: "\n").count >= 2 })
        let lines = child.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasSuffix("(units 3, 4, 5)"))
        #expect(lines[1].hasSuffix("(units 1, 2)"))
        let ports = lines.compactMap { $0.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }.flatMap { Int($0.split(separator: ":")[1]) } }
        #expect(ports.count == 2)
        let unit4 = try runCommand(Paths.fieldpoll, ["read", "--host", "127.0.0.1", "--port", "\(ports[0])", "--unit", "4", "--table", "input", "--address", "0"], timeout: .seconds(10))
        #expect(unit4.stdout.contains(#""values":{"0":230}"#))
        let unit1 = try runCommand(Paths.fieldpoll, ["read", "--host", "127.0.0.1", "--port", "\(ports[0])", "--unit", "1", "--table", "input", "--address", "0"], timeout: .seconds(10))
        #expect(unit1.stdout.contains(#""code":11"#), "unit 1 is not served on the meter's port")
        child.signal(SIGTERM)
        #expect(child.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func printsItsVersionAndHelpWithExamplesForEveryCommand() throws {
        let version = try runCommand(Paths.fieldpoll, ["--version"], timeout: .seconds(10))
        #expect(version.status == 0)
        #expect(version.stdout == "0.1.0\n")
        for command in ["run", "check", "plan", "read", "snapshot", "simulate"] {
            let help = try runCommand(Paths.fieldpoll, [command, "--help"], timeout: .seconds(10))
            #expect(help.status == 0, "\(command)")
            #expect(help.stdout.contains("Example"), "\(command) --help shows a worked example")
            #expect(help.stderr.isEmpty)
        }
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func generatesCompletionScripts(shell: String) throws {
        let result = try runCommand(Paths.fieldpoll, ["--generate-completion-script", shell], timeout: .seconds(10))
        #expect(result.status == 0)
        for command in ["run", "check", "plan", "read", "snapshot", "simulate"] {
            #expect(result.stdout.contains(command), "\(shell) completion names \(command)")
        }
    }
}
