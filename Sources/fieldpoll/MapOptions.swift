import ArgumentParser
import DeviceMaps

/// The device-map files of `run`, `check`, `plan` and `snapshot`.
struct MapFiles: ParsableArguments {
    @Argument(help: ArgumentHelp("Device-map files (YAML, or JSON).", valueName: "map"))
    var paths: [String]

    /// Loads and validates the maps; on any problem prints every diagnostic and exits 2.
    func load() throws -> [Device] {
        let loaded = DeviceMapLoader.load(paths: paths)
        guard loaded.diagnostics.isEmpty else {
            Console.report(loaded.diagnostics)
            throw ExitCode(ExitStatus.usage)
        }
        return loaded.devices
    }
}
