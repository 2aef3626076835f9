import DeviceMaps
import Logging
import ModbusProtocol
import RegisterDecoding
import RequestPlanning
import Synchronization

/// Polls every device behind one endpoint (host:port) over one connection, on one thread.
///
/// The loop finds the polls due, runs them back to back as one round on the endpoint's single
/// connection (``EndpointConnection`` decides when to connect and how long to back off), and
/// hands each cycle's sample to the sink. Each poll's reads follow its ``AdaptiveReadPlan``;
/// ``OutcomeDecoder`` turns what was read into values. There is never a second connection to
/// the endpoint: one client, one socket.
final class EndpointWorker: @unchecked Sendable {
    let endpoint: Endpoint
    private let client: any ModbusClient
    private let tasks: [PollTask]
    private let clock: any EngineClock
    private let sink: any SampleSink
    private let logger: Logger
    private let wake = WakeSignal()
    private let stopped = Atomic<Bool>(false)
    private let failures = Atomic<Bool>(false)
    private let emittedLines = Atomic<Int>(0)
    private let connection: EndpointConnection
    private let startOffset: Duration
    private let limit: Int?
    private var lastRequestEnd: [String: MonotonicInstant] = [:]

    /// Waits before retrying a read answered with exception 6 (busy), within the cycle.
    static let busyRetryDelays: [Duration] = [.milliseconds(50), .milliseconds(100), .milliseconds(200)]

    private let captureRegisters: Bool
    private var captured: [RawRead] = []

