import Foundation
import JSONLines

/// The figures of one `make bench` run, as Markdown tables with the goals of issue 8.
struct Report {
    let runs: Int
    let commit: String
    private var sections: [String] = []
    private var goals: [(goal: String, figure: String, met: Bool?)] = []
    private var limitResults: [LimitBenchmark.Result] = []
    private var fleetResult: FleetBenchmark.Result?
    private var peers: [PeerLimitBenchmark.Result] = []
    private var peerFleetResult: PeerFleetBenchmark.Result?
    private var missingPeers: [String] = []

    init(runs: Int, commit: String) {
        self.runs = runs
        self.commit = commit
    }

    // MARK: Rows

    mutating func decode(_ figures: [(String, Summary)]) {
        var table = ["| type | points/s (median) | min | max |", "| --- | ---: | ---: | ---: |"]
        for (name, summary) in figures {
            table.append("| \(name) | \(Self.millions(summary.median)) | \(Self.millions(summary.min)) | \(Self.millions(summary.max)) |")
        }
        sections.append("## 1. Decode\n\nOne thread, `PointDecoding.decode` on registers in memory, \(CodecBenchmarks.decodePoints) points per pass.\n\n" + table.joined(separator: "\n"))
        let slowest = figures.min { $0.1.median < $1.1.median }!
        goals.append(("decode ≥ 20 M points/s (every type)", "slowest: \(slowest.0), \(Self.millions(slowest.1.median)) points/s", slowest.1.median >= 20e6))
    }

    mutating func encode(_ figures: [(OutputFormat, Summary, Summary)]) {
        var table = ["| format | points/s (median) | min | max | MB/s (median) |", "| --- | ---: | ---: | ---: | ---: |"]
        for (format, points, bytes) in figures {
            table.append("| \(format.rawValue) | \(Self.millions(points.median)) | \(Self.millions(points.min)) | \(Self.millions(points.max)) | \(String(format: "%.0f", bytes.median / 1e6)) |")
        }
        sections.append(
            "## 2. Encode\n\nThe production path: `JSONLinesSink` encoding 50-point samples (20 integers, 10 scaled values, 10 float32, 5 bits, 4 negative integers, a string) on the calling thread, `LineWriter` writing them to /dev/null on its own thread.\n\n"
                + table.joined(separator: "\n"))
        let slowest = figures.min { $0.1.median < $1.1.median }!
        goals.append(("encode ≥ 5 M points/s", "slowest: \(slowest.0.rawValue), \(Self.millions(slowest.1.median)) points/s", slowest.1.median >= 5e6))
    }

    mutating func plan(_ figures: PlanFigures) {
        let table = [
            "| figure | median | min | max |", "| --- | ---: | ---: | ---: |",
            "| plan (`RequestPlanner.plan`) | \(Self.ms(figures.plan.median)) | \(Self.ms(figures.plan.min)) | \(Self.ms(figures.plan.max)) |",
            "| load and validate the map's YAML | \(Self.ms(figures.load.median)) | \(Self.ms(figures.load.min)) | \(Self.ms(figures.load.max)) |",
        ]
        sections.append(
            "## 3. Plan\n\nA generated map of one device with \(figures.points) points (\(figures.registers) registers and bits) over all four tables, every type, random gaps, `max_gap: 2`: \(figures.reads) requests. Planning runs \(max(runs, 20)) times.\n\n"
                + table.joined(separator: "\n"))
        goals.append(("plan 10,000 points in well under 100 ms", Self.ms(figures.plan.median), figures.plan.median < 0.1))
    }

    mutating func limit(_ result: LimitBenchmark.Result) {
        limitResults.append(result)
    }

    mutating func fleet(_ result: FleetBenchmark.Result) {
        fleetResult = result
    }

    mutating func peer(_ result: PeerLimitBenchmark.Result) { peers.append(result) }
    mutating func peerFleet(_ result: PeerFleetBenchmark.Result) { peerFleetResult = result }
    mutating func missingPeer(_ reason: String) { missingPeers.append(reason) }

