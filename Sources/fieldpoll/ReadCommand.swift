import ArgumentParser
import DeviceMaps
import Foundation
import Glibc
import JSONLines
import Logging
import ModbusProtocol
import PollScheduling
import RegisterDecoding

extension Fieldpoll {
    /// `fieldpoll read --host H --table T --address A ...`: an ad-hoc decoded read.
    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read registers or bits once (or every --interval), decoded, as JSON Lines.",
            discussion: """
                Like mbpoll, but decoded: --count values of --type from --address, read in as few \
                requests as needed. Point names are the addresses. JSON Lines go to a pipe; a \
                terminal gets the text format unless --format says otherwise. Exit status 1 when \
                a read failed, with the same error objects as run.

                Example: fieldpoll read --host 127.0.0.1 --port 1502 --unit 2 --table input \\
                           --address 0 --count 3 --type float32
                """)

        @Option(help: "Host name, IPv4 or IPv6 address of the device.")
        var host: String

        @Option(help: "TCP port.")
        var port: Int = 502

        @Option(help: "Modbus unit identifier (0-255).")
        var unit: Int = 1

        @Option(help: "coil, discrete, holding or input.")
        var table: String

        @Option(help: "First address (zero-based protocol address).")
        var address: Int

        @Option(help: "How many values of --type (for a string: its length in registers).")
        var count: Int = 1

        @Option(help: "bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, string, bcd16, bcd32 (default uint16 for registers, bool for bits).")
        var type: String?

        @Option(help: "Byte order: AB/BA for 16-bit types; ABCD, CDAB, BADC, DCBA otherwise.")
        var order: String?

        @Option(help: ArgumentHelp("Read again every DURATION (e.g. 500ms) until stopped.", valueName: "duration"))
        var interval: DurationArgument?

        @Option(help: ArgumentHelp("Response (and connect) timeout.", valueName: "duration"))
        var timeout: DurationArgument = DurationArgument(.seconds(1))

        @Option(help: "records, points or text (default: text on a terminal, records otherwise).")
        var format: ReadFormat?

        @Option(help: "Lowest level of log lines on stderr.")
        var logLevel: Logger.Level = .warning

        enum ReadFormat: String, ExpressibleByArgument, CaseIterable {
            case records, points, text
        }

        /// The device and poll the options describe, or the usage error.
        func device() throws -> Device {
            guard let table = Table(rawValue: table) else {
                throw ValidationError("--table must be coil, discrete, holding or input, not '\(self.table)'.")
            }
            let valueType: ValueType
            if let type {
                guard let parsed = ValueType(rawValue: type) else {
                    throw ValidationError("--type must be one of \(ValueType.allCases.map(\.rawValue).joined(separator: ", ")), not '\(type)'.")
                }
                valueType = parsed
            } else {
                valueType = table.holdsBits ? .bool : .uint16
            }
            if table.holdsBits, valueType != .bool { throw ValidationError("a \(table.rawValue) is read as bool, not \(valueType.rawValue).") }
            if !table.holdsBits, valueType == .bool { throw ValidationError("--type bool needs a coil or discrete table (use uint16 and read the bits).") }
            guard let unitID = UnitID(unit) else { throw ValidationError("--unit must be 0-255.") }
            guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535.") }
            guard count >= 1 else { throw ValidationError("--count must be at least 1.") }
            var byteOrder = ByteOrder.abcd
            if let order {
                guard let parsed = ByteOrder(name: order, for: valueType) else {
                    throw ValidationError("--order \(order) does not fit \(valueType.rawValue) (expected \(ByteOrder.names(for: valueType).joined(separator: ", "))).")
                }
                byteOrder = parsed
            }
            guard timeout.duration > .zero else { throw ValidationError("--timeout must be more than 0.") }
            let width = valueType == .string ? count : (table.holdsBits ? 1 : valueType.fixedRegisterCount!)
            let points = valueType == .string ? 1 : count
            guard address >= 0, address + width * points <= 65536 else {
                throw ValidationError("--address \(address) with \(points * width) \(table.holdsBits ? "bits" : "registers") runs outside 0-65535.")
            }
            guard valueType != .string || count <= 125 else { throw ValidationError("a string is at most 125 registers.") }
            let location = SourceLocation(file: "command line", line: 1, column: 1)
            let decoding = PointDecoding(type: valueType, order: byteOrder, registerCount: valueType == .string ? count : nil)
            let list = (0..<points).map { index in
                Point(name: String(address + index * width), table: table, address: address + index * width, decoding: decoding, location: location)
            }
            let endpoint = Endpoint(host: host, port: port)
            return Device(
                name: "\(endpoint)/\(unitID)", host: host, port: port, unit: unitID, timeout: timeout.duration,
                polls: [Poll(name: table.rawValue, interval: interval?.duration ?? .seconds(1), points: list)], location: location)
        }

        func validate() throws {
            _ = try device()
        }

        func run() throws {
            let device = try device()
            let chosen = format ?? (isatty(1) == 1 ? .text : .records)
            let writer = LineWriter(descriptor: 1) { Polling.shutdown.outputFailed($0) }
            let sink: any SampleSink =
                switch chosen {
                case .text: TextSink(writer: writer)
                case .records: JSONLinesSink(format: .records, writer: writer)
                case .points: JSONLinesSink(format: .points, writer: writer)
                }
            try Polling.run(
                devices: [device], options: .init(count: interval == nil ? 1 : nil, spreadStarts: false),
                sink: sink, writer: writer, logLevel: logLevel,
                interrupted: { _, _ in "fieldpoll: interrupted before the read finished" })
        }
    }
}
