/// One of the four Modbus data tables a poller can read.
public enum Table: String, CaseIterable, Hashable, Sendable, Comparable {
    /// Read/write single bits, read with function code 1.
    case coil
    /// Read-only single bits, read with function code 2.
    case discrete
    /// Read/write 16-bit registers, read with function code 3.
    case holding
    /// Read-only 16-bit registers, read with function code 4.
    case input

    /// The function code that reads this table.
    public var readFunction: FunctionCode {
        switch self {
        case .coil: .readCoils
        case .discrete: .readDiscreteInputs
        case .holding: .readHoldingRegisters
        case .input: .readInputRegisters
        }
    }

    /// Whether the table holds single bits (coils, discrete inputs) rather than registers.
    public var holdsBits: Bool {
        self == .coil || self == .discrete
    }

    /// The most values one read request may ask for (Modbus Application Protocol v1.1b3, 6.1-6.4).
    public var maximumReadCount: Int {
        holdsBits ? 2000 : 125
    }

    /// The table a read function code reads, if it is one of the four read functions.
    public init?(readFunction: FunctionCode) {
        switch readFunction {
        case .readCoils: self = .coil
        case .readDiscreteInputs: self = .discrete
        case .readHoldingRegisters: self = .holding
        case .readInputRegisters: self = .input
        default: return nil
        }
    }

    private var sortKey: Int {
        switch self {
        case .coil: 0
        case .discrete: 1
        case .holding: 2
        case .input: 3
        }
    }

    public static func < (lhs: Table, rhs: Table) -> Bool { lhs.sortKey < rhs.sortKey }
}
