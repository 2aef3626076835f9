import DeviceMaps
import ModbusProtocol
import RegisterDecoding
import Testing
@testable import PollScheduling

/// Map features that span several points, decoded by the engine from one cycle's reads.
@Suite struct DecodingThroughTheEngineTests {
    @Test func appliesSunSpecScaleFactorsReadInTheSameRequest() throws {
        let clock = ManualClock()
        let map = devices("""
            device: {name: inverter, host: 192.0.2.1, unit: 1}
            polls:
              - name: ac
                points:
                  - {name: W, table: holding, address: 40083, type: int16, scale_factor: W_SF, unit: W}
                  - {name: Hz, table: holding, address: 40085, type: uint16, scale_factor: Hz_SF}
                  - {name: VA, table: holding, address: 40090, type: int16, scale_factor: VA_SF, nodata: [0x8000]}
                  - {name: W_SF, table: holding, address: 40084, type: int16}
                  - {name: Hz_SF, table: holding, address: 40086, type: int16, nodata: [-32768]}
                  - {name: VA_SF, table: holding, address: 40100, type: int16}
            """)
        // W = 1500 × 10^-1; Hz_SF is "not implemented" (0x8000); VA is "not implemented".
        let fixture = #"{"units": {"1": {"holding": {"40083": [1500, 65535, 5000, 32768], "40090": [32768, 0, 0, 0, 0, 0, 0, 0, 0, 0, -2]}}}}"#
        let client = ScriptedClient(fixture: fixture, clock: clock)
        let samples = runWorker(map, client: client, clock: clock, count: 1)
        let sample = try #require(samples.first)
        #expect(sample.value("W") == .value(.double(150)))
        #expect(sample.value("W_SF") == .value(.int(-1)))
        #expect(sample.value("Hz") == .value(.null), "a value whose scale factor is not available is not available")
        #expect(sample.value("Hz_SF") == .value(.null))
        #expect(sample.value("VA") == .value(.null))
        #expect(sample.value("VA_SF") == .value(.int(-2)))
        let requests = client.reads.map(\.request)
        #expect(requests.count == 2, "the gap 40087-40089 is not read with max_gap 0, but VA and VA_SF are read together")
        #expect(requests.contains { $0.range.start == 40090 && $0.range.count == 11 })
    }

    @Test func writesLabelsAndDecodeErrorsPerPointAndKeepsTheOthers() throws {
        let clock = ManualClock()
        let map = devices("""
            device: {name: drive, host: 192.0.2.1}
            polls:
              - name: state
                points:
                  - {name: mode, table: holding, address: 0, type: uint16, labels: {0: "off", 1: "auto", 2: "manual"}}
                  - {name: code, table: holding, address: 1, type: bcd16}
                  - {name: temperature, table: holding, address: 2, type: float32}
                  - {name: name, table: holding, address: 4, type: string, length: 2}
            """)
        let fixture = #"{"units": {"1": {"holding": {"0": [2, 4778, 32704, 0, 16895, 65090]}}}}"#
        let samples = runWorker(map, client: ScriptedClient(fixture: fixture, clock: clock), clock: clock, count: 1)
        let sample = try #require(samples.first)
        #expect(sample.value("mode") == .value(.string("manual")))
        #expect(sample.value("code") == .failed(.decode("0x12AA is not a valid bcd16 value (a digit above 9)")))
        #expect(sample.value("temperature") == .failed(.decode("the float32 is NaN")))
        #expect(sample.value("name") == .failed(.decode("the string is not valid UTF-8")))
    }
}
