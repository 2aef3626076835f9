import ModbusProtocol
import RegisterDecoding

/// A register image to serve (SPEC section 3): for each unit, for each table, blocks of
/// consecutive values, some of which may change over time.
public struct Fixture: Hashable, Sendable {
    /// The image of one unit.
    public struct Unit: Hashable, Sendable {
        /// Per table, the blocks of the image.
        public var tables: [Table: [Block]] = [:]

        /// Creates an empty unit.
        public init() {}
    }

    /// Consecutive addresses with their values (registers, or bits as 0/1).
    public struct Block: Hashable, Sendable {
        /// First address.
        public var start: Int
        /// The values, one per address.
        public var values: [UInt16]

        /// Creates a block.
        public init(start: Int, values: [UInt16]) {
            self.start = start
            self.values = values
        }

        /// One past the last address.
        public var end: Int { start + values.count }
    }

    /// A value that changes over time, occupying `count` addresses from `start`.
    public struct Dynamic: Hashable, Sendable {
        /// The table.
        public var table: Table
        /// First address.
        public var start: Int
        /// The type the value is encoded as.
        public var type: ValueType
        /// Its byte order.
        public var order: ByteOrder
        /// How it changes.
        public var generator: ValueGenerator

        /// Creates a dynamic value.
        public init(table: Table, start: Int, type: ValueType, order: ByteOrder, generator: ValueGenerator) {
            self.table = table
            self.start = start
            self.type = type
            self.order = order
            self.generator = generator
        }

        /// Addresses it occupies.
        public var count: Int { table.holdsBits ? 1 : type.fixedRegisterCount ?? 1 }

        /// Its registers (or bit) at `seconds` after start.
        public func values(at seconds: Double) -> [UInt16] {
            let value = generator.value(at: seconds)
            if table.holdsBits || type == .bool { return [value >= 0.5 ? 1 : 0] }
            let number: RegisterEncoding.Number
            if type.isFloat {
                number = .real(value)
            } else {
                let rounded = value.rounded()
                let bits = type.bitWidth
                let low = type.isSigned ? -pow2(bits - 1) : 0
                let high = type.isSigned ? pow2(bits - 1) - 1 : pow2(bits) - 1
                let clamped = min(max(rounded, low), high)
                if type == .bcd16 || type == .bcd32 {
                    let limit = type == .bcd16 ? 9999.0 : 99_999_999.0
                    number = .integer(Int64(min(max(rounded, 0), limit)))
                } else if clamped >= 9.2e18 {
                    number = .unsigned(UInt64(clamped))
                } else {
                    number = .integer(Int64(clamped))
                }
            }
            return RegisterEncoding.encode(number, as: type, order: order) ?? Array(repeating: 0, count: count)
        }

        private func pow2(_ exponent: Int) -> Double {
            var result = 1.0
            for _ in 0..<exponent { result *= 2 }
            return result
        }
    }

    /// The units, by identifier.
    public var units: [UnitID: Unit] = [:]
    /// The values that change over time, by unit.
    public var dynamics: [UnitID: [Dynamic]] = [:]

    /// Creates an empty fixture.
    public init() {}
}

extension Fixture {
    /// A fixture holding exactly `registers` (by unit, table and address), consecutive
    /// addresses joined into blocks: what `snapshot` writes.
    public init(registers: [UnitID: [Table: [Int: UInt16]]]) {
        self.init()
        for (unit, tables) in registers {
            var image = Unit()
            for (table, values) in tables {
                var blocks: [Block] = []
                for address in values.keys.sorted() {
                    if let last = blocks.last, last.end == address {
                        blocks[blocks.count - 1].values.append(values[address]!)
                    } else {
                        blocks.append(Block(start: address, values: [values[address]!]))
                    }
                }
                image.tables[table] = blocks
            }
            units[unit] = image
        }
    }
}
