import Foundation
import ModbusProtocol
import RegisterDecoding
import Yams

/// Reads YAML (and JSON) nodes into typed values, collecting every problem as a
/// ``Diagnostic`` at the node's line and column instead of stopping at the first.
///
/// Shared by the map loader and the fixture loader.
package struct YAMLReader {
    /// The file name used in diagnostics.
    package let file: String
    /// Every problem found so far, in the order found.
    package private(set) var diagnostics: [Diagnostic] = []

    /// A key of a mapping with its value.
    package struct Entry {
        /// The key text.
        package let key: String
        /// The key node, for diagnostics about the key itself.
        package let keyNode: Node
        /// The value node.
        package let value: Node
    }

    /// Creates a reader for `file`.
    package init(file: String) {
        self.file = file
    }

    /// Reads a file as UTF-8 text, or returns the diagnostic explaining why it cannot be read.
    package static func readText(of path: String) -> Result<String, Diagnostic> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(Diagnostic(file: path, line: 1, column: 1, message: "no such file"))
        }
        guard !isDirectory.boolValue else {
            return .failure(Diagnostic(file: path, line: 1, column: 1, message: "is a directory, not a file"))
        }
        // FileHandle, not FileManager.contents(atPath:), which leaks a 4 KiB buffer per call
        // (LeakSanitizer, Foundation of Swift 6.3).
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
            return .failure(Diagnostic(file: path, line: 1, column: 1, message: "cannot read the file"))
        }
        try? handle.close()
        guard let text = String(validating: data, as: UTF8.self) else {
            return .failure(Diagnostic(file: path, line: 1, column: 1, message: "the file is not UTF-8 text"))
        }
        return .success(text)
    }

    /// Parses a single YAML document; `nil` root for an empty document.
    package mutating func compose(_ text: String) -> (root: Node?, ok: Bool) {
        if text.utf8.contains(0) {
            report(line: 1, column: 1, "the file contains a NUL byte; it is not YAML or JSON text")
            return (nil, false)
        }
        do {
            return (try Yams.compose(yaml: text), true)
        } catch let error as YamlError {
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                .composer(let context, let problem, let mark, _):
                let detail = context.map { " \($0.text)" } ?? ""
                report(line: mark.line, column: mark.column, "invalid YAML: \(problem)\(detail)")
            case .reader(let problem, let offset, _, _):
                report(line: 1, column: 1, "invalid YAML: \(problem)\(offset.map { " at byte \($0)" } ?? "")")
            case .duplicatedKeysInMapping(let duplicates, let context):
                let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
                report(line: context.mark.line, column: context.mark.column, "duplicate key \(keys)")
            default:
                report(line: 1, column: 1, "invalid YAML: \(error)")
            }
            return (nil, false)
        } catch {
            report(line: 1, column: 1, "invalid YAML: \(error)")
            return (nil, false)
        }
    }

    /// Where `node` starts.
    package func location(of node: Node) -> SourceLocation {
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// Records a problem at `node`.
    package mutating func error(at node: Node, _ message: String) {
        diagnostics.append(location(of: node).error(message))
    }

    /// Records a problem at a location.
    package mutating func error(at location: SourceLocation, _ message: String) {
        diagnostics.append(location.error(message))
    }

    /// Records a problem at a line and column.
    package mutating func report(line: Int, column: Int, _ message: String) {
        diagnostics.append(Diagnostic(file: file, line: line, column: column, message: message))
    }

    /// Whether a node is an explicit or implicit null (`~`, `null`, nothing).
    package func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The entries of a mapping node, or `nil` (with a diagnostic) when `node` is not a mapping.
    package mutating func mapping(_ node: Node, _ what: String) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            error(at: node, "\(what) must be a mapping of keys to values, not \(kind(of: node))")
            return nil
        }
        var entries: [Entry] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                error(at: key, "a key in \(what) must be a plain word, not \(kind(of: key))")
                continue
            }
            entries.append(Entry(key: scalar.string, keyNode: key, value: value))
        }
        return entries
    }

    /// The elements of a sequence node, or `nil` (with a diagnostic).
    package mutating func sequence(_ node: Node, _ what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            error(at: node, "\(what) must be a list, not \(kind(of: node))")
            return nil
        }
        return Array(sequence)
    }

    /// Reports every key of `entries` that is not in `allowed`, with a did-you-mean.
    package mutating func checkKeys(_ entries: [Entry], allowed: [String], in what: String) {
        for entry in entries where !allowed.contains(entry.key) {
            let hint = Suggestion.hint(for: entry.key, among: allowed)
            error(at: entry.keyNode, "unknown key '\(entry.key)' in \(what)\(hint)")
        }
    }

    /// A non-empty string scalar.
    package mutating func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node, !isNull(node) else {
            error(at: node, "\(what) must be text, not \(kind(of: node))")
            return nil
        }
        guard !scalar.string.isEmpty else {
            error(at: node, "\(what) must not be empty")
            return nil
        }
        return scalar.string
    }

    /// An integer scalar (decimal, `0x` hex, `0o` octal, `0b` binary) within `range`.
    package mutating func integer(_ node: Node, _ what: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = integerValue(node) else {
            error(at: node, "\(what) must be an integer, not \(describe(node))")
            return nil
        }
        guard range.contains(value) else {
            error(at: node, "\(what) \(value) is outside \(range.lowerBound)-\(range.upperBound)")
            return nil
        }
        return value
    }

    /// The integer a scalar node holds, if it is one.
    package func integerValue(_ node: Node) -> Int? {
        guard case .scalar(let scalar) = node, !isNull(node) else { return nil }
        return Self.parseInteger(scalar.string)
    }

    /// Parses an integer literal as YAML writes them.
    package static func parseInteger(_ text: String) -> Int? {
        var body = Substring(text.filter { $0 != "_" })
        var negative = false
        if body.hasPrefix("-") {
            negative = true
            body = body.dropFirst()
        } else if body.hasPrefix("+") {
            body = body.dropFirst()
        }
        let radix: Int
        if body.hasPrefix("0x") || body.hasPrefix("0X") {
            radix = 16
            body = body.dropFirst(2)
        } else if body.hasPrefix("0o") {
            radix = 8
            body = body.dropFirst(2)
        } else if body.hasPrefix("0b") {
            radix = 2
            body = body.dropFirst(2)
        } else {
            radix = 10
        }
        guard !body.isEmpty, body.allSatisfy(\.isASCII), let magnitude = Int(body, radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// A decimal number scalar.
    package mutating func number(_ node: Node, _ what: String) -> DecimalNumber? {
        guard case .scalar(let scalar) = node, !isNull(node) else {
            error(at: node, "\(what) must be a number, not \(describe(node))")
            return nil
        }
        if let integer = Self.parseInteger(scalar.string), scalar.string.lowercased().hasPrefix("0x") || scalar.string.lowercased().hasPrefix("-0x") {
            return DecimalNumber(mantissa: Int64(integer), exponent: 0)
        }
        guard let number = DecimalNumber(scalar.string), number.double.isFinite else {
            error(at: node, "\(what) must be a number, not \(describe(node))")
            return nil
        }
        return number
    }

    /// A duration scalar (`250ms`, `1s`, `1m`, `0`).
    package mutating func duration(_ node: Node, _ what: String) -> Duration? {
        guard case .scalar(let scalar) = node, !isNull(node) else {
            error(at: node, "\(what) must be a duration like 250ms, 1s or 1m, not \(describe(node))")
            return nil
        }
        guard let duration = Duration(text: scalar.string) else {
            error(at: node, "\(what) '\(scalar.string)' is not a duration (write e.g. 250ms, 1s, 1m)")
            return nil
        }
        return duration
    }

    /// A short description of a node for messages: its text, or its kind.
    package func describe(_ node: Node) -> String {
        if case .scalar(let scalar) = node {
            return isNull(node) ? "nothing" : "'\(scalar.string)'"
        }
        return kind(of: node)
    }

    /// "a mapping", "a list", "text".
    package func kind(of node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar: isNull(node) ? "nothing" : "'\(node.scalar?.string ?? "")'"
        case .alias: "an alias"
        }
    }
}
