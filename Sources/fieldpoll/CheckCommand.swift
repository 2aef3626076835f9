import ArgumentParser
import DeviceMaps

extension Fieldpoll {
    /// `fieldpoll check MAP...`: validate maps.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate device maps: nothing on stdout; every problem on stderr.",
            discussion: """
                Each problem is printed as FILE:LINE:COLUMN: error: MESSAGE. Exit status 0 when \
                every map is valid, 2 otherwise.

                Example: fieldpoll check device-maps/*.yaml
                """)

        @OptionGroup var maps: MapFiles

        func run() throws {
            _ = try maps.load()
        }
    }
}
