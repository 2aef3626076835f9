/// A number written in decimal in a map (`0.1`, `-40`, `1e-3`), kept exactly as
/// `mantissa × 10^exponent` as well as the nearest `Double`.
///
/// Scaling with the exact form rounds once, so a raw 3 with `scale: 0.1` gives 0.3, not the
/// 0.30000000000000004 that `3 * 0.1` gives in binary floating point.
public struct DecimalNumber: Hashable, Sendable, CustomStringConvertible {
    /// The digits as an integer, when they fit in 53 bits; otherwise only ``double`` is exact enough.
    public let mantissa: Int64?
    /// The power of ten the mantissa is multiplied by.
    public let exponent: Int
    /// The nearest binary64 value.
    public let double: Double

    /// Parses a decimal literal: optional sign, digits with an optional point, optional exponent.
    public init?(_ text: String) {
        var digits: Int64 = 0
        var exponent = 0
        var exact = true
        var sawDigit = false
        var negative = false
        var utf8 = Substring(text).utf8[...]
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        var afterPoint = false
        while let byte = utf8.first {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                sawDigit = true
                let (times, overflow1) = digits.multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                if overflow1 || overflow2 || plus > 1 << 53 {
                    exact = false
                    if !afterPoint { exponent += 1 }
                } else {
                    digits = plus
                    if afterPoint { exponent -= 1 }
                }
            } else if byte == UInt8(ascii: "."), !afterPoint {
                afterPoint = true
            } else if byte == UInt8(ascii: "_") {
                // YAML 1.1 allows digit separators.
            } else {
                break
            }
            utf8 = utf8.dropFirst()
        }
        guard sawDigit else { return nil }
        if let byte = utf8.first, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            guard let power = Int(String(Substring(utf8.dropFirst()))), abs(power) < 400 else { return nil }
            exponent += power
            utf8 = utf8[utf8.endIndex...]
        }
        guard utf8.isEmpty, let double = Double(text.replacingUnderscores()) else { return nil }
        self.mantissa = exact ? (negative ? -digits : digits) : nil
        self.exponent = exponent
        self.double = double
    }

    /// The number `mantissa × 10^exponent`, exactly.
    public init(mantissa: Int64, exponent: Int) {
        self.mantissa = mantissa
        self.exponent = exponent
        self.double = DecimalNumber.scale(Double(mantissa), byPowerOfTen: exponent)
    }

    /// Whether the number is exactly zero.
    public var isZero: Bool { double == 0 }

    public var description: String {
        guard let mantissa else { return "\(double)" }
        return exponent == 0 ? "\(mantissa)" : "\(mantissa)e\(exponent)"
    }

    static func scale(_ value: Double, byPowerOfTen power: Int) -> Double {
        if power >= 0 {
            return power <= 22 ? value * exactPowersOfTen[power] : value * pow10(power)
        }
        return -power <= 22 ? value / exactPowersOfTen[-power] : value / pow10(-power)
    }

    private static func pow10(_ power: Int) -> Double {
        var result = 1.0
        for _ in 0..<power { result *= 10 }
        return result
    }

    /// 10^0 ... 10^22, every one exact in binary64.
    static let exactPowersOfTen: [Double] = (0...22).map { power in
        var result = 1.0
        for _ in 0..<power { result *= 10 }
        return result
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        contains("_") ? String(filter { $0 != "_" }) : self
    }
}
