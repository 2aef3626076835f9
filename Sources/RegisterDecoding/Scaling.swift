/// `value = raw × scale + offset`, computed with a single rounding whenever possible.
///
/// With both numbers written in decimal (``DecimalNumber``), the result is the exact rational
/// `(raw·m_s·10^(e_s−E) + m_o·10^(e_o−E)) × 10^E`, with `E = min(e_s, e_o)`, rounded once to the
/// nearest binary64, as long as the numerator fits in 53 bits. So `raw 3, scale 0.1` is 0.3,
/// `raw 2315, scale 0.1, offset -40` is 191.5. Otherwise (huge raw values, float raw values)
/// the value is `Double(raw) * scale + offset` in binary64.
public struct Scaling: Hashable, Sendable {
    /// The factor.
    public let scale: DecimalNumber
    /// The term added after scaling.
    public let offset: DecimalNumber

    /// Creates a scaling; either part may be the identity (1 or 0).
    public init(scale: DecimalNumber = DecimalNumber(mantissa: 1, exponent: 0), offset: DecimalNumber = DecimalNumber(mantissa: 0, exponent: 0)) {
        self.scale = scale
        self.offset = offset
    }

    /// A SunSpec scale factor: `raw × 10^power`.
    public init(powerOfTen power: Int) {
        self.init(scale: DecimalNumber(mantissa: 1, exponent: power))
    }

    /// Scales an integer raw value.
    @inlinable
    public func apply(_ raw: Int64) -> Double {
        if let exact = exactly(raw) { return exact }
        return Double(raw) * scale.double + offset.double
    }

    /// Scales an unsigned raw value.
    @inlinable
    public func apply(_ raw: UInt64) -> Double {
        if let signed = Int64(exactly: raw), let exact = exactly(signed) { return exact }
        return Double(raw) * scale.double + offset.double
    }

    /// Scales a float raw value, in binary64.
    @inlinable
    public func apply(_ raw: Double) -> Double {
        raw * scale.double + offset.double
    }

    @usableFromInline
    func exactly(_ raw: Int64) -> Double? {
        guard let scaleMantissa = scale.mantissa, let offsetMantissa = offset.mantissa else { return nil }
        let common = min(scale.exponent, offset.exponent)
        guard let scaleTerm = Self.times(raw, scaleMantissa, powerOfTen: scale.exponent - common),
            let offsetTerm = Self.times(1, offsetMantissa, powerOfTen: offset.exponent - common)
        else { return nil }
        let (numerator, overflow) = scaleTerm.addingReportingOverflow(offsetTerm)
        guard !overflow, numerator.magnitude <= 1 << 53, abs(common) <= 22 else { return nil }
        return DecimalNumber.scale(Double(numerator), byPowerOfTen: common)
    }

    @usableFromInline
    static func times(_ a: Int64, _ b: Int64, powerOfTen: Int) -> Int64? {
        guard powerOfTen >= 0, powerOfTen <= 18 else { return nil }
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { return nil }
        var power: Int64 = 1
        for _ in 0..<powerOfTen { power *= 10 }
        let (result, overflow2) = product.multipliedReportingOverflow(by: power)
        return overflow2 ? nil : result
    }
}
