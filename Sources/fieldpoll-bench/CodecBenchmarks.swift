import DeviceMaps
import DeviceSimulation
import Glibc
import JSONLines
import PollScheduling
import RegisterDecoding
import RequestPlanning

/// Rows 1 to 3 of `make bench`: the decoder, the JSON Lines writer and the planner, in this
/// process, on one core.
enum CodecBenchmarks {
    /// How long one measurement of a rate runs.
    static let measurementSeconds = 0.25

    // MARK: 1. Decode

    /// A decoder case: how a point is decoded, and registers for many points of it.
    struct DecodeCase {
        let name: String
        let decoding: PointDecoding
        let registers: [UInt16]
    }

    static let decodePoints = 1024

    static func decodeCases() -> [DecodeCase] {
        var random = SplitMix64(seed: 0x5EED)
        func registers(_ type: ValueType, order: ByteOrder = .abcd, _ number: () -> RegisterEncoding.Number) -> [UInt16] {
            (0..<decodePoints).flatMap { _ in RegisterEncoding.encode(number(), as: type, order: order)! }
        }
        let serials = (0..<decodePoints).flatMap { index in
            RegisterEncoding.encode(text: "SN-\(100_000 + index)-AB", length: 8)!
        }
        let tenth = Scaling(scale: DecimalNumber("0.1")!, offset: DecimalNumber("-40")!)
        return [
            DecodeCase(
                name: "uint16", decoding: PointDecoding(type: .uint16),
                registers: registers(.uint16) { .integer(Int64(random.next() % 65536)) }),
            DecodeCase(
                name: "float32 CDAB", decoding: PointDecoding(type: .float32, order: .cdab),
                registers: registers(.float32, order: .cdab) { .real(Double(random.next() % 100_000) / 37) }),
            DecodeCase(
                name: "int64", decoding: PointDecoding(type: .int64),
                registers: registers(.int64) { .integer(Int64(bitPattern: random.next())) }),
            DecodeCase(
                name: "string (8 registers)", decoding: PointDecoding(type: .string, registerCount: 8),
                registers: serials),
            DecodeCase(
                name: "bcd32", decoding: PointDecoding(type: .bcd32),
                registers: registers(.bcd32) { .integer(Int64(random.next() % 100_000_000)) }),
            DecodeCase(
                name: "int16 scaled (×0.1 − 40)", decoding: PointDecoding(type: .int16, scaling: tenth),
                registers: registers(.int16) { .integer(Int64(random.next() % 65536) - 32768) }),
        ]
    }

    /// Points decoded per second, one thread.
    static func decodeRate(_ decodeCase: DecodeCase) -> Double {
        let decoding = decodeCase.decoding
        let width = decoding.registerCount
        var checksum: UInt64 = 0
        var decoded = 0
        let start = ContinuousClock.now
        var elapsed = 0.0
        decodeCase.registers.withUnsafeBufferPointer { buffer in
            repeat {
                for point in 0..<decodePoints {
                    let registers = UnsafeBufferPointer(rebasing: buffer[point * width..<(point + 1) * width])
                    checksum &+= fold(decoding.decode(registers))
                }
                decoded += decodePoints
                elapsed = (ContinuousClock.now - start).seconds
            } while elapsed < measurementSeconds
        }
        keep(checksum)
        return Double(decoded) / elapsed
    }

    /// A cheap digest of a decoded value, so the optimiser cannot drop the decoding.
    @inline(__always)
    static func fold(_ decoded: PointDecoding.Decoded) -> UInt64 {
        switch decoded {
        case .invalid: return 7
        case .value(let value):
            switch value {
            case .null: return 1
            case .bool(let flag): return flag ? 2 : 3
            case .int(let integer): return UInt64(bitPattern: integer)
            case .uint(let integer): return integer
            case .float(let float): return UInt64(float.bitPattern)
            case .double(let double): return double.bitPattern
            case .string(let text): return UInt64(text.utf8.count)
            }
        }
    }

    // MARK: 2. Encode

    /// Samples of a 50-point poll, as a meter or PLC gives them: 20 unscaled registers, 10
    /// scaled values, 10 float32, 5 bits, 4 negative integers, 1 string.
    static func encodeSamples() -> [Sample] {
        var names: [String] = []
        var units: [String?] = []
        for index in 0..<20 { names.append("register_\(index)"); units.append(nil) }
        for index in 0..<10 { names.append("temperature_\(index)"); units.append("°C") }
        for index in 0..<10 { names.append("voltage_l\(index)"); units.append("V") }
        for index in 0..<5 { names.append("alarm_\(index)"); units.append(nil) }
        for index in 0..<4 { names.append("offset_\(index)"); units.append(nil) }
        names.append("serial_number")
        units.append(nil)
        let layout = PollLayout(device: "meter-0042", poll: "fast", pointNames: names, units: units)
        var random = SplitMix64(seed: 0xE7C0DE)
        let time: Int64 = 1_796_112_000_000
        return (0..<64).map { index in
            var values: [PointOutcome] = []
            for _ in 0..<20 { values.append(.value(.uint(random.next() % 65536))) }
            for _ in 0..<10 { values.append(.value(.double(Double(Int(random.next() % 2000) - 400) / 10))) }
            for _ in 0..<10 { values.append(.value(.float(Float(random.next() % 500_000) / 2000))) }
            for _ in 0..<5 { values.append(.value(.bool(random.next() % 2 == 0))) }
            for _ in 0..<4 { values.append(.value(.int(-Int64(random.next() % 100_000)))) }
            values.append(.value(.string("SN-\(100_000 + index)")))
            return Sample(layout: layout, time: time + Int64(index) * 1000, missed: 0, result: .points(values))
        }
    }

