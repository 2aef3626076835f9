import Foundation
import Glibc

/// A child process whose stdout and stderr are collected as they arrive, so a test can wait
/// (bounded in time) for a line, send signals, and check the exit status.
public final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let input = Pipe()
    private let condition = NSCondition()
    private var stdoutData = Data()
    private var stderrData = Data()
    private var openStreams = 2
    private var exitStatus: Int32?
    private var stdoutPaused = false

    /// Starts `executable` with `arguments`.
    ///
    /// - Parameters:
    ///   - pipeCapacity: the size of the stdout pipe's kernel buffer (`F_SETPIPE_SZ`), to make
    ///     a slow reader felt sooner than with the default 64 KiB.
    ///   - stdoutPaused: start without reading stdout (see ``resumeReadingStdout()``).
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, workingDirectory: String? = nil,
        pipeCapacity: Int32? = nil, stdoutPaused: Bool = false
    ) throws {
        self.stdoutPaused = stdoutPaused
        if let pipeCapacity {
            _ = fcntl(output.fileHandleForReading.fileDescriptor, 1031 /* F_SETPIPE_SZ */, pipeCapacity)
        }
        process.executableURL = URL(fileURLWithPath: Paths.resolve(executable))
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.terminationHandler = { [condition] finished in
            condition.lock()
            self.exitStatus = finished.terminationStatus
            condition.broadcast()
            condition.unlock()
        }
        try process.run()
        collect(output.fileHandleForReading, isStdout: true)
        collect(errors.fileHandleForReading, isStdout: false)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The process identifier.
    public var pid: Int32 { process.processIdentifier }

    private func collect(_ handle: FileHandle, isStdout: Bool) {
        let thread = Thread { [self] in
            let descriptor = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                if isStdout {
                    condition.lock()
                    while stdoutPaused { condition.wait() }
                    condition.unlock()
                }
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                condition.lock()
                if count <= 0 {
                    openStreams -= 1
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                if isStdout { stdoutData.append(contentsOf: buffer[0..<count]) } else { stderrData.append(contentsOf: buffer[0..<count]) }
                condition.broadcast()
                condition.unlock()
            }
        }
        thread.start()
    }

    /// Starts (or resumes) reading stdout.
    public func resumeReadingStdout() {
        condition.lock()
        stdoutPaused = false
        condition.broadcast()
        condition.unlock()
    }

    /// Everything written to stdout so far.
    public var stdout: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: stdoutData, as: UTF8.self)
    }

    /// Everything written to stderr so far.
    public var stderr: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: stderrData, as: UTF8.self)
    }

    /// Waits until `predicate` holds for (stdout, stderr), the process exits, or `timeout` passes.
    ///
    /// - Returns: whether the predicate held.
    @discardableResult
    public func wait(for timeout: Duration, until predicate: (_ stdout: String, _ stderr: String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let out = String(decoding: stdoutData, as: UTF8.self)
            let err = String(decoding: stderrData, as: UTF8.self)
            if predicate(out, err) { return true }
            if exitStatus != nil && openStreams == 0 { return predicate(out, err) }
            if !condition.wait(until: deadline) { return predicate(out, err) }
        }
    }

    /// Waits for a stderr line containing `text` and returns it.
    public func waitForStderrLine(containing text: String, timeout: Duration = .seconds(20)) -> String? {
        var found: String?
        wait(for: timeout) { _, stderr in
            found = stderr.split(separator: "\n").first { $0.contains(text) }.map(String.init)
            return found != nil
        }
        return found
    }

    /// Sends a signal.
    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Closes the child's stdin.
    public func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    /// Closes our end of the child's stdout, so its writes fail with EPIPE.
    public func closeOutputReader() {
        try? output.fileHandleForReading.close()
    }

    /// Waits up to `timeout` for the process to exit and its output to be collected.
    ///
    /// - Returns: the exit status, or `nil` if it is still running (then it is killed).
    public func waitForExit(timeout: Duration) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        while exitStatus == nil || openStreams > 0 {
            if !condition.wait(until: deadline) { break }
        }
        let status = exitStatus
        let streamsDone = openStreams == 0
        condition.unlock()
        if status == nil {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        _ = streamsDone
        return status
    }

    /// Whether the process has exited.
    public var hasExited: Bool {
        condition.lock()
        defer { condition.unlock() }
        return exitStatus != nil
    }
}

/// The outcome of a command run to completion.
public struct CommandResult: Sendable {
    /// Exit status, or -1 when it had to be killed after the timeout.
    public let status: Int32
    /// Everything written to stdout.
    public let stdout: String
    /// Everything written to stderr.
    public let stderr: String

    /// stdout split into lines (without the final empty one).
    public var stdoutLines: [String] {
        stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }
}

/// Runs a command to completion (killed after `timeout`).
public func runCommand(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60), environment: [String: String]? = nil) throws -> CommandResult {
    let child = try ChildProcess(executable, arguments, environment: environment)
    child.closeInput()
    let status = child.waitForExit(timeout: timeout) ?? -1
    return CommandResult(status: status, stdout: child.stdout, stderr: child.stderr)
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
