import ArgumentParser
import DeviceMaps
import JSONLines
import Logging
import ModbusProtocol
import ModbusTransport
import PollScheduling

extension Fieldpoll {
    /// `fieldpoll run [OPTIONS] MAP...`: poll until stopped, or for a number of cycles.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Poll every device of the maps on their schedules; one JSON object per line on stdout.",
            discussion: """
                Runs until SIGINT or SIGTERM (exit 0, after the line being written is complete) or \
                until stdout is closed (exit 0, quietly). With --once or --count the exit status is \
                1 when a device or a point could not be read in some cycle.

                Example: fieldpoll run --count 10 --format points device-maps/demo.yaml | jq .
                """)

        @Flag(help: "One cycle of every poll of every device, then exit.")
        var once = false

        @Option(help: ArgumentHelp("Run N cycles of every poll, then exit.", valueName: "N"))
        var count: Int?

        @Option(help: "Output shape: records (one line per poll and cycle) or points (one line per point).")
        var format: OutputFormat = .records

        @Option(help: "Lowest level of log lines on stderr: trace, debug, info, notice, warning, error, critical.")
        var logLevel: Logger.Level = .info

        @Option(name: .customLong("output-buffer"), help: .hidden)
        var outputBuffer: Int = 256 * 1024

        @OptionGroup var maps: MapFiles

        func validate() throws {
            if once, count != nil { throw ValidationError("--once and --count cannot be used together.") }
            if let count, count < 1 { throw ValidationError("--count must be at least 1.") }
        }

        func run() throws {
            let devices = try maps.load()
            let limit = once ? 1 : count
            let writer = LineWriter(descriptor: 1, capacity: max(outputBuffer, 1)) { Polling.shutdown.outputFailed($0) }
            try Polling.run(
                devices: devices, options: .init(count: limit, spreadStarts: limit == nil),
                sink: JSONLinesSink(format: format, writer: writer), writer: writer, logLevel: logLevel,
                interrupted: { emitted, expected in "fieldpoll: interrupted after \(emitted) of \(expected) lines" })
        }
    }
}

extension OutputFormat: ExpressibleByArgument {}
