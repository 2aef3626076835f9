import DeviceMaps
import ModbusProtocol
import RegisterDecoding
import Yams

/// Loads fixtures (SPEC section 3, JSON or YAML), reporting every problem at its line and column.
///
/// Beyond the raw form (arrays of register values or bits), an array element or the value at
/// an address may be a typed value:
///
///     {"float32": 230.5, "order": "CDAB"}          two registers
///     {"string": "SN-1234", "length": 8}             eight registers, NUL-padded
///     {"int16": -5}   {"uint32": 70000}   {"bcd16": 1234}
///     {"float32": {"sine": {"mean": 50, "amplitude": 2, "period": "60s"}}}
///     {"uint32": {"counter": {"start": 0, "step": 7, "every": "1s"}}}
///     {"int16": {"walk": {"start": 700, "step": 3, "min": 600, "max": 800, "every": "1s"}}}
///     {"uint16": {"ramp": {"from": 0, "to": 100, "period": "30s"}}}
///     {"bool": {"square": {"period": "10s"}}}       coils and discrete inputs
///
/// Register values may be written 0...65535 or, as int16 patterns, -32768...-1.
public enum FixtureLoader {
    /// A fixture and every problem found.
    public struct Loaded: Sendable {
        /// The merged image of every file; meaningful only when ``diagnostics`` is empty.
        public var fixture: Fixture
        /// Every problem, sorted.
        public var diagnostics: [Diagnostic]
    }

    /// Loads fixture files and merges their units; a unit defined in two files is an error.
    public static func load(paths: [String]) -> Loaded {
        var merged = Fixture()
        var diagnostics: [Diagnostic] = []
        var origin: [UnitID: String] = [:]
        for path in paths {
            switch YAMLReader.readText(of: path) {
            case .failure(let diagnostic):
                diagnostics.append(diagnostic)
            case .success(let text):
                let loaded = parse(text, file: path)
                diagnostics += loaded.diagnostics
                for (unit, image) in loaded.fixture.units {
                    if let first = origin[unit] {
                        diagnostics.append(Diagnostic(file: path, line: 1, column: 1, message: "unit \(unit) is also defined in \(first)"))
                        continue
                    }
                    origin[unit] = path
                    merged.units[unit] = image
                    merged.dynamics[unit] = loaded.fixture.dynamics[unit]
                }
            }
        }
        return Loaded(fixture: merged, diagnostics: diagnostics.sorted())
    }

    /// Parses one fixture's text.
    public static func parse(_ text: String, file: String) -> Loaded {
        var parser = FixtureParser(reader: YAMLReader(file: file))
        let fixture = parser.parse(text)
        return Loaded(fixture: fixture, diagnostics: Array(Set(parser.reader.diagnostics)).sorted())
    }
}

private struct FixtureParser {
    var reader: YAMLReader

    /// A value placed at an address before blocks are merged.
    private struct Cell {
        var address: Int
        var values: [UInt16]
        var node: Node
    }

    mutating func parse(_ text: String) -> Fixture {
        var fixture = Fixture()
        let (root, ok) = reader.compose(text)
        guard ok else { return fixture }
        guard let root, !reader.isNull(root) else {
            reader.report(line: 1, column: 1, "the fixture is empty: expected {\"units\": {...}}")
            return fixture
        }
        guard let entries = reader.mapping(root, "a fixture") else { return fixture }
        reader.checkKeys(entries, allowed: ["units", "description"], in: "the fixture")
        guard let unitsEntry = entries.first(where: { $0.key == "units" }) else {
            reader.error(at: root, "the fixture has no 'units'")
            return fixture
        }
        guard let units = reader.mapping(unitsEntry.value, "units") else { return fixture }
        if units.isEmpty { reader.error(at: unitsEntry.value, "'units' is empty") }
        for unitEntry in units {
            guard let number = YAMLReader.parseInteger(unitEntry.key), let unit = UnitID(number) else {
                reader.error(at: unitEntry.keyNode, "unit '\(unitEntry.key)' must be an integer 0-255")
                continue
            }
            guard let tables = reader.mapping(unitEntry.value, "unit \(unit)") else { continue }
            reader.checkKeys(tables, allowed: Table.allCases.map(\.rawValue), in: "unit \(unit)")
            var image = Fixture.Unit()
            var dynamics: [Fixture.Dynamic] = []
            for tableEntry in tables {
                guard let table = Table(rawValue: tableEntry.key) else { continue }
                guard let addresses = reader.mapping(tableEntry.value, "the \(table.rawValue) table of unit \(unit)") else { continue }
                var cells: [Cell] = []
                for addressEntry in addresses {
                    guard let start = YAMLReader.parseInteger(addressEntry.key), (0...65535).contains(start) else {
                        reader.error(at: addressEntry.keyNode, "address '\(addressEntry.key)' must be an integer 0-65535")
                        continue
                    }
                    let elements: [Node]
                    if case .sequence(let sequence) = addressEntry.value {
                        elements = Array(sequence)
                        if elements.isEmpty { reader.error(at: addressEntry.value, "the list at \(table.rawValue) address \(start) is empty") }
                    } else {
                        elements = [addressEntry.value]
                    }
                    var address = start
                    for element in elements {
                        guard let values = cellValues(element, table: table, address: address, dynamics: &dynamics) else {
                            address += 1
                            continue
                        }
                        if address + values.count > 65536 {
                            reader.error(at: element, "\(table.rawValue) values starting at \(start) run past address 65535")
                            break
                        }
                        cells.append(Cell(address: address, values: values, node: element))
                        address += values.count
                    }
                }
                image.tables[table] = merge(cells, table: table, unit: unit)
            }
            fixture.units[unit] = image
            if !dynamics.isEmpty { fixture.dynamics[unit] = dynamics }
        }
        return fixture
    }

