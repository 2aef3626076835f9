import Foundation
import Glibc
import ModbusProtocol

/// Writes whole lines to a file descriptor (stdout) from many threads, through a bounded
/// buffer drained by one writer thread.
///
/// - Producers append whole lines only, so the output never interleaves or cuts a line.
/// - The buffer is bounded: when it is full, producers wait. A slow reader therefore slows
///   polling down (the scheduler counts the cycles it could not start as missed) and memory
///   stays flat.
/// - Lines queued together go out in one `write(2)`, so a fast producer costs few system calls.
///   When the writer wakes for a line it first waits ``coalescing`` for the lines behind it, and
///   producers wake it only when it is idle (or the buffer is half full); BENCHMARKS.md has
///   the measurements behind both.
/// - A reader that goes away is noticed when it goes: an idle writer looks every
///   ``readerCheck`` whether `poll(2)` reports `POLLERR`/`POLLHUP`, and a write fails with
///   `EPIPE` (`SIGPIPE` must be ignored by the process). Any write error marks the writer
///   failed: every producer's next append returns `false`, and `onFailure` runs once.
/// - On a pipe, no write is longer than the room the pipe has, so no write blocks for long; a
///   writer told to stop within a time (``finish(within:)``) completes the line it has begun,
///   however slowly the reader takes it (giving up only on a reader that takes nothing for
///   ``stalledReader``), and begins no other. A non-blocking stdout is waited on with
///   `poll(2)`, never spun on.
public final class LineWriter: @unchecked Sendable {
    private let descriptor: Int32
    private let capacity: Int
    private let isPipe: Bool
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var spare: [UInt8] = []
    private var failed: OutputFailure?
    private var finishing = false
    /// After this instant the writer begins no new line; it completes the one in progress.
    private var cutoff: ContinuousClock.Instant?
    private var unwritten = 0
    private var writerDone = false
    private var writerIdle = false
    private var producersWaiting = 0
    private let onFailure: @Sendable (OutputFailure) -> Void

    /// How long the writer waits, once woken, for more lines to write with the first.
    public static let coalescing = Duration.milliseconds(20)
    /// How often an idle writer checks whether the reader has gone.
    public static let readerCheck = Duration.milliseconds(500)
    /// How long a reader may take no byte at all before a finishing writer stops mid-line.
    public static let stalledReader = Duration.seconds(5)

    /// Creates a writer and starts its thread.
    ///
    /// - Parameters:
    ///   - descriptor: where to write (1 for stdout).
    ///   - capacity: bytes the buffer holds before producers wait.
    ///   - onFailure: called once, on the writer thread, when the reader has gone away or a
    ///     write failed.
    public init(descriptor: Int32 = 1, capacity: Int = 256 * 1024, onFailure: @escaping @Sendable (OutputFailure) -> Void = { _ in }) {
        self.descriptor = descriptor
        self.capacity = capacity
        self.onFailure = onFailure
        var status = stat()
        self.isPipe = fstat(descriptor, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO
        pending.reserveCapacity(capacity)
        spare.reserveCapacity(capacity)
        let thread = Thread { [self] in drain() }
        thread.name = "stdout writer"
        thread.start()
    }

    /// Why the output stopped taking lines, if it did.
    public var failure: OutputFailure? {
        condition.lock()
        defer { condition.unlock() }
        return failed
    }

    /// Lines that were queued but not written because ``finish(within:)`` ran out of time.
    public var unwrittenLines: Int {
        condition.lock()
        defer { condition.unlock() }
        return unwritten
    }

    /// Queues whole lines, waiting while the buffer is full.
    ///
    /// - Returns: `false` when the output failed or is finishing (the lines are dropped).
    @discardableResult
    public func write(_ lines: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while failed == nil, !finishing, !pending.isEmpty, pending.count + lines.count > capacity {
            producersWaiting += 1
            condition.broadcast()
            condition.wait()
            producersWaiting -= 1
        }
        guard failed == nil, !finishing else { return false }
        pending.append(contentsOf: lines)
        // Wake the writer when it waits for work, or cut its coalescing short once the buffer
        // is half full.
        if writerIdle || pending.count >= capacity / 2 { condition.broadcast() }
        return true
    }

    /// Stops taking lines and waits until everything queued is written, however long a slow
    /// reader takes (as any program writing to a pipe would), or until the output fails.
    ///
    /// - Returns: whether the writer finished (always `true`; for symmetry with the timed form).
    @discardableResult
    public func finish() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        finishing = true
        condition.broadcast()
        while !writerDone { condition.wait() }
        return true
    }

