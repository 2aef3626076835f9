import Foundation
import Glibc
import JSONLines
import ModbusProtocol
import Testing

/// The stdout writer on a real pipe: whole lines, nothing lost, nothing held back for long,
/// a reader that goes away.
@Suite struct LineWriterTests {
    /// A pipe whose read end is drained by a thread of its own into `received`.
    final class Pipe: @unchecked Sendable {
        let readEnd: Int32
        let writeEnd: Int32
        private let condition = NSCondition()
        private var data: [UInt8] = []
        private var ended = false

        init(drain: Bool = true) {
            var descriptors: [Int32] = [0, 0]
            precondition(pipe(&descriptors) == 0, "pipe(2) failed")
            readEnd = descriptors[0]
            writeEnd = descriptors[1]
            if drain {
                let thread = Thread { [self] in
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                        if count < 0, errno == EINTR { continue }
                        condition.lock()
                        if count <= 0 {
                            ended = true
                        } else {
                            data += buffer[0..<count]
                        }
                        condition.broadcast()
                        condition.unlock()
                        if count <= 0 { return }
                    }
                }
                thread.start()
            }
        }

        /// Waits (at most `timeout`) until `predicate` holds for what has arrived, and returns it.
        func wait(timeout: Duration = .seconds(10), until predicate: ([UInt8]) -> Bool) -> [UInt8] {
            let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
            condition.lock()
            defer { condition.unlock() }
            while !predicate(data), !ended {
                if !condition.wait(until: deadline) { break }
            }
            return data
        }

        func closeWriteEnd() { close(writeEnd) }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func increment() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    static func lines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func aLineReachesTheReaderWithoutWaitingForMore() {
        let pipe = Pipe()
        let writer = LineWriter(descriptor: pipe.writeEnd)
        let started = ContinuousClock.now
        #expect(writer.write(Array("{\"a\":1}\n".utf8)))
        let received = pipe.wait { $0.contains(UInt8(ascii: "\n")) }
        #expect(Self.lines(received) == ["{\"a\":1}"])
        // Coalescing holds a line back for about 20 ms, never until the next one or the end.
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(writer.finish())
        pipe.closeWriteEnd()
    }

    @Test func linesFromManyThreadsArriveWholeAndInTheirOrder() {
        let pipe = Pipe()
        let writer = LineWriter(descriptor: pipe.writeEnd, capacity: 4096)
        let producers = 8
        let perProducer = 2000
        let group = DispatchGroup()
        for producer in 0..<producers {
            group.enter()
            Thread {
                for index in 0..<perProducer {
                    let padding = String(repeating: "x", count: (producer * 31 + index) % 200)
                    writer.write(Array("{\"producer\":\(producer),\"index\":\(index),\"padding\":\"\(padding)\"}\n".utf8))
                }
                group.leave()
            }.start()
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(writer.finish())
        pipe.closeWriteEnd()
        let received = Self.lines(pipe.wait { _ in false })
        #expect(received.count == producers * perProducer)
        var next = [Int](repeating: 0, count: producers)
        for line in received {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let producer = object["producer"] as? Int, let index = object["index"] as? Int
            else {
                Issue.record("a line that is not whole: \(line.prefix(80))")
                return
            }
            #expect(index == next[producer], "producer \(producer)'s lines stay in order")
            next[producer] = index + 1
        }
        #expect(next == [Int](repeating: perProducer, count: producers))
    }

    @Test func finishWritesEverythingQueued() {
        let pipe = Pipe()
        let writer = LineWriter(descriptor: pipe.writeEnd)
        for index in 0..<10_000 { writer.write(Array("\(index)\n".utf8)) }
        #expect(writer.finish())
        #expect(!writer.write(Array("late\n".utf8)), "nothing is taken after finish")
        pipe.closeWriteEnd()
        #expect(Self.lines(pipe.wait { _ in false }) == (0..<10_000).map(String.init))
    }

    @Test func aReaderThatGoesAwayClosesTheWriterOnce() {
        signal(SIGPIPE, SIG_IGN)
        let pipe = Pipe(drain: false)
        close(pipe.readEnd)
        let closings = Counter()
        let writer = LineWriter(descriptor: pipe.writeEnd) { _ in closings.increment() }
        let deadline = ContinuousClock.now + .seconds(10)
        // The writer notices at its first write(2) that fails with EPIPE; until then lines queue.
        while writer.write(Array("{\"a\":1}\n".utf8)), ContinuousClock.now < deadline {}
        #expect(writer.failure == .readerGone)
        #expect(writer.finish())
        #expect(!writer.write(Array("{\"a\":2}\n".utf8)))
        #expect(closings.value == 1)
        pipe.closeWriteEnd()
    }

    @Test func aReaderThatGoesAwayIsNoticedWithoutAnotherLine() {
        signal(SIGPIPE, SIG_IGN)
        let pipe = Pipe(drain: false)
        let noticed = NSCondition()
        let closings = Counter()
        let writer = LineWriter(descriptor: pipe.writeEnd) { _ in
            noticed.lock()
            closings.increment()
            noticed.broadcast()
            noticed.unlock()
        }
        #expect(writer.write(Array("{\"a\":1}\n".utf8)))
        close(pipe.readEnd)
        let started = ContinuousClock.now
        noticed.lock()
        while closings.value == 0, noticed.wait(until: Date().addingTimeInterval(5)) {}
        noticed.unlock()
        #expect(closings.value == 1)
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(writer.failure == .readerGone)
        pipe.closeWriteEnd()
    }

    @Test func aFullDiskIsAWriteErrorNotAReaderThatLeft() throws {
        let full = open("/dev/full", O_WRONLY)
        try #require(full >= 0)
        defer { close(full) }
        let failures = Locked<[OutputFailure]>([])
        let writer = LineWriter(descriptor: full) { failure in failures.withLock { $0.append(failure) } }
        writer.write(Array("{\"a\":1}\n".utf8))
        writer.finish()
        #expect(writer.failure == .failed(errno: ENOSPC))
        #expect(failures.withLock { $0 } == [.failed(errno: ENOSPC)])
        #expect(OutputFailure.failed(errno: ENOSPC).message() == "cannot write to stdout: No space left on device")
    }

    @Test func finishingWithinATimeCompletesTheLineInProgressAndBeginsNoOther() {
        let pipe = Pipe(drain: false)
        let writer = LineWriter(descriptor: pipe.writeEnd, capacity: 1 << 20)
        // Twenty 10 KB lines: three fill the pipe; the rest wait for a reader.
        let line = Array(String(repeating: "x", count: 10_239).utf8) + [UInt8(ascii: "\n")]
        for _ in 0..<20 { writer.write(line) }
        // A slow reader: 4 KiB every 10 ms, about 400 KB/s, so 200 KB would take half a second.
        let received = Locked<[UInt8]>([])
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(pipe.readEnd, $0.baseAddress, $0.count) }
                if count <= 0 { return }
                received.withLock { $0 += buffer[0..<count] }
                usleep(10_000)
            }
        }
        reader.start()
        let complete = writer.finish(within: .milliseconds(100))
        pipe.closeWriteEnd()
        let deadline = ContinuousClock.now + .seconds(10)
        while !reader.isFinished, ContinuousClock.now < deadline { usleep(10_000) }
        let output = received.withLock { $0 }
        #expect(!complete)
        #expect(output.last == UInt8(ascii: "\n"), "the last line is whole")
        #expect(output.count % line.count == 0)
        let written = output.count / line.count
        #expect(written + writer.unwrittenLines == 20)
        #expect(writer.unwrittenLines > 0)
    }
}
