extension Duration {
    /// Reads a duration as maps and command lines write it: a number and a unit (`250ms`, `1s`,
    /// `1.5s`, `2m`, `1h`), or `0`; `nil` for anything else, a negative value, or more than a year.
    ///
    /// A bare number other than 0 is refused: `interval: 5` could mean seconds or milliseconds,
    /// and guessing wrong hammers a PLC.
    public init?(text: String) {
        let trimmed = Self.trimmed(Substring(text))
        if trimmed == "0" {
            self = .zero
            return
        }
        for (suffix, seconds) in Self.units where trimmed.hasSuffix(suffix) {
            let number = Self.trimmed(trimmed.dropLast(suffix.count))
            // "ms" also ends with "s": never read "250ms" as "250m" + "s".
            if suffix == "s", number.hasSuffix("m") { continue }
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let value = Double(number), value.isFinite, value >= 0, value * seconds <= 86_400 * 366
            else { return nil }
            self = .nanoseconds(Int64((value * seconds * 1e9).rounded()))
            return
        }
        return nil
    }

    /// `text` without the spaces and tabs around it (`20 ms` is 20 milliseconds).
    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }

    /// The units a duration may be written in, with their length in seconds.
    private static let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]

    /// The duration written as a user would write it in a map: `0`, `250ms`, `20s`, `1.5s`,
    /// `2m`, `1h`; the largest unit that holds it exactly, seconds with up to three decimals
    /// otherwise, and milliseconds (with up to three decimals) below one second.
    ///
    /// Every message that names a duration prints it this way, so `timeout: 20s` reads back as
    /// `20s`, never as `20000 ms`.
    public var text: String {
        let nanoseconds = components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
        if nanoseconds == 0 { return "0" }
        if nanoseconds % 3_600_000_000_000 == 0 { return "\(nanoseconds / 3_600_000_000_000)h" }
        if nanoseconds % 60_000_000_000 == 0 { return "\(nanoseconds / 60_000_000_000)m" }
        if nanoseconds >= 1_000_000_000 {
            return Self.decimal(nanoseconds, unit: 1_000_000_000) + "s"
        }
        return Self.decimal(nanoseconds, unit: 1_000_000) + "ms"
    }

    /// `value / unit` rounded to three decimals, without trailing zeros.
    private static func decimal(_ value: Int64, unit: Int64) -> String {
        let thousandths = (value * 1000 + unit / 2) / unit
        let whole = thousandths / 1000
        var fraction = thousandths % 1000
        guard fraction != 0 else { return "\(whole)" }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let padded = String(fraction)
        return "\(whole)." + String(repeating: "0", count: digits - padded.count) + padded
    }
}
