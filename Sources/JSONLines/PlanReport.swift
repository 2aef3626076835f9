import DeviceMaps
import ModbusProtocol
import RequestPlanning

/// What `fieldpoll plan` prints: the reads each poll of each device sends per cycle.
public struct PlanReport: Sendable {
    /// The reads of one poll of one device.
    public struct Entry: Sendable {
        /// The device.
        public let device: Device
        /// The poll.
        public let poll: Poll
        /// Its reads, in the order they are sent.
        public let reads: [PlannedRead]
    }

    /// One entry per poll of each device, in map order.
    public let entries: [Entry]

    /// Plans every poll of every device.
    public init(devices: [Device]) {
        entries = devices.flatMap { device in
            device.polls.map { poll in
                Entry(device: device, poll: poll, reads: RequestPlanner.plan(poll, maxRegisters: device.maxRegisters, maxGap: device.maxGap))
            }
        }
    }

    /// `[{"device": D, "poll": P, "requests": [{"table": T, "address": A, "count": N, "points": [..]}]}]`, one line.
    public func json() -> String {
        var buffer = JSONBuffer(capacity: 4096)
        buffer.byte(UInt8(ascii: "["))
        for (index, entry) in entries.enumerated() {
            if index > 0 { buffer.byte(UInt8(ascii: ",")) }
            buffer.raw("{\"device\":")
            buffer.string(entry.device.name)
            buffer.raw(",\"poll\":")
            buffer.string(entry.poll.name)
            buffer.raw(",\"requests\":[")
            for (readIndex, read) in entry.reads.enumerated() {
                if readIndex > 0 { buffer.byte(UInt8(ascii: ",")) }
                buffer.raw("{\"table\":")
                buffer.string(read.table.rawValue)
                buffer.raw(",\"address\":")
                buffer.integer(Int64(read.start))
                buffer.raw(",\"count\":")
                buffer.integer(Int64(read.count))
                buffer.raw(",\"points\":[")
                for (pointIndex, point) in read.points.enumerated() {
                    if pointIndex > 0 { buffer.byte(UInt8(ascii: ",")) }
                    buffer.string(entry.poll.points[point].name)
                }
                buffer.raw("]}")
            }
            buffer.raw("]}")
        }
        buffer.raw("]\n")
        return String(decoding: buffer.bytes, as: UTF8.self)
    }

    /// The plan for people: per device and poll, each read (table, first address, count, points)
    /// and totals, with what one read per point would cost.
    public func text() -> String {
        var lines: [String] = []
        var totalReads = 0
        var totalRegisters = 0
        var totalBits = 0
        var totalPoints = 0
        var lastDevice: String?
        for entry in entries {
            let device = entry.device
            if device.name != lastDevice {
                if lastDevice != nil { lines.append("") }
                let endpoint = Endpoint(host: device.host, port: device.port)
                lines.append("\(device.name)  \(endpoint) unit \(device.unit)  max_registers \(device.maxRegisters), max_gap \(device.maxGap)")
                lastDevice = device.name
            }
            let registers = entry.reads.filter { !$0.table.holdsBits }.reduce(0) { $0 + $1.count }
            let bits = entry.reads.filter(\.table.holdsBits).reduce(0) { $0 + $1.count }
            let interval = entry.poll.interval == .zero ? "back to back" : "every \(entry.poll.interval.text)"
            lines.append("  poll \(entry.poll.name) (\(interval)): \(Self.plural(entry.reads.count, "request")) reading \(Self.amount(registers: registers, bits: bits)) for \(Self.plural(entry.poll.points.count, "point"))")
            for read in entry.reads {
                let last = read.end - 1
                let range = read.count == 1 ? "\(read.start)" : "\(read.start)-\(last)"
                let unit = read.table.holdsBits ? "bit" : "register"
                let names = read.points.map { entry.poll.points[$0].name }.joined(separator: ", ")
                lines.append("    \(Self.pad(read.table.rawValue, 9)) \(Self.pad(range, 12)) \(Self.pad(Self.plural(read.count, unit), 14)) \(names)")
            }
            totalReads += entry.reads.count
            totalRegisters += registers
            totalBits += bits
            totalPoints += entry.poll.points.count
        }
        lines.append("")
        lines.append("total: \(Self.plural(totalReads, "request")) reading \(Self.amount(registers: totalRegisters, bits: totalBits)) per cycle of every poll; one read per point would take \(Self.plural(totalPoints, "request"))")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func amount(registers: Int, bits: Int) -> String {
        switch (registers, bits) {
        case (_, 0): plural(registers, "register")
        case (0, _): plural(bits, "bit")
        default: "\(plural(registers, "register")) and \(plural(bits, "bit"))"
        }
    }

    private static func plural(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
