import DeviceMaps
import Logging
import ModbusProtocol
import RegisterDecoding
import Testing
@testable import PollScheduling

/// When a device refuses a read that spans several points (exception 2 or 3), the engine
/// bisects it, reports only the refused points, delivers every other point in the same
/// cycle, remembers the split, and retries the refused points at a slow pace.
@Suite struct AdaptiveSplittingTests {
    /// Twenty uint16 points at 0...19, read as one request (max_gap lets the planner bridge holes).
    static let map = """
        device: {name: plc, host: 192.0.2.1, max_gap: 10}
        polls:
          - name: all
            interval: 1s
            points:
        \((0..<20).map { "      - {name: p\($0), table: holding, address: \($0), type: uint16}" }.joined(separator: "\n"))
        """

    /// The device has registers 0-19 except 7 and 13-14.
    static let holes = #"{"units": {"1": {"holding": {"0": [0, 1, 2, 3, 4, 5, 6], "8": [8, 9, 10, 11, 12], "15": [15, 16, 17, 18, 19]}}}}"#

    static let refusedAddress = PointFailure(kind: "exception", code: 2, message: "illegal data address")

    /// The requests of each cycle (1 s apart), by cycle.
    static func requestsPerCycle(_ client: ScriptedClient, cycles: Int) -> [Int] {
        (0..<cycles).map { cycle in client.reads.filter { $0.time / 1000 == Int64(cycle) }.count }
    }

    @Test func findsTheHolesSendingAtMostTwiceThePlannedReadsInACycle() throws {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.holes, clock: clock)
        let samples = runWorker(devices(Self.map), client: client, clock: clock, count: 40)
        // One planned read: two requests in the first cycle; later ones send the answered reads
        // (here at most 0-6, 8-12 and 15-19) plus one probe or retry.
        let perCycle = Self.requestsPerCycle(client, cycles: 40)
        #expect(perCycle.first == 2)
        #expect(perCycle.allSatisfy { $0 <= 4 }, "\(perCycle)")
        // The refused points report the refusal in every cycle; the others, once probed, their values.
        for sample in samples {
            for hole in [7, 13, 14] { #expect(sample.value("p\(hole)")?.failure?.code == 2) }
        }
        let last = try #require(samples.last)
        for index in 0..<20 where ![7, 13, 14].contains(index) {
            #expect(last.value("p\(index)") == .value(.uint(UInt64(index))), "p\(index)")
        }
        // Probing is over well before: from then on the answered ranges are read whole, the
        // refused ones only when their retry is due.
        let settled = try #require(samples.firstIndex { sample in (0..<20).allSatisfy { [7, 13, 14].contains($0) || sample.value("p\($0)")?.failure == nil } })
        #expect(settled < 30, "all good points delivered from cycle \(settled)")
    }

    @Test func aThousandRefusedPointsCostAtMostTwiceThePlannedReadsAndOneLogLinePerCycle() throws {
        let clock = ManualClock()
        let refused = ModbusError(.exception(.illegalDataAddress), "illegal data address")
        let client = ScriptedClient(fixture: Self.holes, clock: clock, readScript: { _, _ in .fail(refused, latency: .milliseconds(1)) })
        let map = """
            device: {name: plc, host: 192.0.2.1}
            polls:
              - name: all
                interval: 1s
                points:
            \((0..<1000).map { "      - {name: p\($0), table: holding, address: \($0), type: uint16}" }.joined(separator: "\n"))
            """
        let lines = LogCapture()
        let logger = Logger(label: "test") { _ in lines.handler(level: .info) }
        let samples = runWorker(devices(map), client: client, clock: clock, count: 20, logger: logger)
        #expect(samples.count == 20)
        // 1,000 registers are 8 planned reads (125 registers each): at most 16 requests a cycle.
        let perCycle = Self.requestsPerCycle(client, cycles: 20)
        #expect(perCycle.allSatisfy { $0 <= 16 }, "\(perCycle)")
        #expect(perCycle.first == 16)
        let summaries = lines.messages.filter { $0.contains("poll 'all'") }
        #expect(summaries.count <= 20, "one line per poll and cycle at most, not one per refused range")
        #expect(lines.messages.count == summaries.count + 1, "and the line saying the device answers")
        #expect(lines.messages.allSatisfy { $0.count < 600 }, "a summary, not a list of a thousand names")
        for sample in samples { #expect(sample.outcomes.allSatisfy { $0.failure?.code == 2 }) }
    }

    @Test func probingHonoursThePauseBetweenRequests() throws {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.holes, clock: clock, readScript: { _, _ in .answer(latency: .milliseconds(2)) })
        let map = Self.map.replacingOccurrences(of: "max_gap: 10}", with: "max_gap: 10, pause_between_requests: 30ms}")
        _ = runWorker(devices(map), client: client, clock: clock, count: 30)
        let times = client.reads.map(\.time)
        #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 >= 32 }, "30 ms of silence after every 2 ms reply: \(times)")
    }

