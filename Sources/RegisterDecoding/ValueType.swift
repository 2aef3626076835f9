/// The data types a point can have (SPEC section 2).
public enum ValueType: String, CaseIterable, Hashable, Sendable {
    /// A coil, a discrete input, or one `bit` of a register.
    case bool
    /// Two's-complement 16-bit integer, one register.
    case int16
    /// Unsigned 16-bit integer, one register.
    case uint16
    /// Two's-complement 32-bit integer, two registers.
    case int32
    /// Unsigned 32-bit integer, two registers.
    case uint32
    /// Two's-complement 64-bit integer, four registers.
    case int64
    /// Unsigned 64-bit integer, four registers.
    case uint64
    /// IEEE 754 binary32, two registers.
    case float32
    /// IEEE 754 binary64, four registers.
    case float64
    /// ASCII/UTF-8 text, two bytes per register, `length` registers.
    case string
    /// Four binary-coded decimal digits, one register (0...9999).
    case bcd16
    /// Eight binary-coded decimal digits, two registers (0...99999999).
    case bcd32

    /// Registers the type occupies; `nil` for `string`, whose length is given by the point.
    public var fixedRegisterCount: Int? {
        switch self {
        case .bool, .int16, .uint16, .bcd16: 1
        case .int32, .uint32, .float32, .bcd32: 2
        case .int64, .uint64, .float64: 4
        case .string: nil
        }
    }

    /// Bits of the raw value (16, 32 or 64) for numeric types; 0 for `bool` and `string`.
    public var bitWidth: Int {
        switch self {
        case .bool, .string: 0
        default: (fixedRegisterCount ?? 0) * 16
        }
    }

    /// Whether the raw value is an integer (signed, unsigned or BCD), so `labels` apply.
    public var isInteger: Bool {
        switch self {
        case .int16, .uint16, .int32, .uint32, .int64, .uint64, .bcd16, .bcd32: true
        default: false
        }
    }

    /// Whether the type is two's-complement signed.
    public var isSigned: Bool {
        self == .int16 || self == .int32 || self == .int64
    }

    /// Whether the type is an IEEE 754 float.
    public var isFloat: Bool {
        self == .float32 || self == .float64
    }
}
