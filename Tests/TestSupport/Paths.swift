import Foundation

/// Where things are, for tests that run the built binary or peer tools.
public enum Paths {
    /// The package root (the folder holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// A file or folder of the package.
    public static func inPackage(_ relative: String) -> String {
        packageRoot.appendingPathComponent(relative).path
    }

    /// The built `fieldpoll` binary: `$FIELDPOLL_BIN`, or the one next to the test bundle.
    public static var fieldpoll: String {
        if let explicit = ProcessInfo.processInfo.environment["FIELDPOLL_BIN"] { return explicit }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        if directory.lastPathComponent == "fieldpollPackageTests.xctest" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("fieldpoll").path
    }

    /// The Python of the venv `make test` creates with pymodbus installed.
    public static var venvPython: String {
        let venv = ProcessInfo.processInfo.environment["FIELDPOLL_VENV"] ?? inPackage(".build-venv")
        return venv + "/bin/python"
    }

    /// A new empty temporary folder.
    public static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fieldpoll-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The path of `name`: itself when it holds a slash, else the first match on `PATH`.
    public static func resolve(_ name: String) -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        return name
    }

    /// Whether an executable exists at `path` or on `PATH`.
    public static func executableExists(_ name: String) -> Bool {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }
}
