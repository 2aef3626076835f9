/// The inverse of decoding: the registers a device holds for a value of a given type and
/// order. The simulator uses it for typed fixture values; tests use it for round trips.
public enum RegisterEncoding {
    /// A number to encode.
    public enum Number: Hashable, Sendable {
        /// A signed integer.
        case integer(Int64)
        /// An unsigned integer above `Int64.max`.
        case unsigned(UInt64)
        /// A real number.
        case real(Double)
    }

    /// The registers holding `number` as `type` in `order`, or `nil` when the number does not
    /// fit the type (a fraction for an integer type, a value out of range, more than 4 or 8
    /// digits for BCD).
    public static func encode(_ number: Number, as type: ValueType, order: ByteOrder = .abcd) -> [UInt16]? {
        guard let count = type.fixedRegisterCount, type != .bool else { return nil }
        let raw: UInt64
        switch type {
        case .float32:
            guard let value = number.double else { return nil }
            raw = UInt64(Float(value).bitPattern)
        case .float64:
            guard let value = number.double else { return nil }
            raw = value.bitPattern
        case .bcd16, .bcd32:
            let digits = type == .bcd16 ? 4 : 8
            guard let value = number.unsignedValue, value < power(10, digits) else { return nil }
            var remaining = value
            var packed: UInt64 = 0
            for digit in 0..<digits {
                packed |= (remaining % 10) << UInt64(4 * digit)
                remaining /= 10
            }
            raw = packed
        default:
            guard let pattern = integerPattern(number, type: type) else { return nil }
            raw = pattern
        }
        return order.disassemble(raw, count: count)
    }

    /// The registers holding `text` in `length` registers (UTF-8, NUL-padded), or `nil` when
    /// it does not fit.
    public static func encode(text: String, length: Int, order: ByteOrder = .abcd) -> [UInt16]? {
        var bytes = Array(text.utf8)
        guard bytes.count <= length * 2 else { return nil }
        bytes += repeatElement(0, count: length * 2 - bytes.count)
        var words = (0..<length).map { index -> UInt16 in
            let first = UInt16(bytes[2 * index])
            let second = UInt16(bytes[2 * index + 1])
            return order.swapsBytes ? second << 8 | first : first << 8 | second
        }
        if order.swapsWords { words.reverse() }
        return words
    }

    private static func integerPattern(_ number: Number, type: ValueType) -> UInt64? {
        let width = type.bitWidth
        switch number {
        case .unsigned(let value):
            guard !type.isSigned, width == 64 || value < UInt64(1) << UInt64(width) else { return nil }
            return value
        case .integer(let value):
            if type.isSigned {
                if width < 64 {
                    let bound = Int64(1) << (width - 1)
                    guard value >= -bound, value < bound else { return nil }
                }
                return UInt64(bitPattern: value) & mask(width)
            }
            guard value >= 0, width == 64 || value < Int64(1) << width else { return nil }
            return UInt64(value)
        case .real(let value):
            guard value.rounded() == value, let integer = Int64(exactly: value) else {
                if let unsigned = UInt64(exactly: value) { return integerPattern(.unsigned(unsigned), type: type) }
                return nil
            }
            return integerPattern(.integer(integer), type: type)
        }
    }

    private static func mask(_ width: Int) -> UInt64 {
        width >= 64 ? .max : (1 << UInt64(width)) - 1
    }

    private static func power(_ base: UInt64, _ exponent: Int) -> UInt64 {
        (0..<exponent).reduce(1) { result, _ in result * base }
    }
}

extension RegisterEncoding.Number {
    var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .unsigned(let value): Double(value)
        case .real(let value): value
        }
    }

    var unsignedValue: UInt64? {
        switch self {
        case .integer(let value): UInt64(exactly: value)
        case .unsigned(let value): value
        case .real(let value): UInt64(exactly: value)
        }
    }
}
