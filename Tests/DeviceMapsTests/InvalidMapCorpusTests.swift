import DeviceMaps
import Foundation
import Testing
import TestSupport

/// The corpus of malformed maps under fixtures/maps/invalid: each `NAME.yaml` (or `.json`)
/// must give exactly the diagnostics in `NAME.expected` (`LINE:COLUMN: error: MESSAGE` per
/// line; `{dir}` stands for the corpus folder). `FIELDPOLL_RECORD_GOLDEN=1` rewrites them.
@Suite struct InvalidMapCorpusTests {
    static let directory = Paths.inPackage("fixtures/maps/invalid")

    /// Each case: the files loaded together, and the name of the expected file.
    static let cases: [(files: [String], expected: String)] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var cases = names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".json")) && !$0.hasPrefix("duplicate-device-") }
            .sorted().map { ([$0], String($0.split(separator: ".").first!)) }
        cases.append((["duplicate-device-a.yaml", "duplicate-device-b.yaml"], "duplicate-device"))
        return cases
    }()

    static func expectedLines(_ name: String) throws -> [String] {
        try String(contentsOfFile: "\(directory)/\(name).expected", encoding: .utf8)
            .replacingOccurrences(of: "{dir}", with: directory)
            .split(separator: "\n").map(String.init)
    }

    @Test func theCorpusCoversEveryProblemClass() {
        #expect(Self.cases.count >= 25)
    }

    @Test(arguments: cases.map(\.expected))
    func eachMalformedMapGivesExactlyItsDiagnostics(name: String) throws {
        let files = Self.cases.first { $0.expected == name }!.files.map { "\(Self.directory)/\($0)" }
        let loaded = DeviceMapLoader.load(paths: files)
        #expect(loaded.devices.isEmpty || !loaded.diagnostics.isEmpty)
        let actual = loaded.diagnostics.map { diagnostic -> String in
            let text = diagnostic.description
            return files.count == 1 ? String(text.dropFirst(files[0].count + 1)) : text.replacingOccurrences(of: Self.directory, with: "{dir}")
        }
        if ProcessInfo.processInfo.environment["FIELDPOLL_RECORD_GOLDEN"] == "1" {
            try (actual.joined(separator: "\n") + "\n").write(toFile: "\(Self.directory)/\(name).expected", atomically: true, encoding: .utf8)
            return
        }
        let expected = try Self.expectedLines(name).map { $0.replacingOccurrences(of: Self.directory, with: "{dir}") }
        #expect(actual == expected)
        #expect(!actual.isEmpty, "a malformed map must give at least one diagnostic")
    }

    @Test func checkReportsEveryProblemOfEveryFileInOneRunWithStatus2() throws {
        let files = Self.cases.flatMap(\.files).map { "\(Self.directory)/\($0)" }
        let result = try runCommand(Paths.fieldpoll, ["check"] + files, timeout: .seconds(30))
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        var expected: [String] = []
        for (caseFiles, name) in Self.cases {
            let lines = try Self.expectedLines(name)
            expected += caseFiles.count == 1 ? lines.map { "\(Self.directory)/\(caseFiles[0]):\($0)" } : lines
        }
        let actual = result.stderr.split(separator: "\n").map(String.init)
        #expect(actual.sorted() == expected.sorted())
        // Sorted by file, then line and column as numbers, the way compilers report.
        let positions = actual.map { line -> (String, Int, Int) in
            let parts = line.split(separator: ":", maxSplits: 3)
            guard parts.count == 4 else {
                Issue.record("not a diagnostic: \(line)")
                return ("", 0, 0)
            }
            return (String(parts[0]), Int(parts[1]) ?? 0, Int(parts[2]) ?? 0)
        }
        #expect(zip(positions, positions.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func checkAcceptsEveryShippedMapSilently() throws {
        let deviceMaps = try FileManager.default.contentsOfDirectory(atPath: Paths.inPackage("device-maps"))
            .filter { $0.hasSuffix(".yaml") }.map { Paths.inPackage("device-maps/\($0)") }
        let testMaps = try FileManager.default.contentsOfDirectory(atPath: Paths.inPackage("fixtures/maps"))
            .filter { $0.hasSuffix(".yaml") }.map { Paths.inPackage("fixtures/maps/\($0)") }
        #expect(!deviceMaps.isEmpty)
        let result = try runCommand(Paths.fieldpoll, ["check"] + deviceMaps + testMaps, timeout: .seconds(30))
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.isEmpty)
    }

    @Test func aMissingFileIsReportedLikeAnyOtherProblem() throws {
        let result = try runCommand(Paths.fieldpoll, ["check", "/nonexistent/map.yaml"], timeout: .seconds(10))
        #expect(result.status == 2)
        #expect(result.stderr == "/nonexistent/map.yaml:1:1: error: no such file\n")
    }

    /// Random damage to valid maps (bytes flipped, cut, duplicated) never traps the loader.
    @Test func damagedMapsNeverCrashTheLoader() throws {
        let sources = [Paths.inPackage("device-maps/demo.yaml"), Paths.inPackage("fixtures/maps/peer.yaml")]
            .map { Array(FileManager.default.contents(atPath: $0)!) }
        var state: UInt64 = 42
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        let alphabet = Array(" :-[]{},#&*!|>'\"\n\t0123456789abcxyz.\u{7F}".utf8)
        for round in 0..<3000 {
            var bytes = sources[round % sources.count]
            for _ in 0..<(1 + next() % 6) {
                let position = next() % max(bytes.count, 1)
                switch next() % 4 {
                case 0: bytes[position] = alphabet[next() % alphabet.count]
                case 1: bytes.removeSubrange(position..<min(bytes.count, position + next() % 40))
                case 2: bytes.insert(contentsOf: bytes[position..<min(bytes.count, position + next() % 40)], at: position)
                default: bytes.insert(alphabet[next() % alphabet.count], at: position)
                }
            }
            let loaded = DeviceMapLoader.parse(String(decoding: bytes, as: UTF8.self), file: "damaged.yaml")
            #expect(loaded.diagnostics.allSatisfy { $0.line >= 1 && $0.column >= 1 })
        }
    }
}
