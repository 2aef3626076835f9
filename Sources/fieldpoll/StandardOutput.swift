import ArgumentParser
import JSONLines

/// stdout for commands that print one document (`plan`, `--help`): written whole, straight to
/// descriptor 1, with the exit statuses of the README for a reader that left or a failed write.
enum StandardOutput {
    /// Writes `text` to stdout.
    ///
    /// - Throws: `ExitCode` 0 when the reader went away (`| head -1`), 1 after naming any other
    ///   write error on stderr (`> /dev/full`).
    static func write(_ text: String) throws {
        var text = text
        if let failure = text.withUTF8({ OutputDescriptor.writeAll(1, UnsafeRawBufferPointer($0)) }) {
            throw ExitCode(failure.exitStatus())
        }
    }
}
