import DeviceMaps
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

    @Test func deliversEveryPointOutsideTheHolesInTheFirstCycle() throws {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.holes, clock: clock)
        let samples = runWorker(devices(Self.map), client: client, clock: clock, count: 1)
        let sample = try #require(samples.first)
        for index in 0..<20 {
            let outcome = sample.value("p\(index)")
            if [7, 13, 14].contains(index) {
                #expect(outcome == .failed(PointFailure(kind: "exception", code: 2, message: "illegal data address")), "p\(index)")
            } else {
                #expect(outcome == .value(.uint(UInt64(index))), "p\(index)")
            }
        }
        // One refused read of 20 segments, then bisection: at most 1 + 2·k·⌈log2 n⌉ requests
        // for k refused segments among n.
        #expect(client.reads.count <= 1 + 2 * 3 * 5, "\(client.reads.map { "\($0.request.range)" })")
    }

    @Test func remembersTheSplitAndRetriesRefusedPointsSlowly() throws {
        let clock = ManualClock()
        let client = ScriptedClient(fixture: Self.holes, clock: clock)
        let samples = runWorker(devices(Self.map), client: client, clock: clock, count: 70)
        #expect(samples.count == 70)
        // From the second cycle on, the answered ranges are read whole again and the refused
        // ones not at all: 0-6, 8-12 and 15-19.
        let secondCycle = client.reads.filter { $0.time >= 1000 && $0.time < 2000 }.map { "\($0.request.range)" }
        #expect(secondCycle == ["0-6", "8-12", "15-19"])
        // Refused points are tried again once a minute (after 60 s), still refused, still reported.
        let retries = client.reads.filter { read in read.request.range.contains(7) }
        #expect(retries.contains { $0.time >= 60_000 && $0.time < 61_000 })
        #expect(!retries.contains { $0.time >= 1000 && $0.time < 60_000 })
        for sample in samples {
            #expect(sample.value("p7") == .failed(PointFailure(kind: "exception", code: 2, message: "illegal data address")))
            #expect(sample.value("p8") == .value(.uint(8)))
        }
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
