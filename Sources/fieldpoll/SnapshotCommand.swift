import ArgumentParser
import DeviceMaps
import DeviceSimulation
import Foundation
import JSONLines
import Logging
import ModbusProtocol
import PollScheduling

extension Fieldpoll {
    /// `fieldpoll snapshot --out FIXTURE MAP...`: a digital twin of the devices.
    struct Snapshot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every register the maps name, once, and write a fixture that simulate serves back.",
            discussion: """
                Every poll of every device is read once, planned as run plans it and adapting to \
                ranges the device refuses; refused ranges are left out of the fixture, so the twin \
                refuses them too. Devices are keyed by unit id: devices on different endpoints \
                must use different unit ids. What was read is written even when some reads fail \
                (then the exit status is 1). Nothing goes to stdout.

                Example: fieldpoll snapshot --out plant.json device-maps/plant.yaml
                         fieldpoll simulate plant.json     # answers the same maps the same way
                """)

        @Option(help: ArgumentHelp("The fixture to write.", valueName: "fixture"))
        var out: String

        @Option(help: "Lowest level of log lines on stderr.")
        var logLevel: Logger.Level = .warning

        @OptionGroup var maps: MapFiles

        func run() throws {
            let devices = try maps.load()
            let output: OutputFile
            do {
                output = try OutputFile(checking: out)
            } catch {
                Console.error("fieldpoll snapshot: \(error.message)")
                throw ExitCode(ExitStatus.usage)
            }
            var owner: [UnitID: Device] = [:]
            for device in devices {
                if let other = owner[device.unit], (other.host, other.port) != (device.host, device.port) {
                    Console.error("fieldpoll snapshot: devices '\(other.name)' and '\(device.name)' both use unit \(device.unit) on different endpoints; snapshot them into separate fixtures")
                    throw ExitCode(ExitStatus.usage)
                }
                owner[device.unit] = device
            }
            let collector = CollectingSink()
            let engine = try Polling.makeEngine(
                devices: devices, options: .init(count: 1, spreadStarts: false, captureRegisters: true),
                sink: collector, logLevel: logLevel)
            Polling.shutdown.arm(engine: engine, writer: nil) { read, polls in
                "fieldpoll snapshot: interrupted after reading \(read) of \(polls) polls; nothing written"
            }
            Process.onTermination { _ in Polling.shutdown.terminate() }
            engine.run()
            if Polling.shutdown.stoppedEarly { throw ExitCode(Polling.shutdown.exitStatus(sawFailures: engine.sawFailures)) }

            var registers: [UnitID: [Table: [Int: UInt16]]] = [:]
            var failed = 0
            for sample in collector.samples {
                for read in sample.reads {
                    for (offset, value) in read.values.enumerated() {
                        registers[read.unit, default: [:]][read.table, default: [:]][read.start + offset] = value
                    }
                }
                if sample.hasFailures { failed += 1 }
            }
            let fixture = Fixture(registers: registers)
            let formatter = ISO8601DateFormatter()
            let description = "fieldpoll snapshot of \(maps.paths.joined(separator: ", ")) taken \(formatter.string(from: Date()))"
            do {
                try output.write(Array(FixtureDocument.json(fixture, description: description).utf8))
            } catch {
                Console.error("fieldpoll snapshot: \(error.message)")
                throw ExitCode(ExitStatus.failure)
            }
            let registerCount = registers.values.flatMap { $0.filter { !$0.key.holdsBits }.values }.reduce(0) { $0 + $1.count }
            let bitCount = registers.values.flatMap { $0.filter(\.key.holdsBits).values }.reduce(0) { $0 + $1.count }
            Console.error("fieldpoll snapshot: \(registerCount) registers and \(bitCount) bits of \(registers.count) units written to \(out)\(failed > 0 ? "; \(failed) polls had failures (their points are missing)" : "")")
            throw ExitCode(failed > 0 ? ExitStatus.failure : ExitStatus.success)
        }
    }
}

/// Keeps every sample in memory (snapshot reads each poll once).
final class CollectingSink: SampleSink, @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [Sample] = []

    var samples: [Sample] {
        lock.lock()
        defer { lock.unlock() }
        return collected
    }

    func emit(_ sample: Sample) -> Bool {
        lock.lock()
        collected.append(sample)
        lock.unlock()
        return true
    }
}
