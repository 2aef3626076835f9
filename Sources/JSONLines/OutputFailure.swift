import Glibc

/// Why writing to an output (stdout) stopped.
///
/// Only a reader that went away (`EPIPE`, or `POLLERR`/`POLLHUP` on the pipe) ends a command
/// quietly with status 0; every other write error (a full disk, `EIO`, a closed descriptor) is
/// named on stderr and ends it with status 1 (README, "Exit status").
public enum OutputFailure: Error, Equatable, Sendable {
    /// The reader went away.
    case readerGone
    /// A write failed with this `errno`.
    case failed(errno: Int32)

    /// The failure as stderr says it: `cannot write to stdout: No space left on device`.
    public func message(output: String = "stdout") -> String {
        switch self {
        case .readerGone: return "the reader of \(output) went away"
        case .failed(let code): return "cannot write to \(output): \(String(cString: strerror(code)))"
        }
    }

    /// The failure a `write(2)` error stands for.
    init(errno code: Int32) {
        self = code == EPIPE ? .readerGone : .failed(errno: code)
    }
}

/// Writing whole buffers to a file descriptor, the one write loop of the program.
public enum OutputDescriptor {
    /// Writes all of `bytes` to `descriptor`, retrying `EINTR` and waiting with `poll(2)` on
    /// `EAGAIN` (a non-blocking stdout), so it never spins.
    ///
    /// - Returns: `nil` when everything was written.
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> OutputFailure? {
        guard let base = bytes.baseAddress else { return nil }
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, base + offset, bytes.count - offset)
            if written >= 0 {
                offset += written
                continue
            }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN:
                if let failure = waitUntilWritable(descriptor, milliseconds: 500) { return failure }
            default: return OutputFailure(errno: code)
            }
        }
        return nil
    }

    /// Writes all of `bytes`; see ``writeAll(_:_:)-(_,UnsafeRawBufferPointer)``.
    public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> OutputFailure? {
        bytes.withUnsafeBytes { writeAll(descriptor, $0) }
    }

    /// Whether the reader of `descriptor` is gone right now: `poll(2)` reports `POLLERR` or
    /// `POLLHUP` for the write end of a pipe (or a socket) whose reader closed it, without
    /// anything having to be written first.
    public static func readerHasGone(_ descriptor: Int32) -> Bool {
        var watched = pollfd(fd: descriptor, events: 0, revents: 0)
        guard poll(&watched, 1, 0) == 1 else { return false }
        return watched.revents & Int16(POLLERR | POLLHUP) != 0
    }

    /// Waits up to `milliseconds` until `descriptor` takes more bytes.
    ///
    /// - Returns: `.readerGone` when the reader went away meanwhile, else `nil`.
    static func waitUntilWritable(_ descriptor: Int32, milliseconds: Int32) -> OutputFailure? {
        var watched = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&watched, 1, milliseconds)
        if ready == 1, watched.revents & Int16(POLLERR | POLLHUP) != 0 { return .readerGone }
        if ready == 1, watched.revents & Int16(POLLNVAL) != 0 { return .failed(errno: EBADF) }
        return nil
    }

    /// How many bytes the pipe `descriptor` takes without blocking; `nil` when it is not a pipe.
    ///
    /// A blocking `write(2)` of more than that waits for the reader to make room, and cannot be
    /// stopped halfway; writing at most this much keeps every write short, so the writer can
    /// stop at the end of a line when it is told to (README, "Output").
    static func pipeRoom(_ descriptor: Int32) -> Int? {
        // F_GETPIPE_SZ (Linux, <fcntl.h> with _GNU_SOURCE), which Swift does not import.
        let getPipeSize: Int32 = 1032
        let size = fcntl(descriptor, getPipeSize)
        guard size > 0 else { return nil }
        var unread: Int32 = 0
        guard ioctl(descriptor, UInt(FIONREAD), &unread) == 0 else { return nil }
        return max(0, Int(size) - Int(unread))
    }
}
