import DeviceMaps
import Logging
import ModbusProtocol
import RegisterDecoding
import RequestPlanning
import Synchronization

/// Polls every device behind one endpoint (host:port) over one connection, on one thread.
///
/// Requests are serialised on the endpoint's single connection; polls due together go out
/// back to back. When the connection fails the worker closes it, waits out a ``Backoff``
/// (cycles due meanwhile produce error lines carrying the last error), and reconnects at the
/// first cycle due after the wait, so an endpoint that comes back delivers data within one
/// interval. There is never a second connection to the endpoint: one client, one socket.
final class EndpointWorker: @unchecked Sendable {
    let endpoint: Endpoint
    private let client: any ModbusClient
    private let tasks: [PollTask]
    private let clock: any EngineClock
    private let sink: any SampleSink
    private let logger: Logger
    private let jitter: @Sendable () -> Double
    private let wake = WakeSignal()
    private let stopped = Atomic<Bool>(false)
    private let failures = Atomic<Bool>(false)
    private let emittedLines = Atomic<Int>(0)

    private var backoff: Backoff
    private var nextAttempt: MonotonicInstant?
    private var lastFailure: PointFailure?
    private var state = ConnectionState.neverConnected
    private var downSince: MonotonicInstant?
    private var lastRequestEnd: [String: MonotonicInstant] = [:]
    /// When the cycle being run started; backoff waits count from there, so the first retry
    /// comes at the first cycle one backoff after the failed one, however long the failure took.
    private var cycleStart = MonotonicInstant(nanoseconds: 0)
    private let pauseAfterConnect: Duration

    /// How long a read the device refused (exception 2 or 3) stays refused before it is tried again.
    static let refusedRetryInterval = Duration.seconds(60)
    /// Waits before retrying a read answered with exception 6 (busy), within the cycle.
    static let busyRetryDelays: [Duration] = [.milliseconds(50), .milliseconds(100), .milliseconds(200)]

    private enum ConnectionState {
        case neverConnected, connected, down
    }

    private let captureRegisters: Bool
    private var captured: [RawRead] = []

    init(
        endpoint: Endpoint, client: any ModbusClient, devices: [Device], start: MonotonicInstant,
        limit: Int?, clock: any EngineClock, sink: any SampleSink, logger: Logger,
        jitter: @escaping @Sendable () -> Double, captureRegisters: Bool = false
    ) {
        self.captureRegisters = captureRegisters
        self.endpoint = endpoint
        self.client = client
        self.clock = clock
        self.sink = sink
        self.logger = logger
        self.jitter = jitter
        self.tasks = devices.flatMap { device in
            device.polls.map { PollTask(device: device, poll: $0, start: start, limit: limit) }
        }
        let shortest = devices.flatMap(\.polls).map(\.interval).min() ?? .seconds(1)
        self.backoff = Backoff(interval: shortest)
        self.pauseAfterConnect = devices.map(\.pauseAfterConnect).max() ?? .zero
    }

    /// Whether any cycle had a failure (a point or the whole device).
    var sawFailures: Bool { failures.load(ordering: .relaxed) }

    /// Lines handed to the sink so far.
    var linesEmitted: Int { emittedLines.load(ordering: .relaxed) }

    /// How many polls this worker runs.
    var pollCount: Int { tasks.count }

