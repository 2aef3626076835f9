import Foundation
import Glibc
import ModbusProtocol

/// A child process whose stdout and stderr are collected as they arrive, so a test can wait
/// (bounded in time) for a line, send signals, and check the exit status.
///
/// Started with ``spawnChild(_:_:environment:workingDirectory:standardInput:standardOutput:standardError:)``,
/// not Foundation's `Process`: a `Process` with pipes is never freed on this toolchain (a
/// reference cycle inside Foundation, which LeakSanitizer reports under `make asan`).
public final class ChildProcess: @unchecked Sendable {
    /// What the reading and reaping threads share with the test; they hold this, not the
    /// ChildProcess, so dropping the ChildProcess kills the child (see `deinit`).
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        var stdoutData: [UInt8] = []
        var stderrData: [UInt8] = []
        var openStreams = 2
        var exitStatus: Int32?
        var stdoutPaused = false
    }

    private let state = State()
    /// The process identifier.
    public let pid: Int32
    private var stdinWrite: Int32

    /// Starts `executable` with `arguments`.
    ///
    /// - Parameters:
    ///   - pipeCapacity: the size of the stdout pipe's kernel buffer (`F_SETPIPE_SZ`), to make
    ///     a slow reader felt sooner than with the default 64 KiB.
    ///   - stdoutPaused: start without reading stdout (see ``resumeReadingStdout()``).
    ///   - closing: standard descriptors (0, 1, 2) the child starts with closed, as after `2>&-`.
    ///   - nonBlockingStdout: give the child a stdout pipe in non-blocking mode.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, workingDirectory: String? = nil,
        pipeCapacity: Int32? = nil, stdoutPaused: Bool = false, closing: Set<Int32> = [], nonBlockingStdout: Bool = false
    ) throws {
        state.stdoutPaused = stdoutPaused
        func makePipe() throws -> (read: Int32, write: Int32) {
            var ends: [Int32] = [-1, -1]
            guard GNU.pipe2(&ends, O_CLOEXEC) == 0 else { throw TestFailure("pipe2: \(String(cString: strerror(errno)))") }
            return (ends[0], ends[1])
        }
        let input = try makePipe()
        let output = try makePipe()
        let errors = try makePipe()
        if let pipeCapacity {
            _ = fcntl(output.read, 1031 /* F_SETPIPE_SZ */, pipeCapacity)
        }
        if nonBlockingStdout {
            _ = fcntl(output.write, F_SETFL, fcntl(output.write, F_GETFL) | O_NONBLOCK)
        }

        let child: pid_t
        do {
            child = try spawnChild(
                Paths.resolve(executable), arguments, environment: environment, workingDirectory: workingDirectory,
                standardInput: closing.contains(0) ? -1 : input.read, standardOutput: closing.contains(1) ? -1 : output.write,
                standardError: closing.contains(2) ? -1 : errors.write)
        } catch {
            for descriptor in [input.read, input.write, output.read, output.write, errors.read, errors.write] { close(descriptor) }
            throw error
        }
        // The child has its own copies; ours would keep its stdin open and our readers from EOF.
        for descriptor in [input.read, output.write, errors.write] { close(descriptor) }
        pid = child
        stdinWrite = input.write
        Self.collect(output.read, isStdout: true, into: state)
        Self.collect(errors.read, isStdout: false, into: state)
        Self.reap(child, into: state)
    }

    deinit {
        if !hasExited { kill(pid, SIGKILL) }
        if stdinWrite >= 0 { close(stdinWrite) }
    }

    private static func collect(_ descriptor: Int32, isStdout: Bool, into state: State) {
        let thread = Thread {
            defer { close(descriptor) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                if isStdout {
                    state.condition.lock()
                    while state.stdoutPaused { state.condition.wait() }
                    state.condition.unlock()
                }
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                state.condition.lock()
                if count <= 0 {
                    state.openStreams -= 1
                    state.condition.broadcast()
                    state.condition.unlock()
                    return
                }
                if isStdout { state.stdoutData += buffer[0..<count] } else { state.stderrData += buffer[0..<count] }
                state.condition.broadcast()
                state.condition.unlock()
            }
        }
        thread.start()
    }

    /// Waits for the child on a thread of its own; the status is the exit code, or the number
    /// of the signal that ended it (as Foundation's `terminationStatus`).
    private static func reap(_ pid: pid_t, into state: State) {
        let thread = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            let signalled = status & 0x7f
            state.condition.lock()
            state.exitStatus = signalled == 0 ? (status >> 8) & 0xff : signalled
            state.condition.broadcast()
            state.condition.unlock()
        }
        thread.start()
    }

    /// Starts (or resumes) reading stdout.
    public func resumeReadingStdout() {
        state.condition.lock()
        state.stdoutPaused = false
        state.condition.broadcast()
        state.condition.unlock()
    }

    /// Everything written to stdout so far.
    public var stdout: String {
        state.condition.lock()
        defer { state.condition.unlock() }
        return String(decoding: state.stdoutData, as: UTF8.self)
    }

    /// Everything written to stderr so far.
    public var stderr: String {
        state.condition.lock()
        defer { state.condition.unlock() }
        return String(decoding: state.stderrData, as: UTF8.self)
    }

    /// Waits until `predicate` holds for (stdout, stderr), the process exits, or `timeout` passes.
    ///
    /// - Returns: whether the predicate held.
    @discardableResult
    public func wait(for timeout: Duration, until predicate: (_ stdout: String, _ stderr: String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        state.condition.lock()
        defer { state.condition.unlock() }
        while true {
            let out = String(decoding: state.stdoutData, as: UTF8.self)
            let err = String(decoding: state.stderrData, as: UTF8.self)
            if predicate(out, err) { return true }
            if state.exitStatus != nil && state.openStreams == 0 { return predicate(out, err) }
            if !state.condition.wait(until: deadline) { return predicate(out, err) }
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
        if !hasExited { kill(pid, signal) }
    }

    /// Closes the child's stdin.
    public func closeInput() {
        if stdinWrite >= 0 {
            close(stdinWrite)
            stdinWrite = -1
        }
    }

    /// Waits up to `timeout` for the process to exit and its output to be collected.
    ///
    /// - Returns: the exit status, or `nil` if it is still running (then it is killed).
    public func waitForExit(timeout: Duration) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        state.condition.lock()
        while state.exitStatus == nil || state.openStreams > 0 {
            if !state.condition.wait(until: deadline) { break }
        }
        let status = state.exitStatus
        state.condition.unlock()
        if status == nil {
            kill(pid, SIGKILL)
            return nil
        }
        return status
    }

    /// CPU time (user and system) the process has used so far, from `/proc/PID/stat`.
    public var cpuTime: Duration? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return .milliseconds((user + system) * 1000 / Int64(max(ticks, 1)))
    }

    /// Whether the process has exited.
    public var hasExited: Bool {
        state.condition.lock()
        defer { state.condition.unlock() }
        return state.exitStatus != nil
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
