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
            abstract: "Serve register images (fixtures) as Modbus/TCP devices: digital twins.",
            discussion: """
                A fixture named alone is served, with all its units, on every --listen address \
                (default 127.0.0.1:1502). FIXTURE@HOST:PORT serves it on that address only; \
                FIXTURE#UNIT serves its single unit as UNIT instead (FIXTURE#1-4 as units 1 to 4). \
                Ports may be ranges: 127.0.0.1:20000-20099. Each address is its own device with \
                its own image. A read touching an address missing from the image gets exception \
                2 (illegal data address); an unknown unit gets exception 11. Writes change the \
                image. Port 0 picks a free port; each address is printed on stderr as "listening \
                on HOST:PORT (units ...)". Runs until SIGINT or SIGTERM.

                Examples: fieldpoll simulate --listen 127.0.0.1:1502 fixtures/demo.json
                          fieldpoll simulate meter.json@127.0.0.1:1502 plc.json@127.0.0.1:1503
                          fieldpoll simulate --listen 127.0.0.1:20000-20249 --latency 5ms meter.json#1-4
                """)

        @Option(
            name: .customLong("listen"),
            help: ArgumentHelp("Address to listen on (repeatable; HOST:PORT, HOST:PORT1-PORT2, [IPV6]:PORT). Default 127.0.0.1:1502.", valueName: "host:port"))
        var listen: [ListenAddresses] = []

        @Option(help: ArgumentHelp("Delay before every reply, to imitate a slow device (e.g. 5ms).", valueName: "duration"))
        var latency: DurationArgument = DurationArgument(.zero)

        @Flag(help: "Keep values that change over time at their start values (for exact comparisons).")
        var freeze = false

        @Argument(help: ArgumentHelp("Fixture files (JSON or YAML), each optionally FILE@HOST:PORT and/or FILE#UNIT.", valueName: "fixture"))
        var fixtures: [FixtureArgument]

        func run() throws {
            let plan = try servingPlan()
            let started = DispatchTime.now()
            let frozen = freeze
            let elapsed: @Sendable () -> Double = {
                frozen ? 0 : Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            }
            var servers: [ModbusTCPServer] = []
            for (address, fixture) in plan {
                let units = fixture.units.keys.sorted().map(\.description).joined(separator: ", ")
                do {
                    let server = try ModbusTCPServer(
                        listeningOn: Endpoint(host: address.host, port: address.port),
                        handler: RegisterImage(fixture: fixture, elapsedSeconds: elapsed), latency: latency.duration)
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

        /// Which fixture each address serves; exit status 2 for invalid fixtures or clashing units.
        func servingPlan() throws -> [(ListenAddress, Fixture)] {
            var problems: [String] = []
            var loaded: [(argument: FixtureArgument, fixture: Fixture)] = []
            for argument in fixtures {
                let result = FixtureLoader.load(paths: [argument.path])
                guard result.diagnostics.isEmpty else {
                    Console.report(result.diagnostics)
                    problems.append("")
                    continue
                }
                var fixture = result.fixture
                if let units = argument.units {
                    guard fixture.units.count == 1, let (source, image) = fixture.units.first else {
                        problems.append("\(argument.path): #\(argument.unitsText) needs a fixture with exactly one unit, not \(fixture.units.count)")
                        continue
                    }
                    let dynamics = fixture.dynamics[source]
                    fixture = Fixture()
                    for unit in units {
                        fixture.units[unit] = image
                        fixture.dynamics[unit] = dynamics
                    }
                }
                loaded.append((argument, fixture))
            }
            let everywhere = listen.isEmpty ? [ListenAddress(host: "127.0.0.1", port: 1502)] : listen.flatMap(\.addresses)
            var order: [ListenAddress] = []
            var merged: [ListenAddress: Fixture] = [:]
            var origin: [ListenAddress: [UnitID: String]] = [:]
            for (argument, fixture) in loaded {
                for address in argument.addresses ?? everywhere {
                    if merged[address] == nil {
                        order.append(address)
                        merged[address] = Fixture()
                    }
                    for (unit, image) in fixture.units {
                        if let first = origin[address]?[unit] {
                            problems.append("unit \(unit) on \(address.description) comes from both \(first) and \(argument.path)")
                            continue
                        }
                        origin[address, default: [:]][unit] = argument.path
                        merged[address]!.units[unit] = image
                        merged[address]!.dynamics[unit] = fixture.dynamics[unit]
                    }
                }
            }
            for problem in problems where !problem.isEmpty { Console.error("fieldpoll simulate: \(problem)") }
            guard problems.isEmpty else { throw ExitCode(ExitStatus.usage) }
            return order.map { ($0, merged[$0]!) }
        }
    }
}

/// One address to listen on.
struct ListenAddress: Hashable {
    let host: String
    let port: Int
    /// Tells apart the addresses asked with port 0, which each get a port of their own.
    let serial: Int

    init(host: String, port: Int, serial: Int = 0) {
        self.host = host
        self.port = port
        self.serial = serial
    }

    var description: String { Endpoint(host: host, port: port).description }
}

/// `HOST:PORT`, `HOST:PORT1-PORT2`, `[IPV6]:PORT` or `:PORT` (host 127.0.0.1).
struct ListenAddresses: ExpressibleByArgument {
    let addresses: [ListenAddress]

    nonisolated(unsafe) private static var serial = 0

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
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard !host.isEmpty, (1...2).contains(bounds.count), let first = Int(bounds[0]), let last = Int(bounds.last!),
            (0...65535).contains(first), (0...65535).contains(last), first <= last, last - first < 1000
        else { return nil }
        addresses = (first...last).map { port in
            Self.serial += 1
            return ListenAddress(host: host, port: port, serial: port == 0 ? Self.serial : 0)
        }
    }
}

/// `PATH`, `PATH@HOST:PORT`, `PATH#UNIT`, `PATH#FIRST-LAST`, or both suffixes.
struct FixtureArgument: ExpressibleByArgument {
    let path: String
    let addresses: [ListenAddress]?
    let units: [UnitID]?
    let unitsText: String

    init?(argument: String) {
        var text = argument
        var units: [UnitID]?
        var unitsText = ""
        if let hash = text.lastIndex(of: "#") {
            unitsText = String(text[text.index(after: hash)...])
            let bounds = unitsText.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let first = Int(bounds[0]), let last = Int(bounds.last!),
                let low = UnitID(first), let high = UnitID(last), low <= high
            else { return nil }
            units = (low.rawValue...high.rawValue).map { UnitID(rawValue: $0) }
            text = String(text[..<hash])
        }
        var addresses: [ListenAddress]?
        if let at = text.lastIndex(of: "@") {
            guard let parsed = ListenAddresses(argument: String(text[text.index(after: at)...])) else { return nil }
            addresses = parsed.addresses
            text = String(text[..<at])
        }
        guard !text.isEmpty else { return nil }
        self.path = text
        self.addresses = addresses
        self.units = units
        self.unitsText = unitsText
    }
}

/// A duration on the command line: `250ms`, `1s`, `1m`.
struct DurationArgument: ExpressibleByArgument {
    let duration: Duration

    init(_ duration: Duration) {
        self.duration = duration
    }

    init?(argument: String) {
        guard let duration = Duration(text: argument) else { return nil }
        self.duration = duration
    }

    var defaultValueDescription: String { duration.text }
}
