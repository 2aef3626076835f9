import Foundation
import JSONLines
import RegisterDecoding
import Testing

@Suite struct JSONBufferTests {
    func text(_ write: (inout JSONBuffer) -> Void) -> String {
        var buffer = JSONBuffer()
        write(&buffer)
        return String(decoding: buffer.bytes, as: UTF8.self)
    }

    @Test(arguments: [
        (Int64.min, "-9223372036854775808"), (-1, "-1"), (0, "0"), (7, "7"), (10, "10"), (Int64.max, "9223372036854775807"),
    ])
    func writesSignedIntegersExactly(value: Int64, expected: String) {
        #expect(text { $0.integer(value) } == expected)
    }

    @Test func writesUnsignedIntegersExactly() {
        #expect(text { $0.unsigned(UInt64.max) } == "18446744073709551615")
        #expect(text { $0.unsigned(1 << 53 + 1) } == "9007199254740993")
    }

    @Test(arguments: [
        (Float(230.1), "230.1"), (Float(0.1), "0.1"), (Float(12.25), "12.25"), (Float(75), "75"), (Float(-0.5), "-0.5"),
        (Float(1e20), "1e20"), (Float(1.5e-7), "1.5e-7"), (Float.greatestFiniteMagnitude, "3.4028235e38"),
    ])
    func writesFloat32AsTheShortestDecimalThatReadsBack(value: Float, expected: String) {
        let written = text { $0.float(value) }
        #expect(written == expected)
        #expect(Float(written) == value)
    }

    @Test(arguments: [(0.3, "0.3"), (71.5, "71.5"), (75.0, "75"), (1e16, "1e16"), (1e-7, "1e-7"), (-2.5e-300, "-2.5e-300")])
    func writesFloat64AsTheShortestDecimalThatReadsBack(value: Double, expected: String) {
        let written = text { $0.double(value) }
        #expect(written == expected)
        #expect(Double(written) == value)
    }

    @Test func escapesStringsPerRFC8259() throws {
        let written = text { $0.string("a\"b\\c\nd\te\u{01}f°\u{7F}") }
        #expect(written == #""a\"b\\c\nd\te\u0001f°\#u{7F}""#)
        let decoded = try JSONSerialization.jsonObject(with: Data(written.utf8), options: [.fragmentsAllowed]) as? String
        #expect(decoded == "a\"b\\c\nd\te\u{01}f°\u{7F}")
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"), (1_795_593_600_000, "2026-11-25T08:00:00.000Z"),
        (951_782_400_123, "2000-02-29T00:00:00.123Z"), (-1, "1969-12-31T23:59:59.999Z"), (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
    ])
    func writesRFC3339TimestampsInUTCWithMilliseconds(milliseconds: Int64, expected: String) {
        #expect(text { $0.timestamp(milliseconds: milliseconds) } == "\"\(expected)\"")
    }

    @Test func agreesWithFoundationOnTimestampsAcrossCenturies() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var state: UInt64 = 12345
        for _ in 0..<2000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let milliseconds = Int64(state % 7_000_000_000_000) - 1_000_000_000_000
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            #expect(text { $0.timestamp(milliseconds: milliseconds) } == "\"\(expected)\"")
        }
    }
}
