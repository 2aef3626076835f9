import Foundation

/// A value that changes over time in a simulated device, as a function of the seconds since
/// the simulator started.
public enum ValueGenerator: Hashable, Sendable {
    /// Rises linearly from `from` to `to` over `period` seconds, then starts again.
    case ramp(from: Double, to: Double, period: Double)
    /// `mean + amplitude × sin(2π t / period)`.
    case sine(mean: Double, amplitude: Double, period: Double)
    /// Every `every` seconds moves by a random amount in `-step...step`, kept in `min...max`;
    /// the sequence is the same on every run (seeded by `seed`).
    case walk(start: Double, step: Double, min: Double, max: Double, every: Double, seed: UInt64)
    /// `start + step × ⌊t / every⌋`: an energy counter.
    case counter(start: Double, step: Double, every: Double)
    /// 1 for the first half of each `period`, 0 for the second: a bit that blinks.
    case square(period: Double)

    /// The value at `seconds` after start.
    public func value(at seconds: Double) -> Double {
        switch self {
        case .ramp(let from, let to, let period):
            let phase = seconds.truncatingRemainder(dividingBy: period) / period
            return from + (to - from) * phase
        case .sine(let mean, let amplitude, let period):
            return mean + amplitude * sin(2 * Double.pi * seconds / period)
        case .walk(let start, let step, let low, let high, let every, let seed):
            var generator = SplitMix64(seed: seed)
            var value = start
            let steps = Int(min(seconds / every, 10_000_000))
            for _ in 0..<steps {
                let unit = Double(generator.next() >> 11) / Double(1 << 53)
                value = min(max(value + (unit * 2 - 1) * step, low), high)
            }
            return value
        case .counter(let start, let step, let every):
            return start + step * (seconds / every).rounded(.down)
        case .square(let period):
            return seconds.truncatingRemainder(dividingBy: period) < period / 2 ? 1 : 0
        }
    }
}

/// A small, fast, seedable generator (Steele, Lea, Flood: "Fast splittable pseudorandom
/// number generators"), so simulated random walks repeat from run to run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator; the same seed gives the same sequence.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
