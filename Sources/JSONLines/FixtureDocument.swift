import DeviceSimulation
import ModbusProtocol

/// Writes a ``Fixture``'s static image in SPEC section 3's raw form, one block per line so
/// diffs of snapshots stay readable.
public enum FixtureDocument {
    /// The JSON text of `fixture`, with `description` as its first key.
    public static func json(_ fixture: Fixture, description: String) -> String {
        var buffer = JSONBuffer(capacity: 4096)
        buffer.raw("{\n  \"description\": ")
        buffer.string(description)
        buffer.raw(",\n  \"units\": {")
        for (unitIndex, unit) in fixture.units.keys.sorted().enumerated() {
            buffer.raw(unitIndex == 0 ? "\n    " : ",\n    ")
            buffer.string(unit.description)
            buffer.raw(": {")
            let tables = fixture.units[unit]!.tables.filter { !$0.value.isEmpty }
            for (tableIndex, table) in tables.keys.sorted().enumerated() {
                buffer.raw(tableIndex == 0 ? "\n      " : ",\n      ")
                buffer.string(table.rawValue)
                buffer.raw(": {")
                for (blockIndex, block) in tables[table]!.enumerated() {
                    buffer.raw(blockIndex == 0 ? "\n        " : ",\n        ")
                    buffer.string(String(block.start))
                    buffer.raw(": [")
                    for (valueIndex, value) in block.values.enumerated() {
                        if valueIndex > 0 { buffer.raw(", ") }
                        buffer.unsigned(UInt64(value))
                    }
                    buffer.byte(UInt8(ascii: "]"))
                }
                buffer.raw("\n      }")
            }
            buffer.raw("\n    }")
        }
        buffer.raw("\n  }\n}\n")
        return String(decoding: buffer.bytes, as: UTF8.self)
    }
}
