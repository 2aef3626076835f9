/// Durations as maps and command lines write them: a number and a unit.
public enum DurationParsing {
    /// Parses `250ms`, `1s`, `1.5s`, `2m`, `1h`, or `0`; `nil` for anything else, or a
    /// negative value.
    ///
    /// A bare number other than 0 is refused: `interval: 5` could mean seconds or
    /// milliseconds, and guessing wrong hammers a PLC.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingSpaces()
        if trimmed == "0" { return .zero }
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, seconds) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingSpaces()
            // "ms" also ends with "s": never read "250ms" as "250m" + "s".
            if suffix == "s", number.hasSuffix("m") { continue }
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let value = Double(number), value.isFinite, value >= 0, value * seconds <= 86_400 * 366
            else { return nil }
            let nanoseconds = (value * seconds * 1e9).rounded()
            return .nanoseconds(Int64(nanoseconds))
        }
        return nil
    }

    /// Writes a duration the way maps do: `250ms`, `1s`, `1.5s`, `2m`.
    public static func format(_ duration: Duration) -> String {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        if nanoseconds == 0 { return "0" }
        if nanoseconds % 60_000_000_000 == 0 { return "\(nanoseconds / 60_000_000_000)m" }
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        return "\(Double(nanoseconds) / 1e9)s"
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
