import DeviceMaps
import Logging
import ModbusProtocol
import RegisterDecoding
import Testing
@testable import PollScheduling

/// Cadence, missed cycles, back-to-back polls, backoff and pauses, on a manual clock with a
/// scripted client: no sleeping, no sockets.
@Suite struct SchedulerTests {
    static let fixture = #"{"units": {"1": {"holding": {"0": [1, 2, 3, 4]}, "input": {"0": [5, 6]}}, "2": {"holding": {"0": [7, 8, 9, 10]}}}}"#

    static func map(interval: String, extra: String = "", polls: String? = nil) -> String {
        """
        device: {name: d, host: 192.0.2.1\(extra)}
        polls:
        \(polls ?? """
          - name: p
            interval: \(interval)
            points:
              - {name: a, table: holding, address: 0, type: uint16}
        """)
        """
    }

    @Test func cyclesStartOnAFixedRateWhateverTheReadsCost() {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, readScript: { call, _ in .answer(latency: .milliseconds(call % 2 == 0 ? 30 : 70)) })
        let samples = runWorker(devices(Self.map(interval: "100ms")), client: client, clock: clock, count: 10)
        #expect(client.reads.map(\.time) == [0, 100, 200, 300, 400, 500, 600, 700, 800, 900])
        #expect(samples.map(\.time) == (0..<10).map { clock.wallOrigin + Int64($0) * 100 })
        #expect(samples.allSatisfy { $0.missed == 0 })
    }

    @Test func anOverrunningCycleSkipsSlotsAndTheNextLineCountsThem() {
        let clock = ManualClock()
        // Every read takes 250 ms against a 100 ms interval.
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, readScript: { _, _ in .answer(latency: .milliseconds(250)) })
        let samples = runWorker(devices(Self.map(interval: "100ms")), client: client, clock: clock, count: 5)
        #expect(client.reads.map(\.time) == [0, 250, 500, 750, 1000])
        // Lines for cycles 0, 2, 5, 7 and 10 (due at 0, 200, 500, 700, 1000 ms).
        #expect(samples.map(\.missed) == [0, 1, 2, 1, 2])
        #expect(samples.map(\.time) == [0, 250, 500, 750, 1000].map { clock.wallOrigin + $0 })
        // Every scheduled cycle is accounted for: a line or a missed count, up to the last one run.
        let accounted = samples.count + samples.reduce(0) { $0 + $1.missed }
        #expect(accounted == 11, "cycles 0-10")
    }

    @Test func intervalZeroRunsCyclesBackToBack() {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, readScript: { _, _ in .answer(latency: .milliseconds(3)) })
        let samples = runWorker(devices(Self.map(interval: "0")), client: client, clock: clock, count: 50)
        #expect(samples.count == 50)
        #expect(client.reads.map(\.time) == (0..<50).map { Int64($0) * 3 })
    }

    @Test func pollsDueTogetherGoOutBackToBackOnOneConnection() {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, readScript: { _, _ in .answer(latency: .milliseconds(10)) })
        let map = Self.map(interval: "", polls: """
              - name: fast
                interval: 1s
                points:
                  - {name: a, table: holding, address: 0, type: uint16}
              - name: slow
                interval: 3s
                points:
                  - {name: b, table: input, address: 0, type: uint16}
            """)
        let samples = runWorker(devices(map), client: client, clock: clock, count: 2)
        #expect(samples.map { "\($0.layout.poll)@\($0.time - clock.wallOrigin)" } == ["fast@0", "slow@10", "fast@1000", "slow@3000"])
        let reads = client.reads.map { "\($0.request.table)@\($0.time)" }
        #expect(reads == ["holding@0", "input@10", "holding@1000", "input@3000"])
        #expect(client.connects.count == 1)
    }

    @Test func devicesBehindOneEndpointShareItsConnection() {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, readScript: { _, _ in .answer(latency: .milliseconds(5)) })
        let map = """
            devices:
              - {name: u1, host: 192.0.2.1, unit: 1}
              - {name: u2, host: 192.0.2.1, unit: 2}
            polls:
              - name: p
                interval: 1s
                points:
                  - {name: a, table: holding, address: 0, type: uint16, scale: 0.5}
            """
        let samples = runWorker(devices(map), client: client, clock: clock, count: 2)
        #expect(client.connects.count == 1)
        #expect(client.reads.map { "\($0.request.unit)@\($0.time)" } == ["1@0", "2@5", "1@1000", "2@1005"])
        #expect(samples.map { $0.value("a") } == [.value(.double(0.5)), .value(.double(3.5)), .value(.double(0.5)), .value(.double(3.5))])
    }

    @Test func backsOffExponentiallyAndDeliversDataWithinOneIntervalOfTheDevicesReturn() {
        let clock = ManualClock()
        let refused = ModbusError(.connect, "cannot connect to 192.0.2.1:502: connection refused")
        // The device refuses connections for the first 5.5 s.
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, connectScript: { _ in clock.elapsedMilliseconds < 5500 ? refused : nil })
        let samples = runWorker(devices(Self.map(interval: "500ms")), client: client, clock: clock, count: 16)
        // First retry after about one interval, then doubling: 0, 500, 1500, 3500, 7500.
        #expect(client.connects == [0, 500, 1500, 3500, 7500])
        // Every cycle produced a line: errors while down (no attempt in between), then data.
        #expect(samples.count == 16)
        #expect(samples.allSatisfy { $0.missed == 0 })
        let firstData = samples.firstIndex { if case .points = $0.result { true } else { false } }
        #expect(firstData == 15, "cycle 15 at 7.5 s is the first after the backoff wait")
        for sample in samples.prefix(15) {
            guard case .unreachable(let failure) = sample.result else {
                Issue.record("expected an error line")
                continue
            }
            #expect(failure.kind == "connect")
            #expect(failure.message == "cannot connect to 192.0.2.1:502: connection refused")
        }
    }

    @Test func theFirstWaitIsAboutOneIntervalAndNoWaitExceedsTheCap() {
        let clock = ManualClock()
        let refused = ModbusError(.connect, "refused")
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, connectScript: { _ in refused })
        _ = runWorker(devices(Self.map(interval: "10s")), client: client, clock: clock, count: 40)
        let waits = zip(client.connects, client.connects.dropFirst()).map { $1 - $0 }
        #expect(waits.first == 10_000)
        #expect(waits.allSatisfy { $0 <= 30_000 })
        #expect(waits.suffix(5).allSatisfy { $0 == 30_000 })
    }

    @Test func reconnectsAfterALostConnectionAndNeverHoldsTwo() {
        let clock = ManualClock()
        let lost = ModbusError(.connectionLost, "connection reset by peer while reading unit 1 holding 0 from 192.0.2.1:502")
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, readScript: { call, _ in
            call == 2 ? .fail(lost, latency: .milliseconds(1)) : .answer(latency: .milliseconds(1))
        })
        let samples = runWorker(devices(Self.map(interval: "1s")), client: client, clock: clock, count: 6)
        #expect(samples.map { if case .unreachable(let failure) = $0.result { failure.kind } else { "data" } } == ["data", "data", "connection_lost", "data", "data", "data"])
        #expect(client.connects == [0, 3000], "the first retry comes one interval after the failed cycle")
    }

    @Test func pausesAfterConnectingAndBetweenRequestsToTheSameDevice() {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, readScript: { _, _ in .answer(latency: .milliseconds(2)) })
        let map = Self.map(interval: "", extra: ", pause_after_connect: 100ms, pause_between_requests: 20ms", polls: """
              - name: p
                interval: 1s
                points:
                  - {name: a, table: holding, address: 0, type: uint16}
                  - {name: b, table: input, address: 0, type: uint16}
            """)
        _ = runWorker(devices(map), client: client, clock: clock, count: 2)
        #expect(client.reads.map(\.time) == [100, 122, 1000, 1022])
    }

    @Test func spreadsStartTimesEvenlyAcrossEndpoints() {
        #expect(PollEngine.startOffsets(endpoints: 4, intervals: [.seconds(1), .seconds(5)]) == [.zero, .milliseconds(250), .milliseconds(500), .milliseconds(750)])
        #expect(PollEngine.startOffsets(endpoints: 3, intervals: [.seconds(10)]) == [.zero, .nanoseconds(333_333_333), .nanoseconds(666_666_666)])
        #expect(PollEngine.startOffsets(endpoints: 2, intervals: [.zero]) == [.zero, .zero])
        #expect(PollEngine.startOffsets(endpoints: 1000, intervals: [.seconds(1)]).last == .milliseconds(999))
    }

    @Test func logsOneLinePerChangeOfTheEndpointsStateNeverOnePerFailedCycle() {
        let clock = ManualClock()
        let refused = ModbusError(.connect, "cannot connect to 192.0.2.1:502: connection refused")
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, connectScript: { attempt in attempt < 5 ? refused : nil })
        let lines = LogCapture()
        let logger = Logger(label: "test") { _ in lines.handler(level: .info) }
        _ = runWorker(devices(Self.map(interval: "100ms")), client: client, clock: clock, count: 60, logger: logger)
        #expect(client.connects.count == 6)
        #expect(lines.messages.count == 2)
        #expect(lines.messages.first?.hasPrefix("warning: cannot connect to 192.0.2.1:502: connection refused; retrying in 100ms, backing off up to 30s") == true)
        #expect(lines.messages.last?.hasPrefix("info: reconnected to 192.0.2.1:502 after 3.1s (5 failed attempts)") == true)
    }

    @Test func aGatewayThatAcceptsButNeverAnswersIsBackedOffNotReconnectedEveryCycle() {
        let clock = ManualClock()
        let silent = ModbusError(.timeout, "no response from 192.0.2.1:502 unit 1 within 1s")
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, readScript: { _, _ in .fail(silent, latency: .seconds(1)) })
        let lines = LogCapture()
        let logger = Logger(label: "test") { _ in lines.handler(level: .info) }
        _ = runWorker(devices(Self.map(interval: "1s")), client: client, clock: clock, count: 40, logger: logger)
        // The TCP connect succeeds every time; only a reply would count as recovery, so the
        // waits double: 1, 2, 4, 8, 16 s after each failed cycle.
        #expect(client.connects == [0, 1000, 3000, 7000, 15000, 31000])
        #expect(lines.messages == ["warning: no response from 192.0.2.1:502 unit 1 within 1s; retrying in 1s, backing off up to 30s"])
    }

    @Test func aDeviceThatAcceptsAndClosesIsBackedOffToo() {
        let clock = ManualClock()
        let closed = ModbusError(.connectionLost, "connection reset by peer while reading unit 1 holding 0 from 192.0.2.1:502")
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, readScript: { _, _ in .fail(closed, latency: .zero) })
        let lines = LogCapture()
        let logger = Logger(label: "test") { _ in lines.handler(level: .info) }
        _ = runWorker(devices(Self.map(interval: "1s")), client: client, clock: clock, count: 20, logger: logger)
        #expect(client.connects == [0, 1000, 3000, 7000, 15000])
        #expect(lines.messages.count == 1)
    }

    @Test func recoveryIsLoggedOnceWhenTheDeviceAnswersAgain() {
        let clock = ManualClock()
        let silent = ModbusError(.timeout, "no response from 192.0.2.1:502 unit 1 within 1s")
        // Answers, then is silent from 2 s to 6 s, then answers again.
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, readScript: { _, _ in
            (2000..<6000).contains(clock.elapsedMilliseconds) ? .fail(silent, latency: .seconds(1)) : .answer(latency: .milliseconds(5))
        })
        let lines = LogCapture()
        let logger = Logger(label: "test") { _ in lines.handler(level: .info) }
        _ = runWorker(devices(Self.map(interval: "1s")), client: client, clock: clock, count: 12, logger: logger)
        #expect(lines.messages.map { $0.split(separator: ":").first ?? "" } == ["info", "warning", "info"])
        #expect(lines.messages.first == "info: connected to 192.0.2.1:502")
        #expect(lines.messages.last?.hasPrefix("info: reconnected to 192.0.2.1:502 after ") == true)
    }

    @Test func aOneShotRoundMakesOneConnectAttemptForAllItsPollsAndAnnouncesNoRetry() {
        let clock = ManualClock()
        let timeout = ModbusError(.connect, "no connection to 192.0.2.1:502 within 20s")
        let client = ScriptedClient(fixture: Self.fixture, clock: clock, connectScript: { _ in timeout }, connectLatency: .seconds(20))
        let map = Self.map(interval: "", extra: ", timeout: 20s", polls: """
              - name: fast
                interval: 1s
                points:
                  - {name: a, table: holding, address: 0, type: uint16}
              - name: slow
                interval: 1s
                points:
                  - {name: b, table: input, address: 0, type: uint16}
            """)
        let lines = LogCapture()
        let logger = Logger(label: "test") { _ in lines.handler(level: .debug) }
        let samples = runWorker(devices(map), client: client, clock: clock, count: 1, logger: logger)
        #expect(client.connects == [0], "one attempt for both polls")
        #expect(clock.elapsedMilliseconds == 20_000, "one timeout, not two")
        #expect(samples.count == 2)
        #expect(samples.allSatisfy { if case .unreachable(let failure) = $0.result { failure.kind == "connect" } else { false } })
        #expect(lines.messages == ["warning: no connection to 192.0.2.1:502 within 20s"], "nothing announced that will not happen")
    }

    @Test func aSlowStartUpIsNotCountedAsMissedCycles() throws {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.fixture, clock: clock)
        let sink = CollectingSink()
        let engine = try PollEngine(
            devices: devices(Self.map(interval: "100ms")), options: .init(count: 3, spreadStarts: false),
            clientFactory: { _, _ in client }, sink: sink, clock: clock, logger: .silent, jitter: { 1.0 })
        // Everything between making the engine and running it (loading maps, planning a large
        // fleet, starting threads) takes time.
        clock.advance(.seconds(5))
        engine.run()
        #expect(sink.samples.map(\.missed) == [0, 0, 0])
    }
}


/// Collects log lines.
final class LogCapture: @unchecked Sendable {
    private let state = Locked<[String]>([])
    var messages: [String] { state.withLock { $0 } }

    func handler(level: Logger.Level) -> some LogHandler {
        Handler(capture: self, logLevel: level)
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.state.withLock { $0.append("\(event.level): \(event.message)") }
        }
    }
}
