import DeviceMaps
import ModbusProtocol
import RegisterDecoding
import Testing

@Suite struct DeviceMapLoaderTests {
    static let specificationExample = """
        # device-maps/boiler.yaml
        device:
          name: boiler-1            # unique across all maps given to one run; used in output
          host: 127.0.0.1           # name, IPv4 or IPv6
          port: 502                 # default 502
          unit: 1                   # Modbus unit identifier, default 1
          timeout: 1s               # response timeout for one request; default 1s
        polls:
          - name: fast              # unique within the device
            interval: 1s            # ms, s, m; 0 means back to back (benchmarks, bulk capture)
            points:
              - name: supply_temp   # unique within the device
                table: holding      # coil | discrete | holding | input
                address: 0          # zero-based protocol address, 0..65535
                type: int16         # see below
                scale: 0.1          # optional; value = raw * scale + offset
                offset: 0           # optional
                unit: "°C"          # optional engineering unit label
              - name: pump_running
                table: coil
                address: 12
                type: bool
              - name: alarm_overheat
                table: holding
                address: 7
                type: bool
                bit: 3              # bit 0 = least significant bit of the register
              - name: flow
                table: input
                address: 100
                type: float32
                order: CDAB
                unit: m3/h
              - name: serial_number
                table: holding
                address: 200
                type: string
                length: 8           # registers
        """

    @Test func loadsTheSpecificationsExample() throws {
        let loaded = DeviceMapLoader.parse(Self.specificationExample, file: "boiler.yaml")
        #expect(loaded.diagnostics == [])
        let device = try #require(loaded.devices.first)
        #expect(device.name == "boiler-1")
        #expect(device.host == "127.0.0.1")
        #expect(device.port == 502)
        #expect(device.unit == UnitID(rawValue: 1))
        #expect(device.timeout == .seconds(1))
        let poll = try #require(device.polls.first)
        #expect(poll.name == "fast")
        #expect(poll.interval == .seconds(1))
        #expect(poll.points.map(\.name) == ["supply_temp", "pump_running", "alarm_overheat", "flow", "serial_number"])
        #expect(poll.points[0].decoding.scaling != nil)
        #expect(poll.points[0].unit == "°C")
        #expect(poll.points[1].table == .coil)
        #expect(poll.points[2].decoding.bit == 3)
        #expect(poll.points[3].decoding.order == .cdab)
        #expect(poll.points[4].count == 8)
        #expect(poll.points[4].location == SourceLocation(file: "boiler.yaml", line: 34, column: 9))
    }

    @Test func appliesDefaultsAndSharesPollsAcrossADevicesList() throws {
        let loaded = DeviceMapLoader.parse("""
            defaults: {host: gateway.local, timeout: 2s}
            devices:
              - {name: meter-1, unit: 1}
              - {name: meter-2, unit: 2, host: 10.0.0.9, port: 1502}
            polls:
              - name: energy
                interval: 250ms
                points:
                  - {name: total, table: input, address: 0, type: uint32}
            """, file: "meters.yaml")
        #expect(loaded.diagnostics == [])
        #expect(loaded.devices.map(\.name) == ["meter-1", "meter-2"])
        #expect(loaded.devices.map(\.host) == ["gateway.local", "10.0.0.9"])
        #expect(loaded.devices.map(\.port) == [502, 1502])
        #expect(loaded.devices.map(\.timeout) == [.seconds(2), .seconds(2)])
        #expect(loaded.devices.allSatisfy { $0.polls.first?.interval == .milliseconds(250) })
    }
}

@Suite struct MapFeatureTests {
    func point(_ yaml: String) throws -> Point {
        let loaded = DeviceMapLoader.parse("""
            device: {name: d, host: h}
            polls:
              - name: p
                points:
                  - \(yaml)
            """, file: "f.yaml")
        #expect(loaded.diagnostics == [])
        return try #require(loaded.devices.first?.polls.first?.points.first)
    }

    @Test func parsesNodataAsBitPatternsOfTheType() throws {
        let int16 = try point("{name: a, table: holding, address: 0, type: int16, nodata: [0x8000, -1]}")
        #expect(int16.decoding.noData.patterns == [0x8000, 0xFFFF])
        let float = try point("{name: a, table: holding, address: 0, type: float32, nodata: [.nan, -1, 3.5]}")
        #expect(float.decoding.noData.floats.count == 3)
        #expect(float.decoding.noData.floats[0].isNaN)
        #expect(float.decoding.noData.floats[1...] == [-1, 3.5])
    }

    @Test func parsesLabelsKeyedByBitPattern() throws {
        let labels = try point(#"{name: a, table: holding, address: 0, type: int16, labels: {0: "off", -1: "fault", 0x10: "x"}}"#)
        #expect(labels.decoding.labels == [0: "off", 0xFFFF: "fault", 16: "x"])
    }

    @Test func acceptsBothSpellingsOf64BitOrdersInEitherCase() throws {
        #expect(try point("{name: a, table: input, address: 0, type: float64, order: GHEFCDAB}").decoding.order == .cdab)
        #expect(try point("{name: a, table: input, address: 0, type: uint64, order: dcba}").decoding.order == .dcba)
        #expect(try point("{name: a, table: input, address: 0, type: int16, order: ba}").decoding.order == .badc)
    }

    @Test func readsJSONMaps() throws {
        let loaded = DeviceMapLoader.parse("""
            {"device": {"name": "m", "host": "::1", "port": 1502},
             "polls": [{"name": "p", "interval": "250ms", "points": [
               {"name": "v", "table": "input", "address": 0, "type": "float32", "order": "CDAB", "scale": 0.001}]}]}
            """, file: "m.json")
        #expect(loaded.diagnostics == [])
        #expect(loaded.devices.first?.host == "::1")
        #expect(loaded.devices.first?.polls.first?.points.first?.decoding.scaling?.scale.exponent == -3)
    }
}
