import Foundation
import Glibc
import JSONLines

/// `make bench`: every figure of issue 8, measured side by side in one run, printed as tables
/// and written to BENCHMARKS.md.
///
/// Environment (all optional): `BENCH_RUNS` (measured runs per figure, default 5, at least 5
/// for a report), `BENCH_ROWS` (a comma list of decode, encode, plan, limit, fleet, peers;
/// default all), `FLEET_SECONDS` (default 60), `PEER_SECONDS` (default 5), `BENCH_COMMIT`.
/// Arguments: `--output FILE` writes the Markdown report there (only after a full run).
@main
enum Bench {
    static let environment = ProcessInfo.processInfo.environment

    static func main() {
        signal(SIGPIPE, SIG_IGN)
        let runs = max(1, Int(environment["BENCH_RUNS"] ?? "") ?? 5)
        let rows = Set((environment["BENCH_ROWS"] ?? "decode,encode,plan,limit,fleet,peers").split(separator: ",").map(String.init))
        let fleetSeconds = Double(environment["FLEET_SECONDS"] ?? "") ?? 60
        let peerSeconds = Double(environment["PEER_SECONDS"] ?? "") ?? 5
        let arguments = Array(CommandLine.arguments.dropFirst())
        let output = arguments.firstIndex(of: "--output").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }

        var report = Report(runs: runs, commit: environment["BENCH_COMMIT"] ?? "unknown")
        do {
            let scratch = Scratch()
            if rows.contains("decode") { report.decode(measureDecode(runs: runs)) }
            if rows.contains("encode") { report.encode(measureEncode(runs: runs)) }
            if rows.contains("plan") { report.plan(try measurePlan(runs: runs)) }
            var cServer: ServerProcess?
            if rows.contains("limit") || rows.contains("peers") { cServer = try ServerProcess.cServer(scratch: scratch) }
            defer { cServer?.stop() }
            if rows.contains("limit"), let cServer {
                let fixture = try scratch.write("limit.json", LimitBenchmark.fixture)
                let simulator = try ServerProcess.simulator(fixture: fixture, scratch: scratch)
                defer { simulator.stop() }
                progress("4. against the limit: fieldpoll simulate")
                report.limit(try LimitBenchmark.run(server: simulator, countsAtServer: false, runs: runs, scratch: scratch))
                progress("4. against the limit: C server")
                report.limit(try LimitBenchmark.run(server: cServer, countsAtServer: true, runs: runs, scratch: scratch))
            }
            if rows.contains("fleet") {
                progress("5. fleet: \(FleetBenchmark.devices) devices × \(FleetBenchmark.points) points, \(Int(fleetSeconds)) s × \(runs) runs")
                report.fleet(try FleetBenchmark.run(seconds: fleetSeconds, warmUpSeconds: 10, runs: runs, scratch: scratch))
            }
            if rows.contains("peers"), let cServer {
                try measurePeers(runs: runs, seconds: peerSeconds, fleetSeconds: fleetSeconds, server: cServer, scratch: scratch, report: &report)
            }
        } catch {
            print("bench: \(error)")
            exit(1)
        }
        let markdown = report.markdown(complete: rows.count == 6 && runs >= 5)
        print(markdown)
        if let output {
            guard rows.count == 6, runs >= 5 else {
                print("bench: not writing \(output): a report needs every row and BENCH_RUNS >= 5")
                return
            }
            do {
                try markdown.write(toFile: output, atomically: true, encoding: .utf8)
                print("bench: wrote \(output)")
            } catch {
                print("bench: cannot write \(output): \(error)")
                exit(1)
            }
        }
    }

    static func progress(_ text: String) {
        FileHandle.standardError.write(Data("bench: \(text)\n".utf8))
    }

    static func measureDecode(runs: Int) -> [(String, Summary)] {
        CodecBenchmarks.decodeCases().map { decodeCase in
            progress("1. decode \(decodeCase.name)")
            return (decodeCase.name, measure(runs: runs) { CodecBenchmarks.decodeRate(decodeCase) })
        }
    }

    static func measureEncode(runs: Int) -> [(OutputFormat, Summary, Summary)] {
        let samples = CodecBenchmarks.encodeSamples()
        return OutputFormat.allCases.map { format in
            progress("2. encode \(format.rawValue)")
            var bytes: [Double] = []
            let points = measure(runs: runs) {
                let rate = CodecBenchmarks.encodeRate(format, samples: samples)
                bytes.append(rate.bytes)
                return rate.points
            }
            return (format, points, Summary(Array(bytes.dropFirst())))
        }
    }

    static func measurePlan(runs: Int) throws -> PlanFigures {
        progress("3. plan 10,000 points")
        let (device, poll) = try CodecBenchmarks.largePoll()
        var reads = 0
        let plan = measure(runs: max(runs, 20)) {
            let result = CodecBenchmarks.planSeconds(device, poll)
            reads = result.reads
            return result.seconds
        }
        let text = CodecBenchmarks.largeMap()
        let load = measure(runs: runs) { CodecBenchmarks.loadSeconds(text) }
        let registers = poll.points.reduce(0) { $0 + $1.count }
        return PlanFigures(points: poll.points.count, reads: reads, registers: registers, plan: plan, load: load)
    }

    static func measurePeers(runs: Int, seconds: Double, fleetSeconds: Double, server: ServerProcess, scratch: Scratch, report: inout Report) throws {
        let port = String(server.port)
        if let mbpoll = Programs.mbpoll {
            let read = ["-m", "tcp", "-a", "1", "-r", "0", "-0", "-c", "10", "-t", "4", "-p", port]
            progress("6. peers: mbpoll -l 10")
            report.peer(
                try PeerLimitBenchmark.timed(
                    tool: "mbpoll", configuration: "`-l 10` (its shortest poll period)", executable: mbpoll,
                    arguments: read + ["-l", "10", "127.0.0.1"], seconds: seconds, runs: runs, server: server, scratch: scratch))
            progress("6. peers: mbpoll -1, once per process")
            report.peer(
                try PeerLimitBenchmark.repeated(
                    tool: "mbpoll", configuration: "`-1` in a loop, one process per read", executable: mbpoll,
                    arguments: read + ["-1", "127.0.0.1"], count: 100, runs: runs, server: server, scratch: scratch))
        } else {
            report.missingPeer("mbpoll (Debian) is not installed")
        }
        if let modpoll = Programs.modpoll {
            let config = try scratch.write("modpoll-limit.csv", PeerLimitBenchmark.modpollConfig)
            progress("6. peers: modpoll --rate 0")
            report.peer(
                try PeerLimitBenchmark.timed(
                    tool: "modpoll", configuration: "`--rate 0 --interval 0 -d` (as fast as it polls)", executable: modpoll,
                    arguments: ["--tcp", "127.0.0.1", "--tcp-port", port, "--rate", "0", "--interval", "0", "-d", "--loglevel", "WARNING", "-f", config],
                    seconds: seconds, runs: runs, server: server, scratch: scratch))
            progress("6. peers: modpoll fleet, \(Int(fleetSeconds)) s × \(runs) runs")
            report.peerFleet(try PeerFleetBenchmark.run(modpoll: modpoll, seconds: fleetSeconds, warmUpSeconds: 10, runs: runs, scratch: scratch))
        } else {
            report.missingPeer("modpoll (PyPI) is not installed: `make bench` puts it in .build-bench-venv")
        }
    }
}

/// Row 3's figures.
struct PlanFigures {
    let points: Int
    let reads: Int
    let registers: Int
    let plan: Summary
    let load: Summary
}
