import ArgumentParser
import Foundation

/// The `fieldpoll` command line: a Modbus/TCP field-device poller that writes JSON Lines.
///
/// Exit status, for every command (SPEC section 1): 0 success; 1 the work ran but something
/// failed; 2 bad usage or an invalid map or fixture (nothing was polled).
@main
struct Fieldpoll: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldpoll",
        abstract: "Poll Modbus/TCP field devices on the schedules of device maps; write JSON Lines.",
        discussion: """
            Every command reads device maps (YAML or JSON) or fixtures; stdout carries JSON Lines \
            only, diagnostics and logs go to stderr.

            Exit status: 0 success; 1 the work ran but something failed; 2 bad usage or an \
            invalid map or fixture.

            Example: fieldpoll simulate --listen 127.0.0.1:1502 fixtures/demo.json &
                     fieldpoll run --count 3 device-maps/demo.yaml
            """,
        version: FieldpollVersion.current,
        subcommands: [Run.self, Check.self, Plan.self, Read.self, Snapshot.self, Simulate.self]
    )

    /// Parses the command line and runs the command, mapping every failure to SPEC's exit statuses.
    static func main() {
        Process.openStandardDescriptors()
        Process.prepareSignals()
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help and --version: their text belongs on stdout.
                do {
                    try StandardOutput.write(fullMessage(for: error) + "\n")
                } catch let exit as ExitCode {
                    Foundation.exit(exit.rawValue)
                } catch {}
                Foundation.exit(0)
            }
            Console.error(fullMessage(for: error))
            Foundation.exit(ExitStatus.usage)
        }
    }
}

/// The exit statuses of SPEC section 1.
enum ExitStatus {
    /// Everything worked.
    static let success: Int32 = 0
    /// The work ran but something failed.
    static let failure: Int32 = 1
    /// Bad usage, or an invalid map or fixture.
    static let usage: Int32 = 2
}

/// The version printed by `fieldpoll --version`.
enum FieldpollVersion {
    static let current = "0.1.0"
}
