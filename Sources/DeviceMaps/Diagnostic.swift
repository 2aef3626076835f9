/// A problem found in a map or fixture file, at a line and column.
///
/// Written as `FILE:LINE:COLUMN: error: MESSAGE`, the form compilers use, so editors and CI
/// logs link straight to the place.
public struct Diagnostic: Error, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The file, as named on the command line.
    public let file: String
    /// The line, from 1.
    public let line: Int
    /// The column, from 1, counted in Unicode scalars.
    public let column: Int
    /// What is wrong, and where possible how to fix it.
    public let message: String

    /// Creates a diagnostic.
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): error: \(message)" }

    public static func < (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        (lhs.file, lhs.line, lhs.column, lhs.message) < (rhs.file, rhs.line, rhs.column, rhs.message)
    }
}

/// Where something was written: a file, line and column.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    /// The file, as named on the command line.
    public let file: String
    /// The line, from 1.
    public let line: Int
    /// The column, from 1.
    public let column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// A diagnostic at this location.
    public func error(_ message: String) -> Diagnostic {
        Diagnostic(file: file, line: line, column: column, message: message)
    }

    public var description: String { "\(file):\(line):\(column)" }
}