    /// Sorts cells into blocks, joining adjacent ones; overlapping cells are errors.
    private mutating func merge(_ cells: [Cell], table: Table, unit: UnitID) -> [Fixture.Block] {
        var blocks: [Fixture.Block] = []
        var lastNode: Node?
        for cell in cells.sorted(by: { $0.address < $1.address }) {
            if let last = blocks.last, cell.address < last.end {
                let line = lastNode.map { reader.location(of: $0).line } ?? 0
                reader.error(at: cell.node, "\(table.rawValue) address \(cell.address) of unit \(unit) is already defined at line \(line)")
                continue
            }
            if let last = blocks.last, cell.address == last.end {
                blocks[blocks.count - 1].values += cell.values
            } else {
                blocks.append(Fixture.Block(start: cell.address, values: cell.values))
            }
            lastNode = cell.node
        }
        return blocks
    }

    private mutating func cellValues(_ node: Node, table: Table, address: Int, dynamics: inout [Fixture.Dynamic]) -> [UInt16]? {
        switch node {
        case .scalar(let scalar):
            if table.holdsBits {
                switch scalar.string.lowercased() {
                case "0", "false": return [0]
                case "1", "true": return [1]
                default:
                    reader.error(at: node, "a \(table.rawValue) value must be 0, 1, true or false, not \(reader.describe(node))")
                    return nil
                }
            }
            guard let value = YAMLReader.parseInteger(scalar.string), (-32768...65535).contains(value) else {
                reader.error(at: node, "a register value must be an integer 0-65535 (or -32768 to -1), not \(reader.describe(node))")
                return nil
            }
            return [UInt16(truncatingIfNeeded: value)]
        case .mapping:
            return typedValue(node, table: table, address: address, dynamics: &dynamics)
        default:
            reader.error(at: node, "a fixture value must be a number or a typed value like {\"float32\": 1.5}, not \(reader.kind(of: node))")
            return nil
        }
    }

    private mutating func typedValue(_ node: Node, table: Table, address: Int, dynamics: inout [Fixture.Dynamic]) -> [UInt16]? {
        guard let entries = reader.mapping(node, "a typed value") else { return nil }
        let typeNames = ValueType.allCases.map(\.rawValue)
        reader.checkKeys(entries, allowed: typeNames + ["order", "length"], in: "a typed value")
        let typeEntries = entries.filter { typeNames.contains($0.key) }
        guard typeEntries.count == 1, let typeEntry = typeEntries.first, let type = ValueType(rawValue: typeEntry.key) else {
            reader.error(at: node, "a typed value names exactly one type, e.g. {\"float32\": 1.5}")
            return nil
        }
        if table.holdsBits != (type == .bool) {
            reader.error(at: typeEntry.keyNode, table.holdsBits ? "a \(table.rawValue) value is a bool, not \(type.rawValue)" : "a bool in a register fixture is not supported; write the register value")
            return nil
        }
        var order = ByteOrder.abcd
        if let orderEntry = entries.first(where: { $0.key == "order" }), let text = reader.string(orderEntry.value, "order") {
            guard let parsed = ByteOrder(name: text, for: type) else {
                reader.error(at: orderEntry.value, "order '\(text)' does not fit \(type.rawValue) (expected \(ByteOrder.names(for: type).joined(separator: ", ")))")
                return nil
            }
            order = parsed
        }
        let length = entries.first(where: { $0.key == "length" }).flatMap { reader.integer($0.value, "length", in: 1...125) }
        if type == .string {
            guard let text = reader.string(typeEntry.value, "the string") else { return nil }
            let registers = length ?? (text.utf8.count + 1) / 2
            guard let encoded = RegisterEncoding.encode(text: text, length: registers, order: order) else {
                reader.error(at: typeEntry.value, "'\(text)' does not fit \(registers) registers")
                return nil
            }
            return encoded
        }
        if case .mapping = typeEntry.value {
            guard let generator = generator(typeEntry.value, seed: UInt64(address) &* 0x9E37_79B9 &+ UInt64(table.readFunction.rawValue)) else { return nil }
            let dynamic = Fixture.Dynamic(table: table, start: address, type: type, order: order, generator: generator)
            dynamics.append(dynamic)
            return dynamic.values(at: 0)
        }
        if type == .bool {
            switch typeEntry.value.scalar?.string.lowercased() {
            case "0", "false": return [0]
            case "1", "true": return [1]
            default:
                reader.error(at: typeEntry.value, "a bool value must be true, false, 0 or 1")
                return nil
            }
        }
        guard case .scalar(let scalar) = typeEntry.value, let number = number(scalar.string, type: type) else {
            reader.error(at: typeEntry.value, "\(reader.describe(typeEntry.value)) is not a \(type.rawValue) value")
            return nil
        }
        guard let encoded = RegisterEncoding.encode(number, as: type, order: order) else {
            reader.error(at: typeEntry.value, "\(scalar.string) does not fit \(type.rawValue)")
            return nil
        }
        return encoded
    }

