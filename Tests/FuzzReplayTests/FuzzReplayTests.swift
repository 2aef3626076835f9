import Foundation
import FuzzHarnesses
import Testing
import TestSupport

/// Every input kept under fixtures/fuzz/HARNESS/ (crashers found by `make fuzz`, fixed, and
/// seeds) goes through its harness again: none may trap.
@Suite struct FuzzReplayTests {
    static func inputs(_ harness: Harness) -> [String] {
        let directory = Paths.inPackage("fixtures/fuzz/\(harness.rawValue)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().map { "\(directory)/\($0)" }
    }

    @Test(arguments: Harness.allCases)
    func everyKeptInputRunsThroughItsHarness(harness: Harness) throws {
        let inputs = Self.inputs(harness)
        #expect(!inputs.isEmpty, "fixtures/fuzz/\(harness.rawValue) holds at least the seed inputs")
        for path in inputs {
            let data = try #require(FileManager.default.contents(atPath: path))
            data.withUnsafeBytes { harness.run($0) }
        }
    }
}
