import ArgumentParser
import JSONLines

extension Fieldpoll {
    /// `fieldpoll plan [--format text|json] MAP...`: show the reads each poll sends.
    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the read requests each poll of each device sends per cycle.",
            discussion: """
                Points are grouped per table into the fewest reads the device allows (max_registers, \
                2000 bits, at most max_gap unmapped registers between points), then the fewest \
                registers. Nothing is contacted.

                Example: fieldpoll plan --format json device-maps/demo.yaml | jq '.[].requests | length'
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @Option(help: "text (for people) or json (one document).")
        var format: Format = .text

        @OptionGroup var maps: MapFiles

        func run() throws {
            let report = PlanReport(devices: try maps.load())
            let output = format == .json ? report.json() : report.text()
            try StandardOutput.write(output)
        }
    }
}