    /// Creates the worker; its polls start `startOffset` after the engine's start (``run(from:)``).
    init(
        endpoint: Endpoint, client: any ModbusClient, devices: [Device], startOffset: Duration = .zero,
        limit: Int?, clock: any EngineClock, sink: any SampleSink, logger: Logger,
        jitter: @escaping @Sendable () -> Double, captureRegisters: Bool = false
    ) {
        self.captureRegisters = captureRegisters
        self.endpoint = endpoint
        self.client = client
        self.clock = clock
        self.sink = sink
        self.logger = logger
        self.startOffset = startOffset
        self.limit = limit
        self.tasks = devices.flatMap { device in
            device.polls.map { PollTask(device: device, poll: $0, limit: limit) }
        }
        connection = EndpointConnection(
            endpoint: endpoint, client: client, shortestInterval: devices.flatMap(\.polls).map(\.interval).min() ?? .seconds(1),
            pauseAfterConnect: devices.map(\.pauseAfterConnect).max() ?? .zero, clock: clock, logger: logger, jitter: jitter,
            wake: wake)
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

    /// Runs until every poll has produced its lines (with a limit), or until stopped; cycle 0
    /// of each poll is due at `origin` plus this worker's start offset.
    func run(from origin: MonotonicInstant) {
        defer { connection.close() }
        for task in tasks { task.begin(at: origin + startOffset) }
        // Reused from round to round: a thousand workers each waking every second should not
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
            connection.beginRound(final: isFinalRound(due))
            for task in due where !isStopped {
                guard let slot = task.schedule.take(at: clock.now()) else { continue }
                task.pendingMissed += slot.missed
                let deadline = task.poll.interval > .zero ? slot.due + task.poll.interval : clock.now() + task.device.timeout
                let time = clock.wallMilliseconds()
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

    /// Whether no round follows this one: with a limit, every poll is finished after it.
    private func isFinalRound(_ due: [PollTask]) -> Bool {
        guard let limit else { return false }
        return tasks.allSatisfy { task in
            task.emitted + (due.contains { $0 === task } ? 1 : 0) >= limit
        }
    }

    // MARK: One cycle

    private func runCycle(_ task: PollTask, deadline: MonotonicInstant) -> Sample.Result {
        if let failure = connection.ensureConnected(stopped: { isStopped }) {
            return .unreachable(failure)
        }
        let points = task.poll.points
        var data = [[UInt16]?](repeating: nil, count: points.count)
        var offsets = [Int](repeating: 0, count: points.count)
        var failed = [PointFailure?](repeating: nil, count: points.count)
        var anyAnswer = false
        var lost: PointFailure?
        var changes: [AdaptiveReadPlan.Change] = []
        var planChanged = false
        var probesLeft = task.plan.probesPerCycle
        // Retries are due, and scheduled, by the cycle's start, so a retry due "after one
        // interval" comes at the next cycle however long this one's reads take.
        let cycleStart = clock.now()

        var index = 0
        while index < task.plan.entries.count {
            if lost != nil || isStopped { break }
            let read = task.plan.entries[index].read
            switch task.plan.step(at: index, now: cycleStart, probesLeft: probesLeft) {
            case .report(let refusal, let probed):
                let message = probed ? refusal.message : "\(refusal.message) for a read spanning this point, which is read on its own in a later cycle"
                let failure = PointFailure(kind: "exception", code: refusal.exception.code, message: message)
                for point in read.points { failed[point] = failure }
                index += 1
                continue
            case .send(let probe):
                if probe { probesLeft -= 1 }
            }
            switch perform(read, for: task, deadline: deadline) {
            case .values(let values):
                anyAnswer = true
                connection.answered()
                if let change = task.plan.answered(at: index) {
                    changes.append(change)
                    planChanged = true
                }
                if case .unprobed = task.plan.entries[index].status { planChanged = true }
                for point in read.points {
                    data[point] = values
                    offsets[point] = points[point].address - read.start
                }
                if captureRegisters {
                    captured.append(RawRead(unit: task.device.unit, table: read.table, start: read.start, values: values))
                }
                index += 1
            case .exception(let error, let code) where code == .illegalDataAddress || code == .illegalDataValue:
                anyAnswer = true
                connection.answered()
                planChanged = true
                let refusal = AdaptiveReadPlan.Refusal(exception: code, message: PointFailure(error).message)
                let (split, change) = task.plan.refused(at: index, refusal, now: cycleStart)
                if let change { changes.append(change) }
                // A split read's halves are probed next, at this same index, while probes last.
                if split { continue }
                let failure = PointFailure(error)
                for point in read.points { failed[point] = failure }
                index += 1
            case .exception(let error, _):
                anyAnswer = true
                connection.answered()
                let failure = PointFailure(error)
                for point in read.points { failed[point] = failure }
                index += 1
            case .failed(let error):
                lost = PointFailure(error)
                connection.failed(error, stopped: isStopped)
            }
        }

        if planChanged { task.plan.consolidate() }
        if !changes.isEmpty || planChanged { logPlanChanges(changes, of: task) }
        if let lost {
            if !anyAnswer { return .unreachable(lost) }
            for index in points.indices where data[index] == nil && failed[index] == nil { failed[index] = lost }
        }
        if isStopped {
            for index in points.indices where data[index] == nil && failed[index] == nil {
                failed[index] = PointFailure(kind: "connection_lost", message: "stopped before this point was read")
            }
        }
        return .points(OutcomeDecoder.outcomes(points, data: data, offsets: offsets, failed: failed))
    }

    /// One line per poll and cycle in which its plan changed: what the device refuses, what it
    /// answers again, and how much probing is left for the next cycles.
    private func logPlanChanges(_ changes: [AdaptiveReadPlan.Change], of task: PollTask) {
        var refused: [(PlannedRead, AdaptiveReadPlan.Refusal)] = []
        var answered: [PlannedRead] = []
        for change in changes {
            switch change {
            case .refused(let read, let refusal): refused.append((read, refusal))
            case .answeredAgain(let read): answered.append(read)
            }
        }
        let unprobed = task.plan.unprobedCount
        var parts: [String] = []
        if let first = refused.first {
            let ranges = Self.list(refused.map { Self.describe($0.0) }, limit: 5)
            let names = Self.list(refused.flatMap { $0.0.points.map { task.poll.points[$0].name } }, limit: 8)
            let pointCount = refused.reduce(0) { $0 + $1.0.points.count }
            parts.append(
                "refuses \(ranges) (exception \(first.1.exception.code), \(first.1.message)); "
                    + "\(pointCount == 1 ? "point" : "points") \(names) report it, tried again after \(task.plan.firstRetryWait.text), "
                    + "then twice as long each time up to \(AdaptiveReadPlan.longestRetryWait.text)")
        }
        if !answered.isEmpty {
            parts.append("answers \(Self.list(answered.map(Self.describe), limit: 5)) again")
        }
        if unprobed > 0 {
            parts.append("\(unprobed) \(unprobed == 1 ? "part" : "parts") of refused reads still to probe, at most \(task.plan.probesPerCycle) \(task.plan.probesPerCycle == 1 ? "request" : "requests") per cycle")
        }
        guard !parts.isEmpty else { return }
        logger.info("device '\(task.device.name)' poll '\(task.poll.name)' \(parts.joined(separator: "; "))")
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

    /// `holding 4` or `holding 4-7`.
    static func describe(_ read: PlannedRead) -> String {
        read.count == 1 ? "\(read.table.rawValue) \(read.start)" : "\(read.table.rawValue) \(read.start)-\(read.end - 1)"
    }

    /// `a, b and c`, or `a, b, c and 7 more` beyond `limit` items.
    static func list(_ items: [String], limit: Int) -> String {
        let shown = items.count > limit ? Array(items.prefix(limit)) + ["\(items.count - limit) more"] : items
        guard shown.count > 1 else { return shown.first ?? "" }
        return shown.dropLast().joined(separator: ", ") + " and " + shown[shown.count - 1]
    }
}
