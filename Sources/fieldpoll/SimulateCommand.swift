import ArgumentParser
import DeviceMaps
import DeviceSimulation
import Dispatch
import Foundation
import ModbusProtocol
import ModbusTransport

extension Fieldpoll {
    /// `fieldpoll simulate [--listen HOST:PORT]... FIXTURE...`: serve register images.
    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve register images (fixtures) as a Modbus/TCP device: a digital twin.",
            discussion: """
                Every unit of every fixture is served on every --listen address. A read touching \
                an address missing from the image gets exception 2 (illegal data address); an \
                unknown unit gets exception 11. Writes change the image. Port 0 picks a free port; \
                each address listened on is printed on stderr as "listening on HOST:PORT". Runs \
                until SIGINT or SIGTERM.

                Example: fieldpoll simulate --listen 127.0.0.1:1502 fixtures/demo.json
                """)

        @Option(
            name: .customLong("listen"),
            help: ArgumentHelp("Address to listen on; repeat for several. Default 127.0.0.1:1502.", valueName: "host:port"))
        var listen: [ListenAddress] = []

        @Option(help: ArgumentHelp("Delay before every reply, to imitate a slow device (e.g. 5ms).", valueName: "duration"))
        var latency: DurationArgument = DurationArgument(.zero)

        @Flag(help: "Keep values that change over time at their start values (for exact comparisons).")
        var freeze = false

        @Argument(help: ArgumentHelp("Fixture files (JSON or YAML).", valueName: "fixture"))
        var fixtures: [String]

        func run() throws {
            let loaded = FixtureLoader.load(paths: fixtures)
            guard loaded.diagnostics.isEmpty else {
                Console.report(loaded.diagnostics)
                throw ExitCode(ExitStatus.usage)
            }
            let started = DispatchTime.now()
            let frozen = freeze
            let image = RegisterImage(fixture: loaded.fixture) {
                frozen ? 0 : Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            }
            let addresses = listen.isEmpty ? [ListenAddress(host: "127.0.0.1", port: 1502)] : listen
            var servers: [ModbusTCPServer] = []
            let units = loaded.fixture.units.keys.sorted().map(\.description).joined(separator: ", ")
            for address in addresses {
                do {
                    let server = try ModbusTCPServer(
                        listeningOn: Endpoint(host: address.host, port: address.port), handler: image,
                        latency: latency.duration)
                    server.start()
                    servers.append(server)
                    Console.error("fieldpoll simulate: listening on \(server.endpoint) (units \(units))")
                } catch {
                    Console.error("fieldpoll simulate: \(error.message)")
                    servers.forEach { $0.stop() }
                    throw ExitCode(ExitStatus.failure)
                }
            }
            let done = DispatchSemaphore(value: 0)
            Process.onTermination { _ in done.signal() }
            done.wait()
            servers.forEach { $0.stop() }
        }
    }
}

/// `HOST:PORT`, `[IPV6]:PORT` or `:PORT` (host 127.0.0.1).
struct ListenAddress: ExpressibleByArgument {
    let host: String
    let port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(argument: String) {
        var text = Substring(argument)
        var host = "127.0.0.1"
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            text = text[text.index(after: close)...]
            guard text.hasPrefix(":") else { return nil }
            text = text.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            if colon != text.startIndex { host = String(text[..<colon]) }
            text = text[text.index(after: colon)...]
        } else {
            return nil
        }
        guard let port = Int(text), (0...65535).contains(port), !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }
}

/// A duration on the command line: `250ms`, `1s`, `1m`.
struct DurationArgument: ExpressibleByArgument {
    let duration: Duration

    init(_ duration: Duration) {
        self.duration = duration
    }

    init?(argument: String) {
        guard let duration = DurationParsing.parse(argument) else { return nil }
        self.duration = duration
    }

    var defaultValueDescription: String { DurationParsing.format(duration) }
}
