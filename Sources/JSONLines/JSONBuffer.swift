import RegisterDecoding

/// Appends JSON tokens to a byte buffer: strings escaped per RFC 8259, numbers in their
/// shortest exact form, RFC 3339 timestamps. No Foundation, no per-token allocation for
/// integers, strings and timestamps.
public struct JSONBuffer: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// Creates an empty buffer with room for `capacity` bytes.
    public init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer, keeping its storage.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends raw ASCII (punctuation, keys known to need no escaping).
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a copy of the first `length` bytes written since the last reset.
    public mutating func repeatPrefix(_ length: Int) {
        precondition(length <= bytes.count, "a prefix cannot be longer than the buffer")
        for index in 0..<length { bytes.append(bytes[index]) }
    }

    /// Appends one byte.
    public mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends a JSON string literal.
    public mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var clean = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean..<index]))
                clean = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a signed integer, exactly.
    public mutating func integer(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            unsigned(value.magnitude)
        } else {
            unsigned(UInt64(value))
        }
    }

    /// Appends an unsigned integer, exactly.
    public mutating func unsigned(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, enough for 20 digits
        var remaining = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            while remaining > 0 {
                count += 1
                scratch[24 - count] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[(24 - count)...]))
        }
    }

    /// Appends a float32 as the shortest decimal that reads back to the same float32.
    ///
    /// The caller guarantees the value is finite (NaN and infinity are decode errors).
    public mutating func float(_ value: Float) {
        shortest(value.description)
    }

    /// Appends a float64 as the shortest decimal that reads back to the same float64.
    ///
    /// The caller guarantees the value is finite.
    public mutating func double(_ value: Double) {
        shortest(value.description)
    }

    /// Appends Swift's shortest round-trip text of a float in its shortest JSON spelling:
    /// `75.0` becomes `75`, `1e+16` becomes `1e16`, `1e-07` becomes `1e-7`.
    private mutating func shortest(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            // The common case, without an exponent, costs no allocation: drop a trailing ".0".
            guard let e = utf8.firstIndex(of: UInt8(ascii: "e")) else {
                let trimmed = utf8.count > 2 && utf8[utf8.count - 2] == UInt8(ascii: ".") && utf8[utf8.count - 1] == UInt8(ascii: "0")
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[0..<(trimmed ? utf8.count - 2 : utf8.count)]))
                return
            }
            var mantissaEnd = e
            if mantissaEnd > 2, utf8[e - 2] == UInt8(ascii: "."), utf8[e - 1] == UInt8(ascii: "0") { mantissaEnd -= 2 }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[0..<mantissaEnd]))
            bytes.append(UInt8(ascii: "e"))
            var digits = e + 1
            if digits < utf8.count, utf8[digits] == UInt8(ascii: "+") || utf8[digits] == UInt8(ascii: "-") {
                if utf8[digits] == UInt8(ascii: "-") { bytes.append(UInt8(ascii: "-")) }
                digits += 1
            }
            while utf8.count - digits > 1, utf8[digits] == UInt8(ascii: "0") { digits += 1 }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[digits...]))
        }
    }

    /// Appends a decoded value; a non-finite float (which the decoder never produces) is `null`.
    public mutating func value(_ value: Value) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): flag ? raw("true") : raw("false")
        case .int(let integer): self.integer(integer)
        case .uint(let integer): unsigned(integer)
        case .float(let float): float.isFinite ? self.float(float) : raw("null")
        case .double(let double): double.isFinite ? self.double(double) : raw("null")
        case .string(let text): string(text)
        }
    }

    /// Appends `"YYYY-MM-DDTHH:MM:SS.mmmZ"` for a time in milliseconds since the Unix epoch.
    public mutating func timestamp(milliseconds: Int64) {
        let (days, inDay) = milliseconds.floorDivided(by: 86_400_000)
        let (year, month, day) = Self.civilDate(fromDays: days)
        bytes.append(UInt8(ascii: "\""))
        padded(year, width: 4)
        bytes.append(UInt8(ascii: "-"))
        padded(month, width: 2)
        bytes.append(UInt8(ascii: "-"))
        padded(day, width: 2)
        bytes.append(UInt8(ascii: "T"))
        padded(inDay / 3_600_000, width: 2)
        bytes.append(UInt8(ascii: ":"))
        padded(inDay / 60_000 % 60, width: 2)
        bytes.append(UInt8(ascii: ":"))
        padded(inDay / 1000 % 60, width: 2)
        bytes.append(UInt8(ascii: "."))
        padded(inDay % 1000, width: 3)
        bytes.append(UInt8(ascii: "Z"))
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func padded(_ value: Int64, width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(remaining / divisor % 10))
            remaining %= divisor
            divisor /= 10
        }
    }

    /// Year, month, day of the proleptic Gregorian calendar for days since 1970-01-01
    /// (Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms", civil_from_days).
    static func civilDate(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = (self >= 0 ? self : self - divisor + 1) / divisor
        return (quotient, self - quotient * divisor)
    }
}