    /// Points and bytes per second through the production path: ``JSONLinesSink`` encoding on
    /// the calling thread, ``LineWriter`` writing to `/dev/null` on its own.
    static func encodeRate(_ format: OutputFormat, samples: [Sample]) -> (points: Double, bytes: Double) {
        let devNull = open("/dev/null", O_WRONLY)
        defer { close(devNull) }
        let writer = LineWriter(descriptor: devNull)
        let sink = JSONLinesSink(format: format, writer: writer)
        var encoder = LineEncoder(format: format)
        let bytesPerRound = samples.reduce(0) { $0 + encoder.encode($1).count }
        let pointsPerRound = samples.reduce(0) { $0 + $1.layout.pointNames.count }
        var rounds = 0
        let start = ContinuousClock.now
        repeat {
            for sample in samples { _ = sink.emit(sample) }
            rounds += 1
        } while (ContinuousClock.now - start).seconds < measurementSeconds
        writer.finish()
        let elapsed = (ContinuousClock.now - start).seconds
        return (Double(rounds * pointsPerRound) / elapsed, Double(rounds * bytesPerRound) / elapsed)
    }

    // MARK: 3. Plan

    /// A 10,000-point map of one device and one poll over all four tables, every type, with
    /// random gaps between points and `max_gap: 2`, as YAML.
    static func largeMap(points: Int = 10_000) -> String {
        var random = SplitMix64(seed: 0x9A7)
        var lines = [
            "device: {name: big-plc, host: 127.0.0.1, port: 502, max_gap: 2}",
            "polls:",
            "  - name: all",
            "    interval: 1s",
            "    points:",
        ]
        var next = ["holding": 0, "input": 0, "coil": 0, "discrete": 0]
        let registerTypes: [(String, Int, String)] = [
            ("uint16", 1, ""), ("int16", 1, ", scale: 0.1"), ("uint32", 2, ""), ("float32", 2, ", order: CDAB"),
            ("int64", 4, ""), ("bool", 1, ", bit: 3"), ("string", 4, ", length: 4"), ("bcd16", 1, ""),
        ]
        for index in 0..<points {
            let roll = random.next() % 10
            let table = roll < 5 ? "holding" : roll < 8 ? "input" : roll < 9 ? "coil" : "discrete"
            let address = next[table]! + Int(random.next() % 4)
            if table == "coil" || table == "discrete" {
                lines.append("      - {name: p\(index), table: \(table), address: \(address)}")
                next[table] = address + 1
            } else {
                let (type, width, extra) = registerTypes[Int(random.next() % UInt64(registerTypes.count))]
                lines.append("      - {name: p\(index), table: \(table), address: \(address), type: \(type)\(extra)}")
                next[table] = address + width
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The large map, loaded and validated.
    static func largePoll() throws -> (Device, Poll) {
        let loaded = DeviceMapLoader.parse(largeMap(), file: "large.yaml")
        guard loaded.diagnostics.isEmpty, let device = loaded.devices.first, let poll = device.polls.first else {
            throw BenchFailure("the generated 10,000-point map is invalid: \(loaded.diagnostics.prefix(3))")
        }
        return (device, poll)
    }

    /// Seconds to plan the poll.
    static func planSeconds(_ device: Device, _ poll: Poll) -> (seconds: Double, reads: Int) {
        let start = ContinuousClock.now
        let reads = RequestPlanner.plan(poll, maxRegisters: device.maxRegisters, maxGap: device.maxGap)
        return ((ContinuousClock.now - start).seconds, reads.count)
    }

    /// Seconds to parse and validate the large map's YAML.
    static func loadSeconds(_ text: String) -> Double {
        let start = ContinuousClock.now
        let loaded = DeviceMapLoader.parse(text, file: "large.yaml")
        let seconds = (ContinuousClock.now - start).seconds
        keep(UInt64(loaded.devices.count))
        return seconds
    }
}

nonisolated(unsafe) private var sink: UInt64 = 0

/// Keeps a value alive past the optimiser.
@inline(never)
func keep(_ value: UInt64) { sink &+= value }
