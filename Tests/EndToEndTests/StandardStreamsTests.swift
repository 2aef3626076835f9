import DeviceSimulation
import Foundation
import Glibc
import ModbusProtocol
import Testing
import TestSupport

/// The three standard descriptors as launchers, cron jobs and shells hand them over: closed,
/// full, non-blocking, read slowly, or closed by the reader. Every command keeps devices clear
/// of anything but Modbus requests, names every write error, and ends as the README says.
@Suite struct StandardStreamsTests {
    static func server(registers: Int = 20) throws -> FaultServer {
        let values = (0..<registers).map(String.init).joined(separator: ",")
        let image = #"{"units": {"1": {"holding": {"0": ["# + values + "]}}}}"
        return try FaultServer(handler: RegisterImage(fixture: FixtureLoader.parse(image, file: "image.json").fixture, elapsedSeconds: { 0 }))
    }

    /// Waits (at most 10 s) until the server has seen no request for 300 ms: the poller is
    /// held up by its output.
    static func waitUntilStalled(_ server: FaultServer) {
        let deadline = ContinuousClock.now + .seconds(10)
        var last = -1
        while ContinuousClock.now < deadline {
            let seen = server.requests
            if seen == last, seen > 0 { return }
            last = seen
            _ = server.waitForRequests(seen + 1, timeout: .milliseconds(300))
        }
    }

    static func map(port: Int, interval: String = "100ms", points: Int = 4, name: String = "streams.yaml") throws -> String {
        try RunProcessTests.write(RunProcessTests.map(name: "dev", port: port, interval: interval, points: points), name)
    }

    /// A map of `devices` devices with 20 points each, whose `plan` is far bigger than a pipe holds.
    static func bigMap() throws -> String {
        let devices = (0..<300).map { "  - {name: d\($0), host: 127.0.0.1, port: \(1000 + $0)}" }.joined(separator: "\n")
        let points = (0..<20).map { "      - {name: p\($0), table: holding, address: \($0 * 3), type: uint16}" }.joined(separator: "\n")
        return try RunProcessTests.write("devices:\n\(devices)\npolls:\n  - name: p\n    interval: 1s\n    points:\n\(points)\n", "big.yaml")
    }

    @Test(arguments: [Int32(1), 2])
    func aClosedStandardDescriptorNeverBecomesTheDevicesSocket(closed: Int32) throws {
        let server = try Self.server()
        let map = try Self.map(port: server.port)
        let child = try ChildProcess(Paths.fieldpoll, ["run", "--count", "3", "--log-level", "debug", map], closing: [closed])
        let status = child.waitForExit(timeout: .seconds(20))
        #expect(status == 0, "stderr: \(child.stderr)")
        // Nothing but read requests reached the device, on the one connection.
        #expect(server.functionCodes == [3, 3, 3])
        #expect(server.acceptedConnections == 1)
        if closed == 2 {
            let lines = EndToEnd.objects(child.stdout.split(separator: "\n").map(String.init))
            #expect(lines.count == 3)
            #expect(lines.allSatisfy { ($0["values"] as? [String: Int]) == ["r0": 0, "r1": 1, "r2": 2, "r3": 3] })
        }
    }

    @Test func planEndsQuietlyWhenItsReaderLeavesEarly() throws {
        let map = try Self.bigMap()
        let result = try runCommand("/bin/bash", ["-c", "'\(Paths.fieldpoll)' plan '\(map)' | head -1; echo \"status=${PIPESTATUS[0]}\" >&2"])
        #expect(result.stdoutLines.count == 1)
        #expect(result.stderr == "status=0\n")
    }

    @Test(arguments: [["plan"], ["plan", "--format", "json"], ["check"]])
    func planNamesAFullDiskWithStatus1(arguments: [String]) throws {
        let map = try Self.bigMap()
        let result = try runCommand("/bin/bash", ["-c", "exec '\(Paths.fieldpoll)' \(arguments.joined(separator: " ")) '\(map)' > /dev/full"])
        if arguments == ["check"] {
            #expect(result.status == 0, "check writes nothing to stdout")
            #expect(result.stderr.isEmpty)
        } else {
            #expect(result.status == 1)
            #expect(result.stderr == "fieldpoll: cannot write to stdout: No space left on device\n")
        }
    }

    @Test(arguments: [["run", "--once"], ["run", "--count", "2"], ["run"]])
    func runNamesAFullDiskWithStatus1(arguments: [String]) throws {
        let server = try Self.server()
        let map = try Self.map(port: server.port)
        let result = try runCommand(
            "/bin/bash", ["-c", "exec '\(Paths.fieldpoll)' \(arguments.joined(separator: " ")) --log-level warning '\(map)' > /dev/full"],
            timeout: .seconds(20))
        #expect(result.status == 1)
        #expect(result.stderr == "fieldpoll: cannot write to stdout: No space left on device\n")
    }

    @Test func readNamesAFullDiskWithStatus1() throws {
        let server = try Self.server()
        let command = "exec '\(Paths.fieldpoll)' read --host 127.0.0.1 --port \(server.port) --table holding --address 0 --count 2 > /dev/full"
        let result = try runCommand("/bin/bash", ["-c", command], timeout: .seconds(20))
        #expect(result.status == 1)
        #expect(result.stderr == "fieldpoll: cannot write to stdout: No space left on device\n")
    }

