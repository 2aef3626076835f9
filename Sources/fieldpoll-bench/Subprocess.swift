import Foundation
import Glibc
import ModbusProtocol
import TestSupport

/// A child process started with TestSupport's `spawnChild` and reaped with `wait4`, so that
/// its own CPU time is known exactly (Foundation's `Process` reaps its children itself and
/// reports none).
///
/// stdout and stderr go to files (or `/dev/null`); stdin is `/dev/null`.
final class Subprocess {
    /// The process identifier.
    let pid: pid_t
    /// When `posix_spawn` was called (monotonic).
    let started: ContinuousClock.Instant
    private var result: Exit?

    /// How a child ended.
    struct Exit {
        /// The exit status, or 128 + the signal number that ended it.
        let status: Int32
        /// From spawning to reaping.
        let wallSeconds: Double
        /// User plus system CPU time of the child alone.
        let cpuSeconds: Double
        // No peak RSS: `ru_maxrss` of a child started with posix_spawn (vfork) includes the
        // bench's own peak, which the kernel carries across exec. See ``peakRSSKiB()``.
    }

    /// The child's peak resident set size so far (`VmHWM`, KiB), while it runs: unlike
    /// `ru_maxrss` it counts only the memory of the program the child became.
    func peakRSSKiB() -> Int? {
        guard result == nil, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } }
    }

    /// Starts `executable` with `arguments`.
    ///
    /// - Parameters:
    ///   - stdout: a file to write stdout to (truncated), or `nil` for `/dev/null`.
    ///   - stderr: a file to write stderr to (truncated), or `nil` for `/dev/null`.
    init(_ executable: String, _ arguments: [String], stdout: String? = nil, stderr: String? = nil, environment: [String: String] = [:]) throws {
        func open(_ path: String, _ flags: Int32) throws -> Int32 {
            let descriptor = Glibc.open(path, flags | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw BenchFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
            return descriptor
        }
        let descriptors = [
            try open("/dev/null", O_RDONLY),
            try open(stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC),
            try open(stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC),
        ]
        defer { descriptors.forEach { close($0) } }
        started = .now
        pid = try spawnChild(
            executable, arguments, environment: environment,
            standardInput: descriptors[0], standardOutput: descriptors[1], standardError: descriptors[2])
    }

    deinit {
        if result == nil {
            kill(pid, SIGKILL)
            _ = reap()
        }
    }

    /// Sends a signal.
    func signal(_ signal: Int32) {
        if result == nil { kill(pid, signal) }
    }

    /// Waits for the child to end; after `timeout` it is killed (status 128 + SIGKILL).
    @discardableResult
    func wait(timeout: Duration = .seconds(600)) -> Exit {
        if let result { return result }
        let pid = self.pid
        let done = Locked(false)
        let watchdog = Thread {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline, !done.withLock({ $0 }) { usleep(20_000) }
            if !done.withLock({ $0 }) { kill(pid, SIGKILL) }
        }
        watchdog.start()
        let exit = reap()
        done.withLock { $0 = true }
        return exit
    }

    private func reap() -> Exit {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0, errno == EINTR {}
        let wall = ContinuousClock.now - started
        let signalled = status & 0x7f
        let code = signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let exit = Exit(status: code, wallSeconds: wall.seconds, cpuSeconds: cpu)
        result = exit
        return exit
    }

    /// Waits (at most `timeout`) until the file at `path` holds a line containing `text`, and
    /// returns every such line.
    static func waitForLines(in path: String, containing text: String, count: Int = 1, timeout: Duration = .seconds(30)) -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let contents = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let lines = contents.split(separator: "\n").filter { $0.contains(text) }.map(String.init)
            if lines.count >= count || ContinuousClock.now >= deadline { return lines }
            usleep(10_000)
        }
    }
}

/// Why the bench could not go on.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
