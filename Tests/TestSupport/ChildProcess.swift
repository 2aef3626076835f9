import Foundation
import Glibc

/// A child process whose stdout and stderr are collected as they arrive, so a test can wait
/// (bounded in time) for a line, send signals, and check the exit status.
///
/// Started with `posix_spawn`, not Foundation's `Process`: a `Process` with pipes is never
/// freed on this toolchain (a reference cycle inside Foundation, which LeakSanitizer reports
/// under `make asan`). The child gets only its three pipes (every other descriptor of the test
/// process is closed in it) and default signal dispositions.
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
    private var stdoutRead: Int32

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

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input.read, 0)
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errors.write, 2)
        // Another test's pipe inherited here would keep that test's reader from ever seeing EOF.
        _ = GNU.closeFrom(&actions, 3)
        if let workingDirectory { _ = GNU.chdir(&actions, workingDirectory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let path = Paths.resolve(executable)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var variables = ProcessInfo.processInfo.environment
        if let environment { variables.merge(environment) { _, new in new } }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }

        var child: pid_t = 0
        let status = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        for descriptor in [input.read, output.write, errors.write] { close(descriptor) }
        guard status == 0 else {
            for descriptor in [input.write, output.read, errors.read] { close(descriptor) }
            throw TestFailure("cannot start \(path): \(String(cString: strerror(status)))")
        }
        pid = child
        stdinWrite = input.write
        stdoutRead = output.read
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

    /// Closes our end of the child's stdout, so its writes fail with EPIPE. Only while stdout is
    /// paused: a read blocked on the descriptor would keep the pipe open.
    public func closeOutputReader() {
        if stdoutRead >= 0 {
            close(stdoutRead)
            stdoutRead = -1
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

    /// Whether the process has exited.
    public var hasExited: Bool {
        state.condition.lock()
        defer { state.condition.unlock() }
        return state.exitStatus != nil
    }
}

/// glibc functions Swift's Glibc module does not import (they need `_GNU_SOURCE`), called
/// through `dlsym` with their C signatures.
private enum GNU {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias Chdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static func function<T>(_ name: String, as type: T.Type) -> T {
        // RTLD_DEFAULT is a null handle in glibc.
        guard let symbol = dlsym(nil, name) else { preconditionFailure("glibc has no \(name)") }
        return unsafeBitCast(symbol, to: type)
    }

    /// `pipe2(2)`.
    static let pipe2 = function("pipe2", as: Pipe2.self)
    /// `posix_spawn_file_actions_addclosefrom_np(3)` (glibc 2.34).
    static let closeFrom = function("posix_spawn_file_actions_addclosefrom_np", as: CloseFrom.self)
    /// `posix_spawn_file_actions_addchdir_np(3)` (glibc 2.29).
    static let chdir = function("posix_spawn_file_actions_addchdir_np", as: Chdir.self)
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