    /// Asks the worker to stop: wakes its wait and its blocked read at once.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        wake.signal()
        client.interrupt()
    }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// Runs until every poll has produced its lines (with a limit), or until stopped.
    func run() {
        defer { client.close() }
        // Reused from cycle to cycle: a thousand workers each waking every second should not
        // allocate to find out what is due.
        var due: [PollTask] = []
        due.reserveCapacity(tasks.count)
        while !isStopped {
            let now = clock.now()
            var next: MonotonicInstant?
            due.removeAll(keepingCapacity: true)
            for task in tasks where !task.isFinished {
                let nextDue = task.schedule.nextDue
                if nextDue <= now {
                    due.append(task)
                } else if next.map({ nextDue < $0 }) ?? true {
                    next = nextDue
                }
            }
            guard !due.isEmpty else {
                // Every poll has produced its lines.
                guard let next else { return }
                clock.wait(until: next, wake: wake)
                continue
            }
            if due.count > 1 { due.sort { $0.schedule.nextDue < $1.schedule.nextDue } }
            for task in due where !isStopped {
                guard let slot = task.schedule.take(at: clock.now()) else { continue }
                task.pendingMissed += slot.missed
                let deadline = task.poll.interval > .zero ? slot.due + task.poll.interval : clock.now() + task.device.timeout
                let time = clock.wallMilliseconds()
                cycleStart = clock.now()
                captured.removeAll()
                let result = runCycle(task, deadline: deadline)
                if isStopped { return }
                let sample = Sample(layout: task.layout, time: time, missed: task.pendingMissed, result: result, reads: captured)
                if sample.hasFailures { failures.store(true, ordering: .relaxed) }
                task.pendingMissed = 0
                task.emitted += 1
                guard sink.emit(sample) else {
                    stopped.store(true, ordering: .relaxed)
                    return
                }
                emittedLines.add(1, ordering: .relaxed)
            }
        }
    }

    // MARK: One cycle

    private func runCycle(_ task: PollTask, deadline: MonotonicInstant) -> Sample.Result {
        if let failure = ensureConnected() {
            return .unreachable(failure)
        }
        let points = task.poll.points
        var data = [[UInt16]?](repeating: nil, count: points.count)
        var offsets = [Int](repeating: 0, count: points.count)
        var failed = [PointFailure?](repeating: nil, count: points.count)
        var anyAnswer = false
        var lost: PointFailure?
        // Set when the plan changed this cycle (a read split or a refused read answered again).
        var bisected = false

        var index = 0
        while index < task.reads.count {
            if lost != nil || isStopped { break }
            let state = task.reads[index]
            if let refusal = state.refusal, clock.now() < refusal.retryAt {
                let failure = PointFailure(kind: "exception", code: refusal.exception.code, message: refusal.exception.message)
                for point in state.read.points { failed[point] = failure }
                anyAnswer = true
                index += 1
                continue
            }
            let outcome = perform(state.read, for: task, deadline: deadline)
            switch outcome {
            case .values(let values):
                anyAnswer = true
                if state.refusal != nil {
                    logger.info("device '\(task.device.name)' answers \(Self.describe(state.read)) again")
                    task.reads[index].refusal = nil
                    bisected = true
                }
                for point in state.read.points {
                    data[point] = values
                    offsets[point] = points[point].address - state.read.start
                }
                if captureRegisters {
                    captured.append(RawRead(unit: task.device.unit, table: state.read.table, start: state.read.start, values: values))
                }
                index += 1
            case .exception(let error, let code) where (code == .illegalDataAddress || code == .illegalDataValue):
                anyAnswer = true
                if let (left, right) = state.read.bisected() {
                    // Find the points the device refuses: split and try both halves now.
                    bisected = true
                    task.reads.replaceSubrange(index...index, with: [
                        PollTask.ReadState(read: left, refusal: nil), PollTask.ReadState(read: right, refusal: nil),
                    ])
                    continue
                }
                let failure = PointFailure(error)
                for point in state.read.points { failed[point] = failure }
                if state.refusal == nil {
                    let names = state.read.points.map { points[$0].name }.joined(separator: ", ")
                    logger.info("device '\(task.device.name)' refuses \(Self.describe(state.read)) (\(code)); points \(names) report it, retried every \(Self.refusedRetryInterval.text)")
                }
                task.reads[index].refusal = PollTask.Refusal(
                    exception: code, message: error.message, retryAt: clock.now() + Self.refusedRetryInterval)
                index += 1
            case .exception(let error, _):
                anyAnswer = true
                let failure = PointFailure(error)
                for point in state.read.points { failed[point] = failure }
                index += 1
            case .failed(let error):
                lost = PointFailure(error)
                connectionFailed(error)
            }
        }

        if bisected { task.consolidate() }
        if let lost {
            if !anyAnswer { return .unreachable(lost) }
            for index in points.indices where data[index] == nil && failed[index] == nil { failed[index] = lost }
        }
        return .points(decode(points, data: data, offsets: offsets, failed: failed))
    }

    private enum ReadOutcome {
        case values([UInt16])
        case exception(ModbusError, ExceptionCode)
        case failed(ModbusError)
    }

    /// Sends one read, retrying exception 6 (busy) with backoff while the cycle has time.
    private func perform(_ read: PlannedRead, for task: PollTask, deadline: MonotonicInstant) -> ReadOutcome {
        let request: ReadRequest
        do {
            request = try read.request(unit: task.device.unit)
        } catch {
            // The map loader refuses points that do not fit one request, and the planner never
            // builds a read past the limits from points that fit.
            preconditionFailure("planned read \(read.table) \(read.start)+\(read.count) is invalid: \(error)")
        }
        var attempt = 0
        while true {
            pause(before: task.device)
            do {
                let values = try client.read(request, timeout: task.device.timeout)
                lastRequestEnd[task.device.name] = clock.now()
                return .values(values)
            } catch {
                lastRequestEnd[task.device.name] = clock.now()
                guard let code = error.exceptionCode else { return .failed(error) }
                if code == .serverDeviceBusy, attempt < Self.busyRetryDelays.count,
                    clock.now() + Self.busyRetryDelays[attempt] < deadline, !isStopped
                {
                    clock.wait(until: clock.now() + Self.busyRetryDelays[attempt], wake: wake)
                    attempt += 1
                    continue
                }
                return .exception(error, code)
            }
        }
    }

    private func pause(before device: Device) {
        guard device.pauseBetweenRequests > .zero, let last = lastRequestEnd[device.name] else { return }
        let until = last + device.pauseBetweenRequests
        if clock.now() < until { clock.wait(until: until, wake: wake) }
    }

    private func decode(_ points: [Point], data: [[UInt16]?], offsets: [Int], failed: [PointFailure?]) -> [PointOutcome] {
        var outcomes = [PointOutcome]()
        outcomes.reserveCapacity(points.count)
        // By index, not `enumerated()`: copying each `Point` out of the array costs a dozen
        // reference counts per point per cycle.
        for index in points.indices {
            if let failure = failed[index] {
                outcomes.append(.failed(failure))
                continue
            }
            guard let values = data[index] else {
                outcomes.append(.failed(PointFailure(kind: "bad_response", message: "point was not read")))
                continue
            }
            var scaleFactor: Int16?
            if let factorIndex = points[index].scaleFactor {
                switch factorValue(points[factorIndex], data: data[factorIndex], offset: offsets[factorIndex], failed: failed[factorIndex]) {
                case .success(let factor?): scaleFactor = factor
                case .success(nil):
                    outcomes.append(.value(.null))
                    continue
                case .failure(let failure):
                    outcomes.append(.failed(failure))
                    continue
                }
            }
            outcomes.append(Self.decode(points[index], values: values, offset: offsets[index], scaleFactor: scaleFactor))
        }
        return outcomes
    }

    static func decode(_ point: Point, values: [UInt16], offset: Int, scaleFactor: Int16?) -> PointOutcome {
        let count = point.count
        let decoded = values.withUnsafeBufferPointer { buffer in
            point.decoding.decode(UnsafeBufferPointer(rebasing: buffer[offset..<offset + count]), scaleFactor: scaleFactor)
        }
        switch decoded {
        case .value(let value): return .value(value)
        case .invalid(let message): return .failed(.decode(message))
        }
    }

    /// The scale factor a point's value is multiplied by (as a power of ten); `nil` when the
    /// scale-factor point says "not available", so the value is not available either.
    private func factorValue(_ point: Point, data: [UInt16]?, offset: Int, failed: PointFailure?) -> Result<Int16?, PointFailure> {
        if let failed { return .failure(failed) }
        guard let data else { return .failure(PointFailure(kind: "bad_response", message: "scale factor '\(point.name)' was not read")) }
        switch Self.decode(point, values: data, offset: offset, scaleFactor: nil) {
        case .failed(let failure): return .failure(failure)
        case .value(.null): return .success(nil)
        case .value(.int(let raw)) where abs(raw) <= 20: return .success(Int16(raw))
        case .value(.uint(let raw)) where raw <= 20: return .success(Int16(raw))
        case .value(let other):
            return .failure(.decode("scale factor '\(point.name)' is \(other), outside -20...20"))
        }
    }

    // MARK: Connection

    /// Connects when needed and allowed; returns the failure to report when there is no connection.
    private func ensureConnected() -> PointFailure? {
        if client.isConnected { return nil }
        let now = clock.now()
        if let nextAttempt, now < nextAttempt, let lastFailure {
            return lastFailure
        }
        do {
            try client.connect()
        } catch {
            connectionFailed(error)
            return PointFailure(error)
        }
        switch state {
        case .neverConnected:
            logger.info("connected to \(endpoint)")
        case .down:
            let outage = downSince.map { clock.now() - $0 } ?? .zero
            logger.info("reconnected to \(endpoint) after \(outage.text) (\(backoff.failures) failed attempts)")
        case .connected:
            break
        }
        state = .connected
        backoff.succeeded()
        nextAttempt = nil
        lastFailure = nil
        downSince = nil
        if pauseAfterConnect > .zero {
            clock.wait(until: clock.now() + pauseAfterConnect, wake: wake)
        }
        return nil
    }

    private func connectionFailed(_ error: ModbusError) {
        client.close()
        if isStopped { return }
        let wait = backoff.failed(jitter: jitter())
        nextAttempt = cycleStart + wait
        lastFailure = PointFailure(error)
        switch state {
        case .connected:
            logger.warning("lost connection to \(endpoint): \(error.message); reconnecting in \(wait.text)")
            downSince = clock.now()
        case .neverConnected:
            logger.warning("\(error.message); retrying in \(wait.text), backing off up to \(backoff.cap.text)")
            downSince = clock.now()
        case .down:
            logger.debug("still cannot reach \(endpoint): \(error.message); next attempt in \(wait.text)")
        }
        state = .down
    }

    /// `holding 4` or `holding 4-7`.
    static func describe(_ read: PlannedRead) -> String {
        read.count == 1 ? "\(read.table.rawValue) \(read.start)" : "\(read.table.rawValue) \(read.start)-\(read.end - 1)"
    }
}