    @Test func aReaderThatLeavesIsNoticedWithoutWaitingForTheNextLine() throws {
        let server = try Self.server()
        let map = try Self.map(port: server.port, interval: "1h")
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        let errors = try RunProcessTests.write("", "stderr.txt")
        let errorFile = open(errors, O_WRONLY)
        defer { close(errorFile) }
        let pid = try spawnChild(Paths.fieldpoll, ["run", map], standardInput: -1, standardOutput: ends[1], standardError: errorFile)
        close(ends[1])
        // Read the first line (the first cycle), then leave, as `head -1` does.
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
        #expect(count > 0)
        let left = ContinuousClock.now
        close(ends[0])
        var status: Int32 = 0
        let deadline = ContinuousClock.now + .seconds(10)
        var exited = false
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                break
            }
            usleep(20_000)
        }
        if !exited {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        #expect(exited, "a 1 h poll must not keep the process until its next line")
        #expect(ContinuousClock.now - left < .seconds(3))
        #expect((status >> 8) & 0xff == 0 && status & 0x7f == 0)
        let messages = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n")
        #expect(messages.allSatisfy { $0.contains("info: connected to") }, "quiet: \(messages)")
    }

    @Test func anInterruptedCountRunSaysHowFarItGotWithStatus1() throws {
        let server = try Self.server()
        let map = try Self.map(port: server.port, interval: "200ms")
        let child = try ChildProcess(Paths.fieldpoll, ["run", "--count", "20", "--log-level", "warning", map])
        #expect(child.wait(for: .seconds(20)) { stdout, _ in stdout.split(separator: "\n").count >= 3 })
        child.signal(SIGINT)
        #expect(child.waitForExit(timeout: .seconds(5)) == 1)
        let lines = child.stdout.split(separator: "\n")
        #expect(lines.count >= 3 && lines.count < 20)
        #expect(child.stderr == "fieldpoll: interrupted after \(lines.count) of 20 lines\n")
    }

    @Test func anInterruptedReadSaysSoWithStatus1() throws {
        let server = try Self.server()
        server.fault = .silent
        let child = try ChildProcess(
            Paths.fieldpoll, ["read", "--host", "127.0.0.1", "--port", "\(server.port)", "--table", "holding", "--address", "0", "--timeout", "20s"])
        #expect(server.waitForRequests(1, timeout: .seconds(10)))
        child.signal(SIGTERM)
        #expect(child.waitForExit(timeout: .seconds(5)) == 1)
        #expect(child.stdout.isEmpty)
        #expect(child.stderr == "fieldpoll: interrupted before the read finished\n")
    }

    @Test func anInterruptedReadWithAnIntervalEndsWithStatus0() throws {
        let server = try Self.server()
        let child = try ChildProcess(
            Paths.fieldpoll, ["read", "--host", "127.0.0.1", "--port", "\(server.port)", "--table", "holding", "--address", "0", "--interval", "100ms"])
        #expect(child.wait(for: .seconds(10)) { stdout, _ in stdout.split(separator: "\n").count >= 2 })
        child.signal(SIGINT)
        #expect(child.waitForExit(timeout: .seconds(5)) == 0)
        #expect(child.stderr.isEmpty)
    }

    @Test func sigtermCompletesTheLineInProgressForASlowReader() throws {
        let server = try Self.server(registers: 200)
        // Lines of about 12 KB (200 points), back to back, through a one-page pipe read late.
        let map = try RunProcessTests.write(
            RunProcessTests.map(name: "wide", port: server.port, interval: "0", points: 200)
                .replacingOccurrences(of: "name: r", with: "name: a_rather_long_point_name_to_make_the_line_wide_r"),
            "wide.yaml")
        for _ in 0..<3 {
            var ends: [Int32] = [-1, -1]
            try #require(pipe(&ends) == 0)
            let null = open("/dev/null", O_RDWR)
            defer { close(null) }
            let pid = try spawnChild(Paths.fieldpoll, ["run", map], standardInput: null, standardOutput: ends[1], standardError: null)
            close(ends[1])
            // A reader of 16 KB/s: far slower than the poller, so the writer's buffer stays full.
            let readEnd = ends[0]
            let received = Locked<[UInt8]>([])
            let reader = Thread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                    if count <= 0 { return }
                    received.withLock { $0 += buffer[0..<count] }
                    usleep(250_000)
                }
            }
            reader.start()
            Self.waitUntilStalled(server)
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            let deadline = ContinuousClock.now + .seconds(30)
            while !reader.isFinished, ContinuousClock.now < deadline { usleep(20_000) }
            close(ends[0])
            #expect(status == 0)
            let output = String(decoding: received.withLock { $0 }, as: UTF8.self)
            #expect(output.isEmpty || output.hasSuffix("\n"), "the last line is whole")
            let lines = output.split(separator: "\n").map(String.init)
            #expect(EndToEnd.objects(lines).count == lines.count)
        }
    }

    @Test func aStalledNonBlockingStdoutIsWaitedOnNotSpunOn() throws {
        let server = try Self.server()
        let map = try Self.map(port: server.port, interval: "0", points: 20)
        let child = try ChildProcess(
            Paths.fieldpoll, ["run", "--output-buffer", "4096", map], pipeCapacity: 4096, stdoutPaused: true, nonBlockingStdout: true)
        // Let the pipe and the writer's buffer fill, then watch the CPU the stalled process uses.
        Self.waitUntilStalled(server)
        let before = try #require(child.cpuTime)
        let watched = ContinuousClock.now
        _ = child.wait(for: .seconds(2)) { _, _ in false }
        let used = try #require(child.cpuTime) - before
        let elapsed = ContinuousClock.now - watched
        child.signal(SIGKILL)
        _ = child.waitForExit(timeout: .seconds(5))
        #expect(used < elapsed / 4, "CPU \(used) over \(elapsed) while the reader stalls")
    }
}