    // MARK: Rendering

    func markdown(complete: Bool) -> String {
        var parts = [
            "# Benchmarks",
            """
            Written by `make bench` (`Sources/fieldpoll-bench`); every figure is the median of \(runs) runs after a warm-up, with the minimum and maximum. \
            Ratios are taken pair by pair from runs made back to back, alternating which goes first.

            | | |
            | --- | --- |
            | date | \(Self.date()) |
            | machine | \(Self.machine()) |
            | commit | \(commit) |
            | toolchain | \(Self.firstLine(of: "/usr/bin/env", ["swift", "--version"]) ?? "?") (release build) |
            | libmodbus | \(Self.firstLine(of: "/usr/bin/env", ["pkg-config", "--modversion", "libmodbus"]) ?? "?") |
            """,
        ]
        if !complete { parts.append("_Partial run: not every row, or fewer than 5 runs._") }
        parts += sections
        var goals = self.goals
        if !limitResults.isEmpty { parts.append(limitSection(&goals)) }
        if let fleetResult { parts.append(fleetSection(fleetResult, &goals)) }
        if !peers.isEmpty || peerFleetResult != nil || !missingPeers.isEmpty { parts.append(peerSection(&goals)) }
        var table = ["| goal | measured | met |", "| --- | --- | :---: |"]
        for goal in goals {
            table.append("| \(goal.goal) | \(goal.figure) | \(goal.met.map { $0 ? "yes" : "**no**" } ?? "n/a") |")
        }
        parts.append("## Goals\n\n" + table.joined(separator: "\n"))
        return parts.joined(separator: "\n\n") + "\n"
    }

