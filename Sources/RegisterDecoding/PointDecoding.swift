/// Everything needed to turn a point's registers into its ``Value``: type, byte order, bit,
/// length, scaling, `nodata` and `labels` (SPEC section 2).
public struct PointDecoding: Hashable, Sendable {
    /// The data type.
    public var type: ValueType
    /// The byte order of multi-byte values.
    public var order: ByteOrder
    /// For a `bool` read from a register: the bit, 0 = least significant. `nil` for coils and
    /// discrete inputs, whose values are single bits already.
    public var bit: Int?
    /// Registers of a `string`; for other types, their fixed register count.
    public var registerCount: Int
    /// Linear scaling; `nil` keeps integers as integers.
    public var scaling: Scaling?
    /// Raw values meaning "not available" (compared after byte order, before scaling).
    public var noData: NoData
    /// Text written in place of integer raw values, keyed by their bit pattern.
    public var labels: [UInt64: String]

    /// Raw values that mean "not available".
    public struct NoData: Hashable, Sendable {
        /// Bit patterns of integer raw values, masked to the type's width.
        public var patterns: Set<UInt64>
        /// Float raw values; NaN here matches any NaN.
        public var floats: [Double]
        /// String values, compared after trailing NULs and spaces are removed (`""` is SunSpec's
        /// "not implemented": all NUL).
        public var strings: Set<String>

        /// No `nodata` values.
        public static let none = NoData(patterns: [], floats: [])

        /// Creates a set of `nodata` values.
        public init(patterns: Set<UInt64>, floats: [Double], strings: Set<String> = []) {
            self.patterns = patterns
            self.floats = floats
            self.strings = strings
        }

        /// Whether the set is empty.
        public var isEmpty: Bool { patterns.isEmpty && floats.isEmpty && strings.isEmpty }
    }

    /// Creates a decoding; `registerCount` defaults to the type's fixed count (1 for a bool).
    public init(
        type: ValueType, order: ByteOrder = .abcd, bit: Int? = nil, registerCount: Int? = nil,
        scaling: Scaling? = nil, noData: NoData = .none, labels: [UInt64: String] = [:]
    ) {
        self.type = type
        self.order = order
        self.bit = bit
        self.registerCount = registerCount ?? type.fixedRegisterCount ?? 1
        self.scaling = scaling
        self.noData = noData
        self.labels = labels
    }

    /// The mask of the type's bit width (all ones for 64-bit types).
    public var widthMask: UInt64 {
        type.bitWidth >= 64 ? .max : (1 << UInt64(type.bitWidth)) - 1
    }

    /// The bit pattern an integer literal from a map stands for in this type, or `nil` when it
    /// fits neither the signed nor the unsigned range of the type's width (so 0x8000 and
    /// -32768 both name the same int16 pattern).
    public func pattern(of literal: Int64) -> UInt64? {
        let width = type.bitWidth
        guard width > 0 else { return nil }
        if width == 64 { return UInt64(bitPattern: literal) }
        let lower = -(Int64(1) << (width - 1))
        let upper = (Int64(1) << width) - 1
        guard literal >= lower, literal <= upper else { return nil }
        return UInt64(bitPattern: literal) & widthMask
    }

    /// Decodes a point's registers (bits as 0/1 for coils and discrete inputs).
    ///
    /// - Parameters:
    ///   - registers: exactly ``registerCount`` values.
    ///   - scaleFactor: for `scale_factor` points, the raw int16 of the scale-factor point:
    ///     the value becomes `raw × 10^scaleFactor`.
    /// - Returns: the value, or why the registers do not hold a valid one (invalid BCD digit,
    ///   invalid UTF-8, NaN or infinity).
    public func decode(_ registers: UnsafeBufferPointer<UInt16>, scaleFactor: Int16? = nil) -> Decoded {
        precondition(registers.count == registerCount, "a point's registers must match its register count")
        switch type {
        case .bool:
            let word = registers[0]
            if let bit { return .value(.bool((word >> UInt16(bit)) & 1 == 1)) }
            return .value(.bool(word != 0))
        case .string:
            return decodeString(registers)
        case .float32:
            let bits = UInt32(truncatingIfNeeded: order.assemble(registers))
            let float = Float(bitPattern: bits)
            return floating(Double(float), unscaled: .float(float), scaleFactor: scaleFactor)
        case .float64:
            let double = Double(bitPattern: order.assemble(registers))
            return floating(double, unscaled: .double(double), scaleFactor: scaleFactor)
        default:
            return integer(order.assemble(registers), scaleFactor: scaleFactor)
        }
    }

