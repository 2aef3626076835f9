import DeviceMaps
import JSONLines

/// Writes to stderr, a whole line per call.
enum Console {
    /// Writes one line to stderr.
    static func error(_ line: String) {
        var text = line
        text.append("\n")
        // A failed write to stderr has nowhere to be reported.
        _ = text.withUTF8 { OutputDescriptor.writeAll(2, UnsafeRawBufferPointer($0)) }
    }

    /// Writes every diagnostic to stderr, one per line.
    static func report(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { error(diagnostic.description) }
    }
}
