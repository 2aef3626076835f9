import FuzzHarnesses
import Foundation

#if FUZZING
/// libFuzzer's entry point; the harness is named by `FIELDPOLL_FUZZ_TARGET`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.harness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

enum FuzzTarget {
    static let harness: Harness = {
        let name = ProcessInfo.processInfo.environment["FIELDPOLL_FUZZ_TARGET"] ?? ""
        guard let harness = Harness(rawValue: name) else {
            FileHandle.standardError.write(Data("set FIELDPOLL_FUZZ_TARGET to one of \(Harness.allCases.map(\.rawValue))\n".utf8))
            exit(2)
        }
        return harness
    }()
}
#else
/// Without libFuzzer: `fieldpoll-fuzz HARNESS FILE...` replays inputs (a crash reproduces).
@main
enum Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let harness = Harness(rawValue: name) else {
            FileHandle.standardError.write(Data("usage: fieldpoll-fuzz \(Harness.allCases.map(\.rawValue).joined(separator: "|")) FILE...\n".utf8))
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            data.withUnsafeBytes { harness.run($0) }
        }
    }
}
#endif
