import Foundation
import Testing
import TestSupport
import ModbusProtocol

/// The README's recipes, run for real: jq, an MQTT broker (Debian's mosquitto on loopback,
/// started here), the systemd unit, and `make install`.
@Suite struct RecipesTests {
    static func require(_ tool: String) throws {
        guard Paths.executableExists(tool) else {
            throw TestFailure("\(tool) is not installed: run `make test`, which installs it with apt-get")
        }
    }

    /// A free TCP port on 127.0.0.1 (bound and released at once; the broker takes it next).
    static func freePort() throws -> Int {
        let server = try FaultServer(handler: NoDevice())
        let port = server.port
        server.stop()
        return port
    }

    @Test func publishesEveryLineToAnMQTTBrokerWithMosquittoPub() throws {
        for tool in ["mosquitto", "mosquitto_pub", "mosquitto_sub"] { try Self.require(tool) }
        let simulator = try SimulatorProcess(fixtures: [Paths.inPackage("fixtures/demo.json")], extraArguments: ["--freeze"])
        let maps = [try EndToEnd.map("device-maps/demo.yaml", port: simulator.port), try EndToEnd.map("device-maps/demo-meter.yaml", port: simulator.port)]
        let port = try Self.freePort()
        let broker = try ChildProcess(Paths.resolve("mosquitto"), ["-p", "\(port)", "-v"])
        #expect(broker.wait(for: .seconds(10)) { _, stderr in stderr.contains("Opening ipv4 listen socket on port \(port)") })
        let subscriber = try ChildProcess(Paths.resolve("mosquitto_sub"), ["-h", "127.0.0.1", "-p", "\(port)", "-t", "plant/#", "-C", "4"])
        // The broker logs the subscription: only then may the poller publish.
        #expect(broker.wait(for: .seconds(10)) { _, stderr in stderr.contains("Received SUBSCRIBE") })
        let recipe = "'\(Paths.fieldpoll)' run --once \(maps.map { "'\($0)'" }.joined(separator: " ")) | mosquitto_pub -h 127.0.0.1 -p \(port) -t plant/fieldpoll -l"
        let published = try runCommand("/bin/bash", ["-c", "set -o pipefail; " + recipe], timeout: .seconds(30))
        #expect(published.status == 0, "\(published.stderr)")
        #expect(subscriber.waitForExit(timeout: .seconds(10)) == 0)
        let received = subscriber.stdout.split(separator: "\n").map(String.init)
        #expect(EndToEnd.normalized(received) == (try String(contentsOfFile: Paths.inPackage("fixtures/golden/demo-once.jsonl"), encoding: .utf8)).split(separator: "\n").map(String.init))
        broker.signal(SIGTERM)
        _ = broker.waitForExit(timeout: .seconds(5))
        #expect(simulator.stop() == 0)
    }

    @Test func filtersWithJq() throws {
        try Self.require("jq")
        let simulator = try SimulatorProcess(fixtures: [Paths.inPackage("fixtures/demo.json")], extraArguments: ["--freeze"])
        let map = try EndToEnd.map("device-maps/demo-meter.yaml", port: simulator.port)
        let recipe = "'\(Paths.fieldpoll)' run --once --format points '\(map)' | jq -r '[.point, .value, .unit // \"\"] | @tsv'"
        let result = try runCommand("/bin/bash", ["-c", "set -o pipefail; " + recipe], timeout: .seconds(30))
        #expect(result.status == 0)
        #expect(result.stdoutLines.sorted() == ["active_power\t2875\tW", "current\t12.5\tA", "energy\t1843200\tWh", "serial_number\tEM-0042\t", "voltage\t230.1\tV"])
        #expect(simulator.stop() == 0)
    }

    @Test func theSystemdUnitIsValid() throws {
        try Self.require("systemd-analyze")
        let unit = try String(contentsOfFile: Paths.inPackage("docs/systemd/fieldpoll.service"), encoding: .utf8)
        #expect(unit.contains("Restart=always"))
        #expect(unit.contains("RestartPreventExitStatus=2"))
        // Verify with the paths of this checkout (the unit names /usr/local/bin/fieldpoll).
        let copy = Paths.temporaryDirectory().appendingPathComponent("fieldpoll.service")
        try unit.replacingOccurrences(of: "/usr/local/bin/fieldpoll", with: Paths.fieldpoll).write(to: copy, atomically: true, encoding: .utf8)
        let result = try runCommand(Paths.resolve("systemd-analyze"), ["verify", copy.path], timeout: .seconds(30))
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func makeInstallPutsTheBinaryCompletionsAndManPageUnderThePrefix() throws {
        let destination = Paths.temporaryDirectory()
        let result = try runCommand(
            // install-files: what `make install` copies after building (SwiftPM's build lock is
            // held by the test run, so the test installs the debug build make test made).
            "/usr/bin/make", ["-C", Paths.packageRoot.path, "install-files", "CONFIG=debug", "DESTDIR=\(destination.path)", "PREFIX=/usr/local"],
            timeout: .seconds(60))
        #expect(result.status == 0, "\(result.stderr)")
        let root = destination.path + "/usr/local"
        for file in [
            "bin/fieldpoll", "share/man/man1/fieldpoll.1", "share/bash-completion/completions/fieldpoll",
            "share/zsh/site-functions/_fieldpoll", "share/fish/vendor_completions.d/fieldpoll.fish", "share/doc/fieldpoll/README.md",
        ] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/\(file)"), "\(file)")
        }
        let version = try runCommand("\(root)/bin/fieldpoll", ["--version"], timeout: .seconds(10))
        #expect(version.stdout == "0.1.0\n")
        let manual = try String(contentsOfFile: "\(root)/share/man/man1/fieldpoll.1", encoding: .utf8)
        #expect(manual.contains("snapshot"))
    }
}

/// A handler with no units, for a server that only needs to hold a port.
struct NoDevice: ModbusRequestHandler {
    func reply(to request: ServerRequest) -> ServerReply { .exception(.gatewayTargetFailedToRespond) }
}