    /// The outcome of decoding one point.
    public enum Decoded: Hashable, Sendable {
        /// A value (``Value/null`` when the raw value is a `nodata` value).
        case value(Value)
        /// The registers do not hold a valid value of the type; the message says why.
        case invalid(String)
    }

    @inline(__always)
    private func integer(_ raw: UInt64, scaleFactor: Int16?) -> Decoded {
        if !noData.patterns.isEmpty, noData.patterns.contains(raw) { return .value(.null) }
        if !labels.isEmpty, let label = labels[raw] { return .value(.string(label)) }
        let scaling = scaleFactor.map { Scaling(powerOfTen: Int($0)) } ?? self.scaling
        switch type {
        case .bcd16, .bcd32:
            guard let number = Self.bcd(raw, digits: type == .bcd16 ? 4 : 8) else {
                let hex = String(raw, radix: 16, uppercase: true)
                let padded = String(repeating: "0", count: max(0, (type == .bcd16 ? 4 : 8) - hex.count)) + hex
                return .invalid("0x\(padded) is not a valid \(type.rawValue) value (a digit above 9)")
            }
            if let scaling { return .value(.double(scaling.apply(Int64(number)))) }
            return .value(.uint(number))
        case .int16, .int32, .int64:
            let shift = UInt64(64 - type.bitWidth)
            let signed = Int64(bitPattern: raw << shift) >> Int64(shift)
            if let scaling { return .value(.double(scaling.apply(signed))) }
            return .value(.int(signed))
        default:
            if let scaling { return .value(.double(scaling.apply(raw))) }
            return .value(.uint(raw))
        }
    }

    @inline(__always)
    private func floating(_ raw: Double, unscaled: Value, scaleFactor: Int16?) -> Decoded {
        if !noData.floats.isEmpty {
            for candidate in noData.floats where candidate == raw || (candidate.isNaN && raw.isNaN) {
                return .value(.null)
            }
        }
        guard raw.isFinite else {
            return .invalid(raw.isNaN ? "the \(type.rawValue) is NaN" : "the \(type.rawValue) is infinite")
        }
        let scaling = scaleFactor.map { Scaling(powerOfTen: Int($0)) } ?? self.scaling
        guard let scaling else { return .value(unscaled) }
        let scaled = scaling.apply(raw)
        guard scaled.isFinite else { return .invalid("the scaled value is out of range") }
        return .value(.double(scaled))
    }

    private func decodeString(_ registers: UnsafeBufferPointer<UInt16>) -> Decoded {
        // The bytes go straight into the String's own storage: strings are decoded on every
        // cycle, and a short one (15 bytes or fewer) then never touches the heap.
        var valid = true
        let text = String(unsafeUninitializedCapacity: registers.count * 2) { bytes in
            var count = 0
            var highBits: UInt8 = 0
            for index in 0..<registers.count {
                let word = registers[order.swapsWords ? registers.count - 1 - index : index]
                let high = UInt8(truncatingIfNeeded: word >> 8)
                let low = UInt8(truncatingIfNeeded: word)
                bytes[count] = order.swapsBytes ? low : high
                bytes[count + 1] = order.swapsBytes ? high : low
                highBits |= high | low
                count += 2
            }
            while count > 0, bytes[count - 1] == 0 || bytes[count - 1] == 0x20 { count -= 1 }
            // ASCII is valid UTF-8; anything else is checked here, since this initialiser
            // would repair invalid UTF-8 instead of refusing it.
            if highBits >= 0x80, String(validating: UnsafeBufferPointer(rebasing: bytes[0..<count]), as: UTF8.self) == nil {
                valid = false
                return 0
            }
            return count
        }
        guard valid else { return .invalid("the string is not valid UTF-8") }
        if !noData.strings.isEmpty, noData.strings.contains(text) { return .value(.null) }
        return .value(.string(text))
    }

    /// The number `digits` BCD nibbles of `raw` stand for, or `nil` when a nibble is above 9.
    @inline(__always)
    static func bcd(_ raw: UInt64, digits: Int) -> UInt64? {
        var result: UInt64 = 0
        var shift = UInt64(4 * (digits - 1))
        for _ in 0..<digits {
            let nibble = (raw >> shift) & 0xF
            guard nibble <= 9 else { return nil }
            result = result * 10 + nibble
            shift &-= 4
        }
        return result
    }
}