    @Test func aRefusedReadIsTriedAfterOneIntervalThenTwiceAsLongUpToAMinute() throws {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.holes, clock: clock)
        let map = """
            device: {name: plc, host: 192.0.2.1}
            polls:
              - name: all
                interval: 1s
                points:
                  - {name: a, table: holding, address: 7, type: uint16}
                  - {name: b, table: holding, address: 8, type: uint16}
            """
        let samples = runWorker(devices(map), client: client, clock: clock, count: 300)
        let tries = client.reads.filter { $0.request.range.contains(7) && $0.request.range.count == 1 }.map { $0.time / 1000 }
        // Refused at 0 (within the read of 7-8, then alone). The first retry, due at 1 s, yields
        // that cycle's one probe to b, never probed yet, and goes at 2 s; then the waits double
        // (2, 4, 8, 16, 32 s) up to 60 s.
        #expect(Array(tries.prefix(9)) == [0, 2, 4, 8, 16, 32, 64, 124, 184], "\(tries)")
        #expect(samples.allSatisfy { $0.value("a")?.failure?.code == 2 })
        // b is probed in the second cycle (one probe per cycle), and read from then on.
        #expect(samples.dropFirst().allSatisfy { $0.value("b") == .value(.uint(8)) })
    }

    @Test func aTransientRefusalClearsWithinSecondsNotAMinute() throws {
        let clock = ManualClock()
        let address = ModbusError(.exception(.illegalDataAddress), "illegal data address")
        // A gateway whose device reboots: register 3 is refused for the first 2.5 s.
        let client = ScriptedClient(fixture: Self.holes, clock: clock, readScript: { _, request in
            clock.elapsedMilliseconds < 2500 && request.range.contains(3) ? .fail(address, latency: .milliseconds(1)) : .answer(latency: .milliseconds(1))
        })
        let map = """
            device: {name: plc, host: 192.0.2.1}
            polls:
              - name: all
                interval: 1s
                points:
                  - {name: a, table: holding, address: 3, type: uint16}
            """
        let samples = runWorker(devices(map), client: client, clock: clock, count: 6)
        #expect(samples.map { $0.value("a")?.failure == nil } == [false, false, false, true, true, true], "answered again at 3 s")
    }

    @Test func retriesABusyDeviceWithinTheCycle() throws {
        let clock = ManualClock()
        let busy = ModbusError(.exception(.serverDeviceBusy), "server device busy")
        let client = ScriptedClient(fixture: Self.holes, clock: clock, readScript: { call, _ in
            call < 2 ? .fail(busy, latency: .milliseconds(5)) : .answer(latency: .milliseconds(5))
        })
        let map = """
            device: {name: plc, host: 192.0.2.1}
            polls:
              - name: all
                interval: 1s
                points:
                  - {name: a, table: holding, address: 0, type: uint16}
            """
        let samples = runWorker(devices(map), client: client, clock: clock, count: 1)
        #expect(samples.first?.value("a") == .value(.uint(0)))
        #expect(client.reads.map(\.time) == [0, 55, 160], "waits 50 ms, then 100 ms, after each 5 ms reply")
    }

    @Test func givesUpOnABusyDeviceWhenTheCycleHasNoTimeLeft() throws {
        let clock = ManualClock()
        let busy = ModbusError(.exception(.serverDeviceBusy), "server device busy")
        let client = ScriptedClient(fixture: Self.holes, clock: clock, readScript: { _, _ in .fail(busy, latency: .milliseconds(5)) })
        let map = """
            device: {name: plc, host: 192.0.2.1}
            polls:
              - name: all
                interval: 100ms
                points:
                  - {name: a, table: holding, address: 0, type: uint16}
            """
        let samples = runWorker(devices(map), client: client, clock: clock, count: 1)
        #expect(samples.first?.value("a") == .failed(PointFailure(kind: "exception", code: 6, message: "server device busy")))
        #expect(client.reads.count == 2, "one retry fits in 100 ms, the next would not")
    }

    @Test func neverRetriesIllegalFunctionOrAddressBlindly() throws {
        let clock = ManualClock()
        let refused = ModbusError(.exception(.illegalFunction), "illegal function")
        let client = ScriptedClient(fixture: Self.holes, clock: clock, readScript: { _, _ in .fail(refused, latency: .zero) })
        let map = """
            device: {name: plc, host: 192.0.2.1}
            polls:
              - name: all
                points:
                  - {name: a, table: input, address: 0, type: uint16}
                  - {name: b, table: input, address: 1, type: uint16}
            """
        let samples = runWorker(devices(map), client: client, clock: clock, count: 1)
        #expect(samples.first?.value("a") == .failed(PointFailure(kind: "exception", code: 1, message: "illegal function")))
        #expect(client.reads.count == 1)
    }
}
