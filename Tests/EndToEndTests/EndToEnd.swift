import Foundation
import Testing
import TestSupport

/// Helpers shared by the end-to-end tests, which run the built `fieldpoll` binary.
enum EndToEnd {
    /// A copy of a map with `port: 1502` replaced by `port`, in a temporary folder.
    static func map(_ relative: String, port: Int) throws -> String {
        let text = try String(contentsOfFile: Paths.inPackage(relative), encoding: .utf8)
        let copy = Paths.temporaryDirectory().appendingPathComponent(URL(fileURLWithPath: relative).lastPathComponent)
        try text.replacingOccurrences(of: "port: 1502", with: "port: \(port)").write(to: copy, atomically: true, encoding: .utf8)
        return copy.path
    }

    /// Parses JSON Lines; records an issue for any line that is not a JSON object.
    static func objects(_ lines: [String]) -> [[String: Any]] {
        lines.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                Issue.record("not a JSON object: \(line)")
                return nil
            }
            return object
        }
    }

    /// The lines with every `"time":"…"` replaced by `"time":"T"`, sorted.
    static func normalized(_ lines: [String]) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #""time":"[0-9T:.\-]+Z""#)
        return lines.map { line in
            pattern.stringByReplacingMatches(in: line, range: NSRange(line.startIndex..., in: line), withTemplate: #""time":"T""#)
        }.sorted()
    }

    /// Compares text with a golden file under fixtures/golden, byte for byte, or rewrites it
    /// when `FIELDPOLL_RECORD_GOLDEN=1`.
    static func expectGoldenText(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = Paths.inPackage("fixtures/golden/\(name)")
        if ProcessInfo.processInfo.environment["FIELDPOLL_RECORD_GOLDEN"] == "1" {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        #expect(text == (try String(contentsOfFile: path, encoding: .utf8)), sourceLocation: sourceLocation)
    }

    /// Compares lines with a golden file under fixtures/golden, or rewrites it when
    /// `FIELDPOLL_RECORD_GOLDEN=1` (re-recorded only on purpose).
    static func expectGolden(_ lines: [String], _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = Paths.inPackage("fixtures/golden/\(name)")
        if ProcessInfo.processInfo.environment["FIELDPOLL_RECORD_GOLDEN"] == "1" {
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == golden, sourceLocation: sourceLocation)
    }
}
