extension Duration {
    /// The duration in whole nanoseconds (saturating).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return whole &+ attoseconds / 1_000_000_000
    }

    /// The duration in whole milliseconds (saturating), rounded down.
    public var milliseconds: Int64 { nanoseconds / 1_000_000 }

    /// The duration in whole microseconds (saturating), rounded down.
    public var microseconds: Int64 { nanoseconds / 1000 }

    /// The duration in seconds, as a `Double` (for `Date` and `TimeInterval` APIs).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
