import RegisterDecoding
import Testing

/// Every type in every order, with golden register images from outside this code: IEEE 754
/// bit patterns, two's complement, libmodbus's vectors, BCD as the Modbus world writes it.
@Suite struct PointDecodingTests {
    func decode(_ registers: [UInt16], _ type: ValueType, _ order: ByteOrder = .abcd, bit: Int? = nil, length: Int? = nil,
                scaling: Scaling? = nil, noData: PointDecoding.NoData = .none, labels: [UInt64: String] = [:], scaleFactor: Int16? = nil) -> PointDecoding.Decoded {
        let decoding = PointDecoding(type: type, order: order, bit: bit, registerCount: length, scaling: scaling, noData: noData, labels: labels)
        return registers.withUnsafeBufferPointer { decoding.decode($0, scaleFactor: scaleFactor) }
    }

    /// The value `registers` (written big-endian, ABCD) decode to; the test then presents the same
    /// bytes in each of the other orders and expects the same value.
    static let goldenBigEndian: [(ValueType, [UInt16], Value)] = [
        (.int16, [0x0000], .int(0)), (.int16, [0x7FFF], .int(32767)), (.int16, [0x8000], .int(-32768)), (.int16, [0xFFFF], .int(-1)),
        (.uint16, [0xFFFF], .uint(65535)), (.uint16, [0x1234], .uint(0x1234)),
        (.int32, [0xFFFF, 0xFFFE], .int(-2)), (.int32, [0x8000, 0x0000], .int(Int64(Int32.min))), (.int32, [0x0001, 0x86A0], .int(100_000)),
        (.uint32, [0xFFFF, 0xFFFF], .uint(4_294_967_295)), (.uint32, [0x0001, 0x86A0], .uint(100_000)),
        (.int64, [0x8000, 0x0000, 0x0000, 0x0000], .int(Int64.min)), (.int64, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], .int(-1)),
        (.uint64, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], .uint(UInt64.max)), (.uint64, [0x0020, 0x0000, 0x0000, 0x0001], .uint(9_007_199_254_740_993)),
        // IEEE 754 binary32: 0x43668000 = 230.5, 0x3F800000 = 1, 0xC0000000 = -2, 0x3DCCCCCD = 0.1f, 0x47F12000 = 123456 (libmodbus).
        (.float32, [0x4366, 0x8000], .float(230.5)), (.float32, [0x3F80, 0x0000], .float(1)), (.float32, [0xC000, 0x0000], .float(-2)),
        (.float32, [0x3DCC, 0xCCCD], .float(0.1)), (.float32, [0x47F1, 0x2000], .float(123_456)), (.float32, [0x0000, 0x0001], .float(Float(bitPattern: 1))),
        // IEEE 754 binary64: 0x400921FB54442D18 = π, 0x3FB999999999999A = 0.1.
        (.float64, [0x4009, 0x21FB, 0x5444, 0x2D18], .double(Double.pi)), (.float64, [0x3FB9, 0x9999, 0x9999, 0x999A], .double(0.1)),
        (.bcd16, [0x1234], .uint(1234)), (.bcd16, [0x9999], .uint(9999)), (.bcd32, [0x1234, 0x5678], .uint(12_345_678)),
    ]

    /// The same bytes as they come off the wire in `order`.
    static func wire(_ bigEndian: [UInt16], _ order: ByteOrder) -> [UInt16] {
        var registers = bigEndian
        if order.swapsWords { registers.reverse() }
        if order.swapsBytes { registers = registers.map(\.byteSwapped) }
        return registers
    }

    @Test func decodesGoldenValuesOfEveryTypeInEveryOrder() {
        for (type, registers, expected) in Self.goldenBigEndian {
            let orders: [ByteOrder] = registers.count == 1 ? [.abcd, .badc] : ByteOrder.allCases
            for order in orders {
                #expect(decode(Self.wire(registers, order), type, order) == .value(expected), "\(type) \(order)")
            }
        }
    }

    @Test func decodesBitsOfARegisterAndCoils() {
        for bit in 0..<16 {
            #expect(decode([UInt16(1) << UInt16(bit)], .bool, bit: bit) == .value(.bool(true)))
            #expect(decode([~(UInt16(1) << UInt16(bit))], .bool, bit: bit) == .value(.bool(false)))
        }
        #expect(decode([1], .bool) == .value(.bool(true)))
        #expect(decode([0], .bool) == .value(.bool(false)))
    }

    @Test func decodesStringsHighByteFirstAndTrimsTrailingNulAndSpace() {
        // "AB12-345" = 41 42 31 32 2D 33 34 35, then NUL padding.
        #expect(decode([0x4142, 0x3132, 0x2D33, 0x3435, 0x0000, 0x0000], .string, length: 6) == .value(.string("AB12-345")))
        #expect(decode([0x4142, 0x2020, 0x2000], .string, length: 3) == .value(.string("AB")))
        #expect(decode([0x2041, 0x0042], .string, length: 2) == .value(.string(" A\u{0}B")), "only trailing NULs and spaces go")
        #expect(decode([0x4241, 0x0043], .string, .badc, length: 2) == .value(.string("ABC")))
        #expect(decode([0x4344, 0x4142], .string, .cdab, length: 2) == .value(.string("ABCD")))
        #expect(decode([0x4443, 0x4241], .string, .dcba, length: 2) == .value(.string("ABCD")))
        #expect(decode([0xC2B0, 0x4300], .string, length: 2) == .value(.string("°C")))
        #expect(decode([0x0000, 0x0000], .string, length: 2) == .value(.string("")))
    }

    @Test func reportsInvalidUTF8AsADecodeErrorNotACrash() {
        #expect(decode([0x41FF, 0xFE42], .string, length: 2) == .invalid("the string is not valid UTF-8"))
        #expect(decode([0xC200], .string, length: 1) == .invalid("the string is not valid UTF-8"))
    }

    @Test func reportsInvalidBCDDigits() {
        #expect(decode([0x12A4], .bcd16) == .invalid("0x12A4 is not a valid bcd16 value (a digit above 9)"))
        #expect(decode([0x0000, 0x000F], .bcd32) == .invalid("0x0000000F is not a valid bcd32 value (a digit above 9)"))
    }

    @Test func reportsNaNAndInfinityAsDecodeErrors() {
        #expect(decode([0x7FC0, 0x0000], .float32) == .invalid("the float32 is NaN"))
        #expect(decode([0x7F80, 0x0000], .float32) == .invalid("the float32 is infinite"))
        #expect(decode([0xFFF0, 0, 0, 0], .float64) == .invalid("the float64 is infinite"))
    }

    @Test func scalesWithASingleRounding() {
        let tenth = Scaling(scale: DecimalNumber("0.1")!)
        #expect(decode([3], .uint16, scaling: tenth) == .value(.double(0.3)))
        #expect(decode([715], .int16, scaling: tenth) == .value(.double(71.5)))
        #expect(decode([0xFFFF], .int16, scaling: tenth) == .value(.double(-0.1)))
        let celsius = Scaling(scale: DecimalNumber("0.1")!, offset: DecimalNumber("-40")!)
        #expect(decode([2315], .uint16, scaling: celsius) == .value(.double(191.5)))
        let kilo = Scaling(scale: DecimalNumber("1000")!)
        #expect(decode([0x0001, 0x86A0], .uint32, scaling: kilo) == .value(.double(100_000_000)))
        let offsetOnly = Scaling(offset: DecimalNumber("273.15")!)
        #expect(decode([20], .int16, scaling: offsetOnly) == .value(.double(293.15)))
        #expect(decode([0x3F80, 0x0000], .float32, scaling: Scaling(scale: DecimalNumber("2.5")!)) == .value(.double(2.5)))
    }

    @Test func appliesSunSpecScaleFactorsAsPowersOfTen() {
        #expect(decode([1500], .uint16, scaleFactor: -1) == .value(.double(150)))
        #expect(decode([1234], .int16, scaleFactor: -2) == .value(.double(12.34)))
        #expect(decode([12], .uint16, scaleFactor: 3) == .value(.double(12_000)))
        #expect(decode([7], .uint16, scaleFactor: 0) == .value(.double(7)))
    }

    @Test func writesNullForNodataValuesComparedBeforeScalingAfterByteOrder() {
        let int16NotImplemented = PointDecoding.NoData(patterns: [0x8000], floats: [])
        #expect(decode([0x8000], .int16, scaling: Scaling(scale: DecimalNumber("0.1")!), noData: int16NotImplemented) == .value(.null))
        #expect(decode([0x0080], .int16, .badc, noData: int16NotImplemented) == .value(.null))
        #expect(decode([0x7FFF], .int16, noData: int16NotImplemented) == .value(.int(32767)))
        let acc32 = PointDecoding.NoData(patterns: [0xFFFF_FFFF], floats: [])
        #expect(decode([0xFFFF, 0xFFFF], .uint32, .cdab, noData: acc32) == .value(.null))
        #expect(decode([0xFFFF], .bcd16, noData: PointDecoding.NoData(patterns: [0xFFFF], floats: [])) == .value(.null), "nodata is checked before BCD digits")
        #expect(decode([0x7FC0, 0x0000], .float32, noData: PointDecoding.NoData(patterns: [], floats: [.nan])) == .value(.null))
        #expect(decode([0xBF80, 0x0000], .float32, noData: PointDecoding.NoData(patterns: [], floats: [-1])) == .value(.null))
    }

    @Test func writesLabelsForListedValuesAndNumbersForOthers() {
        let labels: [UInt64: String] = [0: "off", 1: "auto", 2: "manual", 0xFFFF: "fault"]
        #expect(decode([1], .uint16, labels: labels) == .value(.string("auto")))
        #expect(decode([0xFFFF], .int16, labels: labels) == .value(.string("fault")))
        #expect(decode([7], .uint16, labels: labels) == .value(.uint(7)))
        #expect(decode([7], .uint16, scaling: Scaling(scale: DecimalNumber("0.5")!), labels: labels) == .value(.double(3.5)))
    }

    @Test func namesTheBitPatternOfIntegerLiterals() {
        let int16 = PointDecoding(type: .int16)
        #expect(int16.pattern(of: -32768) == 0x8000)
        #expect(int16.pattern(of: 0x8000) == 0x8000)
        #expect(int16.pattern(of: 65535) == 0xFFFF)
        #expect(int16.pattern(of: 65536) == nil)
        #expect(int16.pattern(of: -32769) == nil)
        #expect(PointDecoding(type: .int64).pattern(of: -1) == UInt64.max)
        #expect(PointDecoding(type: .string, registerCount: 2).pattern(of: 1) == nil)
    }
}

@Suite struct StringNodataTests {
    @Test func anAllNulStringIsNullWhenTheMapSaysSo() {
        let decoding = PointDecoding(type: .string, registerCount: 2, noData: .init(patterns: [], floats: [], strings: [""]))
        #expect([UInt16(0), 0].withUnsafeBufferPointer { decoding.decode($0) } == .value(.null))
        #expect([UInt16(0x4142), 0].withUnsafeBufferPointer { decoding.decode($0) } == .value(.string("AB")))
    }
}
