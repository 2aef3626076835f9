import Foundation
import Glibc

/// Writes whole lines to a file descriptor (stdout) from many threads, through a bounded
/// buffer drained by one writer thread.
///
/// - Producers append whole lines only, so the output never interleaves or cuts a line.
/// - The buffer is bounded: when it is full, producers wait. A slow reader therefore slows
///   polling down (the scheduler counts the cycles it could not start as missed) and memory
///   stays flat.
/// - Lines queued together go out in one `write(2)`, so a fast producer costs few system calls.
///   When the writer wakes for a line it first waits ``coalescing`` (20 ms) for the lines
///   behind it, and producers wake it only when it is idle (or the buffer is half full).
///   Waking the writer for every line cost five `futex` calls per line at 16,000 lines a
///   second and held fieldpoll to 0.86 of the C loop's rate (`make bench` row 4); with 1,000
///   devices at 1 s the writer thread took 31 % of the poller's CPU (perf), and the poller's
///   steady CPU per point was about 0.99 µs with a 5 ms window and 0.83-0.87 µs with 20 ms. A line therefore reaches stdout up to about 20 ms after it was queued,
///   far below any poll interval; its `time` is when its cycle started, whenever it is written.
/// - When the reader goes away (`EPIPE`; `SIGPIPE` must be ignored by the process) the writer
///   marks itself closed, every producer's next append returns `false`, and ``onClosed`` runs
///   once.
public final class LineWriter: @unchecked Sendable {
    private let descriptor: Int32
    private let capacity: Int
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var spare: [UInt8] = []
    private var closed = false
    private var finishing = false
    private var writerDone = false
    private var writerIdle = false
    private var producersWaiting = 0
    private let onClosed: @Sendable () -> Void

    /// How long the writer waits, once woken, for more lines to write with the first.
    public static let coalescing = Duration.milliseconds(20)

    /// Creates a writer and starts its thread.
    ///
    /// - Parameters:
    ///   - descriptor: where to write (1 for stdout).
    ///   - capacity: bytes the buffer holds before producers wait.
    ///   - onClosed: called once, on the writer thread, when the reader has gone away.
    public init(descriptor: Int32 = 1, capacity: Int = 256 * 1024, onClosed: @escaping @Sendable () -> Void = {}) {
        self.descriptor = descriptor
        self.capacity = capacity
        self.onClosed = onClosed
        pending.reserveCapacity(capacity)
        spare.reserveCapacity(capacity)
        let thread = Thread { [self] in drain() }
        thread.name = "stdout writer"
        thread.start()
    }

    /// Whether the reader has gone away.
    public var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }

    /// Queues whole lines, waiting while the buffer is full.
    ///
    /// - Returns: `false` when the output is closed (the lines are dropped).
    @discardableResult
    public func write(_ lines: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !closed, !pending.isEmpty, pending.count + lines.count > capacity {
            producersWaiting += 1
            condition.broadcast()
            condition.wait()
            producersWaiting -= 1
        }
        guard !closed, !finishing else { return false }
        pending.append(contentsOf: lines)
        // Wake the writer when it waits for work, or cut its coalescing short once the buffer
        // is half full.
        if writerIdle || pending.count >= capacity / 2 { condition.broadcast() }
        return true
    }

    /// Stops accepting lines and waits up to `timeout` for everything queued to be written.
    ///
    /// - Returns: whether everything was written (or the output was closed) in time.
    @discardableResult
    public func finish(timeout: Duration = .seconds(2)) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        finishing = true
        condition.broadcast()
        while !writerDone {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    private func drain() {
        let coalescing = Double(Self.coalescing.components.seconds) + Double(Self.coalescing.components.attoseconds) / 1e18
        while true {
            condition.lock()
            writerIdle = true
            while pending.isEmpty, !finishing, !closed { condition.wait() }
            writerIdle = false
            if pending.isEmpty || closed {
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

            let ok = writeAll(spare)
            spare.removeAll(keepingCapacity: true)
            if !ok {
                condition.lock()
                closed = true
                pending.removeAll()
                writerDone = true
                condition.broadcast()
                condition.unlock()
                onClosed()
                return
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }
}