    /// Stops taking lines, writes what is queued for at most `limit`, then completes the line
    /// in progress and drops the lines not begun, counting them in ``unwrittenLines``: a line
    /// on stdout is always whole, unless the reader takes nothing for ``stalledReader``.
    ///
    /// - Returns: whether everything queued was written (or the output failed).
    @discardableResult
    public func finish(within limit: Duration) -> Bool {
        let now = ContinuousClock.now
        condition.lock()
        defer { condition.unlock() }
        finishing = true
        if cutoff == nil { cutoff = now + limit }
        condition.broadcast()
        while !writerDone { condition.wait() }
        return unwritten == 0
    }

    private func drain() {
        let coalescing = Self.coalescing.seconds
        while true {
            condition.lock()
            writerIdle = true
            while pending.isEmpty, !finishing, failed == nil {
                if condition.wait(until: Date().addingTimeInterval(Self.readerCheck.seconds)) { continue }
                guard pending.isEmpty, !finishing, failed == nil else { break }
                condition.unlock()
                let gone = OutputDescriptor.readerHasGone(descriptor)
                condition.lock()
                if gone {
                    stop(after: .readerGone)
                    return
                }
            }
            writerIdle = false
            if pending.isEmpty || failed != nil || pastCutoff {
                unwritten += Self.lineCount(pending[...])
                pending.removeAll()
                writerDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
            // Let the lines behind this one arrive, unless stopping or producers are waiting.
            if !finishing, producersWaiting == 0 {
                _ = condition.wait(until: Date().addingTimeInterval(coalescing))
            }
            swap(&pending, &spare)
            if producersWaiting > 0 || finishing { condition.broadcast() }
            condition.unlock()

            let result = writeBatch(spare)
            spare.removeAll(keepingCapacity: true)
            condition.lock()
            unwritten += result.unwrittenLines
            if let failure = result.failure {
                stop(after: failure)
                return
            }
            condition.unlock()
        }
    }

    /// Records `failure`, drops what is queued, wakes everyone, calls `onFailure` and marks the
    /// writer done; called with the lock held, returns with it released.
    private func stop(after failure: OutputFailure) {
        failed = failure
        pending.removeAll()
        condition.broadcast()
        condition.unlock()
        // Before the writer counts as done, so whoever waits in `finish` sees its effects.
        onFailure(failure)
        condition.lock()
        writerDone = true
        condition.broadcast()
        condition.unlock()
    }

    private var pastCutoff: Bool {
        cutoff.map { ContinuousClock.now >= $0 } ?? false
    }

    /// Writes one batch of whole lines; after the cutoff only up to the end of the line in
    /// progress.
    private func writeBatch(_ bytes: [UInt8]) -> (failure: OutputFailure?, unwrittenLines: Int) {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return (nil, 0) }
            var offset = 0
            var end = buffer.count
            var cut = false
            var progress = ContinuousClock.now
            while offset < end {
                if !cut {
                    condition.lock()
                    let stopping = pastCutoff
                    condition.unlock()
                    if stopping {
                        cut = true
                        end = Self.lineEnd(buffer, from: offset)
                        continue
                    }
                } else if ContinuousClock.now - progress >= Self.stalledReader {
                    break
                }
                var length = end - offset
                if isPipe, let room = OutputDescriptor.pipeRoom(descriptor) {
                    if room == 0 {
                        if let failure = OutputDescriptor.waitUntilWritable(descriptor, milliseconds: 100) { return (failure, 0) }
                        continue
                    }
                    length = min(length, room)
                }
                let written = Glibc.write(descriptor, base + offset, length)
                if written >= 0 {
                    offset += written
                    progress = ContinuousClock.now
                    continue
                }
                let code = errno
                switch code {
                case EINTR: continue
                case EAGAIN:
                    if let failure = OutputDescriptor.waitUntilWritable(descriptor, milliseconds: 100) { return (failure, 0) }
                default: return (OutputFailure(errno: code), 0)
                }
            }
            return (nil, Self.lineCount(buffer[offset...]))
        }
    }

    /// Where the line that `offset` is in ends (just past its newline); `offset` itself when
    /// it is at the start of a line.
    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Int {
        if offset == 0 || bytes[offset - 1] == UInt8(ascii: "\n") { return offset }
        var index = offset
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
        return min(index + 1, bytes.count)
    }

    private static func lineCount<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int {
        bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }
}
