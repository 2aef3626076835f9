import DeviceMaps
import RegisterDecoding

/// Turns what one cycle read into one outcome per point: pure, so it is tested by table
/// without a clock or a client.
enum OutcomeDecoder {
    /// The outcomes of `points`, given for each point the registers of the read that served it
    /// (`data`), where its own registers start in them (`offsets`), or why it has none (`failed`).
    ///
    /// A point with neither data nor a failure is a bug of the planner, which covers every
    /// point exactly once: it traps rather than blame the device.
    static func outcomes(_ points: [Point], data: [[UInt16]?], offsets: [Int], failed: [PointFailure?]) -> [PointOutcome] {
        var outcomes = [PointOutcome]()
        outcomes.reserveCapacity(points.count)
        // By index, not `enumerated()`: copying each `Point` out of the array costs a dozen
        // reference counts per point per cycle.
        for index in points.indices {
            if let failure = failed[index] {
                outcomes.append(.failed(failure))
                continue
            }
            guard let values = data[index] else {
                preconditionFailure("point '\(points[index].name)' was neither read nor failed")
            }
            var scaleFactor: Int16?
            if let factorIndex = points[index].scaleFactor {
                switch factor(points[factorIndex], data: data[factorIndex], offset: offsets[factorIndex], failed: failed[factorIndex]) {
                case .success(let factor?): scaleFactor = factor
                case .success(nil):
                    outcomes.append(.value(.null))
                    continue
                case .failure(let failure):
                    outcomes.append(.failed(failure))
                    continue
                }
            }
            outcomes.append(decode(points[index], values: values, offset: offsets[index], scaleFactor: scaleFactor))
        }
        return outcomes
    }

    /// One point's outcome from the registers of the read that served it.
    static func decode(_ point: Point, values: [UInt16], offset: Int, scaleFactor: Int16?) -> PointOutcome {
        let count = point.count
        let decoded = values.withUnsafeBufferPointer { buffer in
            point.decoding.decode(UnsafeBufferPointer(rebasing: buffer[offset..<offset + count]), scaleFactor: scaleFactor)
        }
        switch decoded {
        case .value(let value): return .value(value)
        case .invalid(let message): return .failed(.decode(message))
        }
    }

    /// The scale factor a point's value is multiplied by (as a power of ten); `nil` when the
    /// scale-factor point says "not available", so the value is not available either.
    private static func factor(_ point: Point, data: [UInt16]?, offset: Int, failed: PointFailure?) -> Result<Int16?, PointFailure> {
        if let failed { return .failure(failed) }
        guard let data else {
            // The map loader keeps a point and its scale factor in one poll and one request.
            preconditionFailure("scale factor '\(point.name)' was neither read nor failed")
        }
        switch decode(point, values: data, offset: offset, scaleFactor: nil) {
        case .failed(let failure): return .failure(failure)
        case .value(.null): return .success(nil)
        case .value(.int(let raw)) where abs(raw) <= 20: return .success(Int16(raw))
        case .value(.uint(let raw)) where raw <= 20: return .success(Int16(raw))
        case .value(let other):
            return .failure(.decode("scale factor '\(point.name)' is \(other), outside -20...20"))
        }
    }
}