    private func number(_ text: String, type: ValueType) -> RegisterEncoding.Number? {
        if type.isFloat {
            switch text.lowercased() {
            case ".nan", "nan": return .real(.nan)
            case ".inf", "inf", "+.inf": return .real(.infinity)
            case "-.inf", "-inf": return .real(-.infinity)
            default: return DecimalNumber(text).map { .real($0.double) }
            }
        }
        if let integer = YAMLReader.parseInteger(text) { return .integer(Int64(integer)) }
        if let unsigned = UInt64(text) { return .unsigned(unsigned) }
        return nil
    }

    private mutating func generator(_ node: Node, seed: UInt64) -> ValueGenerator? {
        guard let entries = reader.mapping(node, "a changing value"), entries.count == 1, let entry = entries.first else {
            reader.error(at: node, "a changing value is one of ramp, sine, walk, counter or square, e.g. {\"sine\": {\"mean\": 50, \"amplitude\": 2, \"period\": \"60s\"}}")
            return nil
        }
        let kinds: [String: [String]] = [
            "ramp": ["from", "to", "period"], "sine": ["mean", "amplitude", "period"],
            "walk": ["start", "step", "min", "max", "every"], "counter": ["start", "step", "every"],
            "square": ["period"],
        ]
        guard let keys = kinds[entry.key] else {
            reader.error(at: entry.keyNode, "unknown change '\(entry.key)' (expected ramp, sine, walk, counter or square)\(Suggestion.hintPublic(for: entry.key, among: Array(kinds.keys).sorted()))")
            return nil
        }
        guard let parameters = reader.mapping(entry.value, entry.key) else { return nil }
        reader.checkKeys(parameters, allowed: keys, in: entry.key)
        var values: [String: Double] = [:]
        for parameter in parameters where keys.contains(parameter.key) {
            if ["period", "every"].contains(parameter.key) {
                guard let duration = reader.duration(parameter.value, parameter.key) else { continue }
                let seconds = duration.seconds
                guard seconds > 0 else {
                    reader.error(at: parameter.value, "\(parameter.key) must be more than 0")
                    continue
                }
                values[parameter.key] = seconds
            } else if let number = reader.number(parameter.value, parameter.key) {
                values[parameter.key] = number.double
            }
        }
        let missing = keys.filter { values[$0] == nil }
        let defaulted: Set<String> = ["start"]
        for key in missing where !defaulted.contains(key) {
            if !parameters.contains(where: { $0.key == key }) {
                reader.error(at: entry.value, "\(entry.key) needs '\(key)'")
            }
        }
        guard missing.allSatisfy(defaulted.contains) else { return nil }
        switch entry.key {
        case "ramp": return .ramp(from: values["from"]!, to: values["to"]!, period: values["period"]!)
        case "sine": return .sine(mean: values["mean"]!, amplitude: values["amplitude"]!, period: values["period"]!)
        case "walk":
            guard values["min"]! <= values["max"]! else {
                reader.error(at: entry.value, "walk needs min <= max")
                return nil
            }
            return .walk(start: values["start"] ?? values["min"]!, step: values["step"]!, min: values["min"]!, max: values["max"]!, every: values["every"]!, seed: seed)
        case "counter": return .counter(start: values["start"] ?? 0, step: values["step"]!, every: values["every"]!)
        default: return .square(period: values["period"]!)
        }
    }
}
