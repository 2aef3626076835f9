import DeviceSimulation
import ModbusProtocol
import RegisterDecoding
import Testing

@Suite struct FixtureLoaderTests {
    func load(_ text: String) -> FixtureLoader.Loaded {
        FixtureLoader.parse(text, file: "f.json")
    }

    func read(_ image: RegisterImage, unit: UInt8 = 1, _ table: Table, _ start: Int, _ count: Int) -> ServerReply {
        image.reply(to: ServerRequest(unit: UnitID(rawValue: unit), function: table.readFunction, operation: .read(table, AddressRange(start: start, count: count)!)))
    }

    @Test func loadsTheSpecificationsExample() {
        let loaded = load("""
            {"units": {"1": {
              "holding":  { "0": [715, 0, 17096], "200": [18501, 12345] },
              "input":    { "100": [16968, 0] },
              "coil":     { "12": [1, 0, 1] },
              "discrete": { "0": [0, 1] }
            }}}
            """)
        #expect(loaded.diagnostics.isEmpty)
        let unit = loaded.fixture.units[UnitID(rawValue: 1)]
        #expect(unit?.tables[.holding] == [Fixture.Block(start: 0, values: [715, 0, 17096]), Fixture.Block(start: 200, values: [18501, 12345])])
        #expect(unit?.tables[.coil] == [Fixture.Block(start: 12, values: [1, 0, 1])])
    }

    @Test func servesExactlyTheImageAndRefusesHolesAndUnknownUnits() {
        let image = RegisterImage(fixture: load(#"{"units": {"1": {"holding": {"0": [1, 2, 3], "3": [4], "10": [9]}}}}"#).fixture, elapsedSeconds: { 0 })
        #expect(read(image, .holding, 0, 4) == .values([1, 2, 3, 4]), "adjacent blocks join")
        #expect(read(image, .holding, 3, 2) == .exception(.illegalDataAddress))
        #expect(read(image, .holding, 9, 2) == .exception(.illegalDataAddress))
        #expect(read(image, .input, 0, 1) == .exception(.illegalDataAddress))
        #expect(read(image, unit: 2, .holding, 0, 1) == .exception(.gatewayTargetFailedToRespond))
    }

    @Test func encodesTypedValues() {
        let loaded = load("""
            {"units": {"1": {"holding": {
              "0": {"float32": 230.5, "order": "CDAB"},
              "2": [{"int16": -5}, {"uint32": 70000}, {"bcd16": 1234}],
              "10": {"string": "AB", "length": 2},
              "20": -32768
            }}}}
            """)
        #expect(loaded.diagnostics == [])
        let image = RegisterImage(fixture: loaded.fixture, elapsedSeconds: { 0 })
        // 230.5 = 0x43668000; CDAB puts the low word first.
        #expect(read(image, .holding, 0, 2) == .values([0x8000, 0x4366]))
        #expect(read(image, .holding, 2, 4) == .values([0xFFFB, 0x0001, 0x1170, 0x1234]))
        #expect(read(image, .holding, 10, 2) == .values([0x4142, 0x0000]))
        #expect(read(image, .holding, 20, 1) == .values([0x8000]))
    }

    @Test func computesChangingValuesAtTheTimeOfTheRead() {
        let loaded = load(#"{"units": {"1": {"input": {"0": {"uint16": {"counter": {"start": 10, "step": 2, "every": "1s"}}}}, "coil": {"0": {"bool": {"square": {"period": "2s"}}}}}}}"#)
        #expect(loaded.diagnostics == [])
        let clock = ManualSeconds()
        let image = RegisterImage(fixture: loaded.fixture, elapsedSeconds: { clock.value })
        #expect(read(image, .input, 0, 1) == .values([10]))
        #expect(read(image, .coil, 0, 1) == .values([1]))
        clock.value = 3.5
        #expect(read(image, .input, 0, 1) == .values([16]))
        #expect(read(image, .coil, 0, 1) == .values([0]))
    }

    @Test func appliesWritesOnlyWhereTheImageHasAddresses() {
        let image = RegisterImage(fixture: load(#"{"units": {"1": {"holding": {"0": [1, 2]}, "coil": {"0": [0]}}}}"#).fixture, elapsedSeconds: { 0 })
        let unit = UnitID(rawValue: 1)
        #expect(image.reply(to: ServerRequest(unit: unit, function: .writeSingleRegister, operation: .writeRegister(address: 1, value: 7))) == .written)
        #expect(read(image, .holding, 0, 2) == .values([1, 7]))
        #expect(image.reply(to: ServerRequest(unit: unit, function: .writeMultipleRegisters, operation: .writeRegisters(start: 1, values: [1, 2]))) == .exception(.illegalDataAddress))
        #expect(image.reply(to: ServerRequest(unit: unit, function: .writeSingleCoil, operation: .writeCoil(address: 0, value: true))) == .written)
        #expect(read(image, .coil, 0, 1) == .values([1]))
    }

    @Test(arguments: [
        ("", "f.json:1:1: error: the fixture is empty: expected {\"units\": {...}}"),
        (#"{"units": {"1": {"holdings": {}}}}"#, "f.json:1:18: error: unknown key 'holdings' in unit 1 (did you mean 'holding'?)"),
        (#"{"units": {"x": {}}}"#, "f.json:1:12: error: unit 'x' must be an integer 0-255"),
        (#"{"units": {"1": {"holding": {"0": [70000]}}}}"#, "f.json:1:36: error: a register value must be an integer 0-65535 (or -32768 to -1), not '70000'"),
        (#"{"units": {"1": {"holding": {"0": [1, 2], "1": [3]}}}}"#, "f.json:1:49: error: holding address 1 of unit 1 is already defined at line 1"),
        (#"{"units": {"1": {"coil": {"0": [2]}}}}"#, "f.json:1:33: error: a coil value must be 0, 1, true or false, not '2'"),
        (#"{"units": {"1": {"holding": {"65535": [1, 2]}}}}"#, "f.json:1:43: error: holding values starting at 65535 run past address 65535"),
        (#"{"units": {"1": {"holding": {"0": {"int16": 40000}}}}}"#, "f.json:1:45: error: 40000 does not fit int16"),
        (#"{"units": {"1": {"holding": {"0": {"float32": 1, "order": "AB"}}}}}"#, "f.json:1:59: error: order 'AB' does not fit float32 (expected ABCD, CDAB, BADC, DCBA)"),
        (#"{"units": {"1": {"holding": {"0": [1, 2}}}}"#, "f.json:1:40: error: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence"),
    ])
    func reportsEveryProblemAtItsLineAndColumn(text: String, expected: String) {
        #expect(load(text).diagnostics.map(\.description) == [expected])
    }
}

final class ManualSeconds: @unchecked Sendable {
    var value: Double = 0
}
