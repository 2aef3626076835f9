/// The median, minimum and maximum of repeated measurements of one figure.
struct Summary {
    /// Every measurement, in the order taken.
    let samples: [Double]

    init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "a summary needs at least one measurement")
        self.samples = samples
    }

    var median: Double {
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    var min: Double { samples.min()! }
    var max: Double { samples.max()! }

    /// Applies `transform` to every measurement (a rate from a time, say).
    func map(_ transform: (Double) -> Double) -> Summary { Summary(samples.map(transform)) }
}

/// Runs `body` once to warm up, then `runs` times, and summarises what it returns.
func measure(runs: Int, warmUps: Int = 1, _ body: () throws -> Double) rethrows -> Summary {
    for _ in 0..<warmUps { _ = try body() }
    return Summary(try (0..<runs).map { _ in try body() })
}