    private func limitSection(_ goals: inout [(goal: String, figure: String, met: Bool?)]) -> String {
        var table = [
            "| server | program | requests/s, whole process (median) | min | max | CPU µs/request | requests/s at the server |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        var ratioRows = ["| server | fieldpoll ÷ C loop, whole process (median) | min | max | at the server (median) |", "| --- | ---: | ---: | ---: | ---: |"]
        for result in limitResults {
            for (program, runs) in [("C loop (`modbus_read_registers`)", result.cLoop), ("`fieldpoll run --count 20000`", result.fieldpoll)] {
                let rate = Summary(runs.map(\.rate))
                let cpu = Summary(runs.map(\.cpuPerRequest))
                let steady = runs.compactMap(\.steadyRate)
                table.append(
                    "| \(result.server) | \(program) | \(Self.integer(rate.median)) | \(Self.integer(rate.min)) | \(Self.integer(rate.max)) | \(String(format: "%.1f", cpu.median)) | \(steady.isEmpty ? "–" : Self.integer(Summary(steady).median)) |"
                )
            }
            let ratio = result.ratio
            ratioRows.append(
                "| \(result.server) | \(Self.ratio(ratio.median)) | \(Self.ratio(ratio.min)) | \(Self.ratio(ratio.max)) | \(result.steadyRatio.map { Self.ratio($0.median) } ?? "–") |")
            goals.append(("ratio to the C loop ≥ 0.95 (\(result.server))", "\(Self.ratio(ratio.median)) whole process" + (result.steadyRatio.map { ", \(Self.ratio($0.median)) at the server" } ?? ""), ratio.median >= 0.95))
        }
        return """
            ## 4. Against the limit

            One device, one poll of 10 holding registers, `interval: 0`: `fieldpoll run --count 20000 > /dev/null` against a C program calling `modbus_read_registers` 20,000 times on one connection (`Sources/bench-read-loop`), on `fieldpoll simulate` and on a minimal single-threaded C libmodbus server (`Sources/bench-modbus-server`). \
            "Whole process" is 20,000 over the time from spawning the program to reaping it (start-up, loading the map and connecting included); "at the server" is what the C server measured from the first request to the last reply.

            \(table.joined(separator: "\n"))

            \(ratioRows.joined(separator: "\n"))
            """
    }

    private func fleetSection(_ result: FleetBenchmark.Result, _ goals: inout [(goal: String, figure: String, met: Bool?)]) -> String {
        let cpu = result.cpuPerPoint
        let rss = result.peakRSSMiB
        let missed = result.missed
        let share = result.coreShare
        let lines = Summary(result.runs.map { Double($0.lines) })
        let errors = Summary(result.runs.map { Double($0.errorLines) })
        let points = Summary(result.runs.map { Double($0.pointsDelivered) })
        let due = result.runs.first?.due ?? 0
        let seconds = Int(result.runs.first?.seconds ?? 0)
        let table = [
            "| figure | median | min | max |", "| --- | ---: | ---: | ---: |",
            "| CPU per point polled (µs) | \(String(format: "%.3f", cpu.median)) | \(String(format: "%.3f", cpu.min)) | \(String(format: "%.3f", cpu.max)) |",
            "| CPU, share of one core | \(Self.percent(share.median)) | \(Self.percent(share.min)) | \(Self.percent(share.max)) |",
            "| peak RSS (MiB) | \(String(format: "%.1f", rss.median)) | \(String(format: "%.1f", rss.min)) | \(String(format: "%.1f", rss.max)) |",
            "| missed cycles | \(Self.integer(missed.median)) | \(Self.integer(missed.min)) | \(Self.integer(missed.max)) |",
            "| lines (about \(due) cycles due) | \(Self.integer(lines.median)) | \(Self.integer(lines.min)) | \(Self.integer(lines.max)) |",
            "| lines with an error | \(Self.integer(errors.median)) | \(Self.integer(errors.min)) | \(Self.integer(errors.max)) |",
            "| points delivered | \(Self.integer(points.median)) | \(Self.integer(points.min)) | \(Self.integer(points.max)) |",
        ]
        goals.append(("fleet: ≤ 1 µs of CPU per point polled", String(format: "%.3f µs", cpu.median), cpu.median <= 1))
        goals.append(("fleet: peak RSS ≤ 64 MiB", String(format: "%.1f MiB", rss.median), rss.median <= 64))
        goals.append(("fleet: zero missed cycles", "\(Self.integer(missed.max)) in the worst run", missed.max == 0))
        return """
            ## 5. Fleet cost

            \(FleetBenchmark.devices) devices × \(FleetBenchmark.points) points (20 uint16, 10 scaled int16, 10 float32 CDAB, 5 bits, 4 int32 CDAB, a string; one request of 63 registers each) at `interval: 1s`, each device its own endpoint, on \(FleetBenchmark.simulators) `fieldpoll simulate --latency 5ms` processes of \(FleetBenchmark.devices / FleetBenchmark.simulators) ports each. \
            `fieldpoll run` (start times spread, as a sidecar runs) for \(seconds) s, then SIGTERM; CPU time and peak RSS are the poller's own (`wait4`), stdout goes to a file read afterwards.

            \(table.joined(separator: "\n"))
            """
    }

    private func peerSection(_ goals: inout [(goal: String, figure: String, met: Bool?)]) -> String {
        var text = [
            "## 6. Peers",
            "Row 4's work (10 holding registers from the C server, counted by the server): each tool as fast as it can be configured to poll. mbpoll 1.0 (Debian) refuses a poll period under 10 ms; modpoll 1.6.0 (PyPI, on pymodbus) opens a new connection for every round and waits 10 ms between rounds.",
        ]
        var table = ["| tool | configuration | requests/s (median) | min | max | CPU µs/request | peak RSS MiB |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        if let ours = limitResults.last {
            let rate = Summary(ours.fieldpoll.compactMap(\.steadyRate))
            let cpu = Summary(ours.fieldpoll.map(\.cpuPerRequest))
            table.append("| fieldpoll | `interval: 0` (row 4) | \(Self.integer(rate.median)) | \(Self.integer(rate.min)) | \(Self.integer(rate.max)) | \(String(format: "%.1f", cpu.median)) | (row 5) |")
            for peer in peers {
                let rss = peer.peakRSSKiB.map { String(format: "%.1f", $0.median / 1024) } ?? "–"
                table.append(
                    "| \(peer.tool) | \(peer.configuration) | \(Self.integer(peer.rate.median)) | \(Self.integer(peer.rate.min)) | \(Self.integer(peer.rate.max)) | \(String(format: "%.0f", peer.cpuPerRequest.median)) | \(rss) |"
                )
                goals.append(("beat \(peer.tool) \(peer.configuration) on row 4", "\(Self.ratio(rate.median / peer.rate.median))× its request rate, \(Self.ratio(peer.cpuPerRequest.median / cpu.median))× less CPU per request", rate.median > peer.rate.median && cpu.median < peer.cpuPerRequest.median))
            }
        }
        text.append(table.joined(separator: "\n"))
        if let modpoll = peerFleetResult {
            text.append(
                "Row 5's work: modpoll polls the devices of one process one after another over a single endpoint (`--tcp HOST`), so it gets the same \(FleetBenchmark.devices) devices × \(FleetBenchmark.points) points as unit ids behind one `fieldpoll simulate --latency 5ms`, at `--rate 1 --interval 0`, printing its tables to a file.")
            var fleet = ["| tool | CPU µs per point polled | peak RSS MiB | device cycles delivered (median) | missed cycles (median) |", "| --- | ---: | ---: | ---: | ---: |"]
            if let ours = fleetResult {
                fleet.append(
                    "| fieldpoll | \(String(format: "%.3f", ours.cpuPerPoint.median)) | \(String(format: "%.1f", ours.peakRSSMiB.median)) | \(Self.integer(Summary(ours.runs.map { Double($0.lines) }).median)) | \(Self.integer(ours.missed.median)) |")
                let cpuRatio = modpoll.cpuPerPoint.median / ours.cpuPerPoint.median
                goals.append(("beat modpoll on row 5", "\(Self.ratio(cpuRatio))× less CPU per point, \(Self.integer(modpoll.missed.median)) vs \(Self.integer(ours.missed.median)) missed cycles", ours.cpuPerPoint.median < modpoll.cpuPerPoint.median && ours.missed.median <= modpoll.missed.median))
            }
            fleet.append(
                "| modpoll | \(String(format: "%.1f", modpoll.cpuPerPoint.median)) | \(String(format: "%.1f", modpoll.peakRSSMiB.median)) | \(Self.integer(Summary(modpoll.runs.map { Double($0.devicePolls) }).median)) | \(Self.integer(modpoll.missed.median)) |")
            text.append(fleet.joined(separator: "\n"))
            text.append("mbpoll is measured on row 4 only: it polls one endpoint per process, at most once per 10 ms, and prints bare register values rather than decoded records.")
        }
        for missing in missingPeers { text.append("Not measured: \(missing).") }
        return text.joined(separator: "\n\n")
    }

    // MARK: Formatting

    static func millions(_ value: Double) -> String { String(format: "%.1f M", value / 1e6) }
    static func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1e3) }
    static func ratio(_ value: Double) -> String { String(format: "%.3f", value) }
    static func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }
    static func integer(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        formatter.groupingSeparator = ","
        return formatter.string(from: NSNumber(value: value.rounded())) ?? String(Int(value))
    }

    static func date() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }

    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?"
        let memory = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?.split(separator: "\n").first?.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(model), \(memory.map { "\($0 / 1_048_576) GiB" } ?? "?"), Linux \(kernel)"
    }

    /// The first line a short command prints on stdout.
    static func firstLine(of executable: String, _ arguments: [String]) -> String? {
        let scratch = Scratch()
        let output = scratch.file("out")
        guard let process = try? Subprocess(executable, arguments, stdout: output), process.wait(timeout: .seconds(20)).status == 0 else { return nil }
        return (try? String(contentsOfFile: output, encoding: .utf8))?.split(separator: "\n").first.map(String.init)
    }
}
