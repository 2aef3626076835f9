import RegisterDecoding
import Testing

/// Encode then decode gives the value back, for every type in every order, over many
/// generated values (seeded, so a failure repeats).
@Suite struct RoundTripTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func orders(_ type: ValueType) -> [ByteOrder] {
        type.fixedRegisterCount == 1 ? [.abcd, .badc] : ByteOrder.allCases
    }

    func roundTrip(_ number: RegisterEncoding.Number, _ type: ValueType, _ order: ByteOrder) -> PointDecoding.Decoded? {
        guard let registers = RegisterEncoding.encode(number, as: type, order: order) else { return nil }
        let decoding = PointDecoding(type: type, order: order)
        return registers.withUnsafeBufferPointer { decoding.decode($0) }
    }

    @Test(arguments: [ValueType.int16, .int32, .int64])
    func signedIntegersSurviveEveryOrder(type: ValueType) {
        var random = Generator(state: 1)
        let bits = type.bitWidth
        for _ in 0..<5000 {
            let raw = Int64(bitPattern: random.next())
            let value = bits == 64 ? raw : raw >> Int64(64 - bits)
            for order in Self.orders(type) {
                #expect(roundTrip(.integer(value), type, order) == .value(.int(value)))
            }
        }
    }

    @Test(arguments: [ValueType.uint16, .uint32, .uint64])
    func unsignedIntegersSurviveEveryOrder(type: ValueType) {
        var random = Generator(state: 2)
        let bits = type.bitWidth
        for _ in 0..<5000 {
            let value = bits == 64 ? random.next() : random.next() >> UInt64(64 - bits)
            for order in Self.orders(type) {
                #expect(roundTrip(.unsigned(value), type, order) == .value(.uint(value)))
            }
        }
    }

    @Test func floatsSurviveEveryOrder() {
        var random = Generator(state: 3)
        for _ in 0..<5000 {
            let single = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
            let double = Double(bitPattern: random.next())
            for order in ByteOrder.allCases {
                if single.isFinite { #expect(roundTrip(.real(Double(single)), .float32, order) == .value(.float(single))) }
                if double.isFinite { #expect(roundTrip(.real(double), .float64, order) == .value(.double(double))) }
            }
        }
    }

    @Test func bcdSurvivesEveryOrder() {
        var random = Generator(state: 4)
        for _ in 0..<2000 {
            let small = random.next() % 10_000
            let large = random.next() % 100_000_000
            for order in [ByteOrder.abcd, .badc] { #expect(roundTrip(.unsigned(small), .bcd16, order) == .value(.uint(small))) }
            for order in ByteOrder.allCases { #expect(roundTrip(.unsigned(large), .bcd32, order) == .value(.uint(large))) }
        }
        #expect(RegisterEncoding.encode(.integer(10_000), as: .bcd16) == nil)
    }

    @Test func stringsSurviveEveryOrder() {
        var random = Generator(state: 5)
        let alphabet = Array("ABCXYZabcxyz0189-_. /°µ€")
        for _ in 0..<2000 {
            let length = Int(random.next() % 8) + 1
            var text = String((0..<Int(random.next() % UInt64(length * 2 + 1))).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            while text.utf8.count > length * 2 { text.removeLast() }
            while text.last == " " { text.removeLast() }
            for order in ByteOrder.allCases {
                guard let registers = RegisterEncoding.encode(text: text, length: length, order: order) else {
                    Issue.record("\(text) fits \(length) registers")
                    continue
                }
                let decoding = PointDecoding(type: .string, order: order, registerCount: length)
                #expect(registers.withUnsafeBufferPointer { decoding.decode($0) } == .value(.string(text)), "\(text) \(order)")
            }
        }
    }

    @Test func refusesValuesThatDoNotFitTheType() {
        #expect(RegisterEncoding.encode(.integer(32768), as: .int16) == nil)
        #expect(RegisterEncoding.encode(.integer(-1), as: .uint32) == nil)
        #expect(RegisterEncoding.encode(.real(1.5), as: .int32) == nil)
        #expect(RegisterEncoding.encode(.unsigned(UInt64.max), as: .int64) == nil)
        #expect(RegisterEncoding.encode(text: "ABC", length: 1) == nil)
    }
}
