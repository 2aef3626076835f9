import DeviceSimulation
import Foundation
import Glibc
import Testing
import TestSupport

/// `fieldpoll run` as an operator runs it: next to dead devices, under signals, behind a pipe
/// that closes or reads slowly. The binary is real; the devices are test servers on 127.0.0.1.
@Suite struct RunProcessTests {
    static let image = """
        {"units": {
          "1": {"holding": {"0": [\((0..<20).map { String($0) }.joined(separator: ","))]}},
          "2": {"holding": {"0": [\((0..<20).map { String(100 + $0) }.joined(separator: ","))]}}
        }}
        """

    static func faultServer() throws -> FaultServer {
        try FaultServer(handler: RegisterImage(fixture: FixtureLoader.parse(image, file: "image.json").fixture, elapsedSeconds: { 0 }))
    }

    static func write(_ text: String, _ name: String) throws -> String {
        let path = Paths.temporaryDirectory().appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func map(name: String, port: Int, unit: Int = 1, interval: String, timeout: String = "1s", points: Int = 4) -> String {
        """
        device: {name: \(name), host: 127.0.0.1, port: \(port), unit: \(unit), timeout: \(timeout)}
        polls:
          - name: p
            interval: \(interval)
            points:
        \((0..<points).map { "      - {name: r\($0), table: holding, address: \($0), type: uint16}" }.joined(separator: "\n"))
        """
    }

    static func milliseconds(_ line: [String: Any]) -> Int64 {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = formatter.date(from: line["time"] as? String ?? "") ?? Date(timeIntervalSince1970: 0)
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    @Test func aSilentDeviceNeverDelaysAGoodDevicesLines() throws {
        let good = try Self.faultServer()
        let silent = try Self.faultServer()
        silent.fault = .silent
        let maps = [
            try Self.write(Self.map(name: "good", port: good.port, interval: "200ms"), "good.yaml"),
            try Self.write(Self.map(name: "silent", port: silent.port, interval: "200ms", timeout: "1s"), "silent.yaml"),
        ]
        let child = try ChildProcess(Paths.fieldpoll, ["run"] + maps)
        let enough = child.wait(for: .seconds(20)) { stdout, _ in
            stdout.split(separator: "\n").filter { $0.contains(#""device":"good""#) }.count >= 16
        }
        child.signal(SIGTERM)
        #expect(enough)
        #expect(child.waitForExit(timeout: .seconds(5)) == 0)
        let lines = EndToEnd.objects(child.stdout.split(separator: "\n").map(String.init))
        let goodTimes = lines.filter { $0["device"] as? String == "good" }.map(Self.milliseconds)
        let gaps = zip(goodTimes, goodTimes.dropFirst()).map { $1 - $0 }
        // Fixed-rate cycles at 200 ms: cycle starts stay in their slots while the silent
        // device's reads block for a second at a time on its own thread.
        #expect(gaps.allSatisfy { $0 > 100 && $0 < 300 }, "\(gaps)")
        #expect(lines.filter { $0["device"] as? String == "good" }.allSatisfy { $0["missed"] == nil })
        let silentLines = lines.filter { $0["device"] as? String == "silent" }
        #expect(!silentLines.isEmpty)
        #expect(silentLines.allSatisfy { ($0["error"] as? [String: Any])?["kind"] as? String == "timeout" || ($0["error"] as? [String: Any])?["kind"] as? String == "connect" || $0["missed"] != nil })
    }

    @Test func sigtermEndsRunWithinASecondWhileAReadIsBlocked() throws {
        let silent = try Self.faultServer()
        silent.fault = .silent
        let map = try Self.write(Self.map(name: "silent", port: silent.port, interval: "1s", timeout: "10s"), "silent.yaml")
        let child = try ChildProcess(Paths.fieldpoll, ["run", map])
        // Wait (bounded) until the request is on the wire and the read is blocked.
        #expect(silent.waitForRequests(1, timeout: .seconds(10)))
        let started = ContinuousClock.now
        child.signal(SIGTERM)
        let status = child.waitForExit(timeout: .seconds(5))
        #expect(status == 0)
        #expect(ContinuousClock.now - started < .milliseconds(1500))
        #expect(child.stdout.isEmpty || child.stdout.hasSuffix("\n"))
    }

    @Test func sigtermEndsRunPromptlyEvenDuringAConnectThatHangs() throws {
        let backlog = try FullBacklog()
        let map = try Self.write(Self.map(name: "unreachable", port: backlog.port, interval: "1s", timeout: "10s"), "far.yaml")
        let child = try ChildProcess(Paths.fieldpoll, ["run", map])
        // The connect is under way as soon as the process runs; give it a moment to get there.
        Thread.sleep(forTimeInterval: 0.3)
        let started = ContinuousClock.now
        child.signal(SIGTERM)
        #expect(child.waitForExit(timeout: .seconds(5)) == 0)
        #expect(ContinuousClock.now - started < .milliseconds(2000))
        #expect(child.stdout.isEmpty)
    }

    @Test func sigintEndsRunWithStatus0AfterCompleteLines() throws {
        let good = try Self.faultServer()
        let map = try Self.write(Self.map(name: "good", port: good.port, interval: "0"), "fast.yaml")
        let child = try ChildProcess(Paths.fieldpoll, ["run", map])
        #expect(child.wait(for: .seconds(10)) { stdout, _ in stdout.count > 100_000 })
        child.signal(SIGINT)
        #expect(child.waitForExit(timeout: .seconds(5)) == 0)
        let output = child.stdout
        #expect(output.hasSuffix("\n"))
        #expect(EndToEnd.objects(output.split(separator: "\n").map(String.init)).count == output.split(separator: "\n").count)
    }

    @Test func aClosedStdoutEndsRunPromptlyAndQuietly() throws {
        let good = try Self.faultServer()
        let map = try Self.write(Self.map(name: "good", port: good.port, interval: "10ms"), "good.yaml")
        let script = "'\(Paths.fieldpoll)' run '\(map)' | head -1; echo \"status=${PIPESTATUS[0]}\" >&2"
        let started = ContinuousClock.now
        let result = try runCommand("/bin/bash", ["-c", script], timeout: .seconds(20))
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 1)
        let stderr = result.stderr.split(separator: "\n").map(String.init)
        #expect(stderr.last == "status=0")
        #expect(stderr.dropLast().allSatisfy { $0.contains("info: connected to") }, "nothing but the connection line: \(stderr)")
    }

    @Test func aSlowReaderTurnsIntoMissedCyclesAndEveryCycleIsAccountedFor() throws {
        let good = try Self.faultServer()
        let map = try Self.write(Self.map(name: "good", port: good.port, interval: "100ms", points: 20), "good.yaml")
        // stdout is a pipe of one page, the writer's buffer 4 KiB, and nobody reads for 2 s.
        let child = try ChildProcess(
            Paths.fieldpoll, ["run", "--count", "12", "--format", "points", "--output-buffer", "4096", map],
            pipeCapacity: 4096, stdoutPaused: true)
        Thread.sleep(forTimeInterval: 2)  // the stimulus: a reader that does not read
        child.resumeReadingStdout()
        #expect(child.waitForExit(timeout: .seconds(30)) == 0)
        let lines = EndToEnd.objects(child.stdout.split(separator: "\n").map(String.init))
        // 20 point lines per cycle; each cycle's lines share one time and one missed count.
        var cycles: [(time: Int64, missed: Int)] = []
        for line in lines {
            let time = Self.milliseconds(line)
            if cycles.last?.time != time { cycles.append((time, line["missed"] as? Int ?? 0)) }
        }
        #expect(lines.count == 12 * 20)
        #expect(cycles.count == 12)
        let missed = cycles.reduce(0) { $0 + $1.missed }
        #expect(missed >= 5, "the reader stalled for 2 s at 100 ms cycles: \(cycles.map(\.missed))")
        // The first and the last cycle run on time (the stall is in the middle), so the last
        // line's cycle index is the span in intervals, rounded.
        let span = cycles.last!.time - cycles.first!.time
        #expect(cycles.count + missed - 1 == Int((span + 50) / 100), "lines + missed = \(cycles.count + missed) over \(span) ms")
    }

    @Test func holdsExactlyOneConnectionPerEndpointEvenAcrossReconnects() throws {
        let server = try Self.faultServer()
        server.closeAfter(requests: 3)
        let maps = [
            try Self.write(Self.map(name: "unit1", port: server.port, unit: 1, interval: "50ms"), "u1.yaml"),
            try Self.write(Self.map(name: "unit2", port: server.port, unit: 2, interval: "50ms"), "u2.yaml"),
        ]
        let result = try runCommand(Paths.fieldpoll, ["run", "--count", "20"] + maps, timeout: .seconds(60))
        #expect(server.acceptedConnections > 3, "the server closed the connection every 3 requests")
        #expect(server.peakConnections == 1, "never a second connection to one endpoint")
        #expect(Set(server.functionCodes) == [3], "only reads")
        let lines = EndToEnd.objects(result.stdoutLines)
        #expect(lines.filter { $0["device"] as? String == "unit1" }.count == 20)
        #expect(lines.filter { $0["device"] as? String == "unit2" }.count == 20)
        let values = lines.compactMap { $0["values"] as? [String: Int] }
        #expect(values.allSatisfy { $0["r3"] == 3 || $0["r3"] == 103 })
    }
}
