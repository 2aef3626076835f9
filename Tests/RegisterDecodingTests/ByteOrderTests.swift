import RegisterDecoding
import Testing

@Suite struct ByteOrderTests {
    func decode(_ registers: [UInt16], _ decoding: PointDecoding) -> PointDecoding.Decoded {
        registers.withUnsafeBufferPointer { decoding.decode($0) }
    }

    /// libmodbus's own float byte-order vectors (tests/unit-test.h.in, 3.1.6): the float 123456.00
    /// as it appears on the wire in each order.
    @Test(arguments: [
        (ByteOrder.abcd, [UInt16(0x47F1), 0x2000]),
        (.dcba, [0x0020, 0xF147]),
        (.badc, [0xF147, 0x0020]),
        (.cdab, [0x2000, 0x47F1]),
    ])
    func decodesLibmodbusFloatVectorsInEveryOrder(order: ByteOrder, registers: [UInt16]) {
        #expect(decode(registers, PointDecoding(type: .float32, order: order)) == .value(.float(123456.0)))
    }

    @Test func assemblesAndDisassemblesEveryOrderOf64BitValues() {
        // ABCDEFGH = 0x0102030405060708 on the wire in each order.
        let cases: [(ByteOrder, [UInt16])] = [
            (.abcd, [0x0102, 0x0304, 0x0506, 0x0708]),  // ABCDEFGH
            (.cdab, [0x0708, 0x0506, 0x0304, 0x0102]),  // GHEFCDAB
            (.badc, [0x0201, 0x0403, 0x0605, 0x0807]),  // BADCFEHG
            (.dcba, [0x0807, 0x0605, 0x0403, 0x0201]),  // HGFEDCBA
        ]
        for (order, registers) in cases {
            #expect(decode(registers, PointDecoding(type: .uint64, order: order)) == .value(.uint(0x0102_0304_0506_0708)), "\(order)")
            #expect(order.disassemble(0x0102_0304_0506_0708, count: 4) == registers)
        }
    }

    @Test func acceptsOnlyTheOrdersThatFitTheType() {
        #expect(ByteOrder(name: "BA", for: .int16) == .badc)
        #expect(ByteOrder(name: "ABCD", for: .int16) == nil)
        #expect(ByteOrder(name: "GHEFCDAB", for: .float64) == .cdab)
        #expect(ByteOrder(name: "GHEFCDAB", for: .float32) == nil)
        #expect(ByteOrder(name: "AB", for: .bool) == nil)
        #expect(ByteOrder(name: "DCBA", for: .string) == .dcba)
    }
}
