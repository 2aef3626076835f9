import DeviceMaps
import DeviceSimulation
import Logging
import ModbusProtocol
@testable import PollScheduling

/// A clock that only moves when told to: waits return at once with time advanced to their
/// deadline, so cadence and backoff are tested without sleeping.
final class ManualClock: EngineClock, @unchecked Sendable {
    private let state = Locked<Int64>(1_000_000_000)
    /// Wall-clock milliseconds at monotonic zero.
    let wallOrigin: Int64 = 1_795_593_600_000

    func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: state.withLock { $0 }) }

    func wallMilliseconds() -> Int64 { wallOrigin + elapsedMilliseconds }

    func wait(until deadline: MonotonicInstant, wake: WakeSignal) {
        state.withLock { $0 = max($0, deadline.nanoseconds) }
    }

    func advance(_ duration: Duration) {
        state.withLock { $0 += duration.nanoseconds }
    }

    /// Milliseconds since the clock's start.
    var elapsedMilliseconds: Int64 { (state.withLock { $0 } - 1_000_000_000) / 1_000_000 }
}

/// What a scripted client does for one call.
enum Script: Sendable {
    /// Answer from the image after `latency`.
    case answer(latency: Duration)
    /// Fail with this error after `latency`.
    case fail(ModbusError, latency: Duration)
}

/// A ModbusClient answering from a register image, with faults and latencies scripted per
/// call, on a manual clock.
final class ScriptedClient: ModbusClient, @unchecked Sendable {
    private let image: RegisterImage
    private let clock: ManualClock
    private let state = Locked(State())
    /// Decides each read; by default every read is answered from the image at once.
    let readScript: @Sendable (_ call: Int, _ request: ReadRequest) -> Script
    /// Decides each connect; by default every connect succeeds.
    let connectScript: @Sendable (_ attempt: Int) -> ModbusError?
    /// How long each connect takes.
    let connectLatency: Duration

    struct State {
        var connected = false
        var reads: [(time: Int64, request: ReadRequest)] = []
        var connects: [Int64] = []
        var interrupted = false
    }

    init(
        fixture: String, clock: ManualClock,
        readScript: @escaping @Sendable (Int, ReadRequest) -> Script = { _, _ in .answer(latency: .zero) },
        connectScript: @escaping @Sendable (Int) -> ModbusError? = { _ in nil }, connectLatency: Duration = .zero
    ) {
        let loaded = FixtureLoader.parse(fixture, file: "script.json")
        precondition(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)")
        self.image = RegisterImage(fixture: loaded.fixture, elapsedSeconds: { 0 })
        self.clock = clock
        self.readScript = readScript
        self.connectScript = connectScript
        self.connectLatency = connectLatency
    }

    var isConnected: Bool { state.withLock { $0.connected } }
    var reads: [(time: Int64, request: ReadRequest)] { state.withLock { $0.reads } }
    var connects: [Int64] { state.withLock { $0.connects } }

    func connect() throws(ModbusError) {
        let attempt = state.withLock { state -> Int in
            state.connects.append(clock.elapsedMilliseconds)
            return state.connects.count - 1
        }
        clock.advance(connectLatency)
        if let error = connectScript(attempt) { throw error }
        state.withLock { $0.connected = true }
    }

    func read(_ request: ReadRequest, timeout: Duration) throws(ModbusError) -> [UInt16] {
        let call = state.withLock { state -> Int in
            state.reads.append((clock.elapsedMilliseconds, request))
            return state.reads.count - 1
        }
        guard isConnected else { throw ModbusError(.connectionLost, "not connected") }
        switch readScript(call, request) {
        case .answer(let latency):
            clock.advance(latency)
            let reply = image.reply(to: ServerRequest(unit: request.unit, function: request.function, operation: .read(request.table, request.range)))
            switch reply {
            case .values(let values): return values
            case .exception(let code): throw ModbusError(.exception(code), code.message)
            case .written: throw ModbusError(.badResponse, "unexpected")
            }
        case .fail(let error, let latency):
            clock.advance(latency)
            if error.requiresReconnect { close() }
            throw error
        }
    }

    func close() { state.withLock { $0.connected = false } }

    func interrupt() { state.withLock { $0.interrupted = true } }
}

/// Collects samples; can stop accepting after a number of them.
final class CollectingSink: SampleSink, @unchecked Sendable {
    private let state = Locked<[Sample]>([])
    var samples: [Sample] { state.withLock { $0 } }

    func emit(_ sample: Sample) -> Bool {
        state.withLock { $0.append(sample) }
        return true
    }
}

extension Logger {
    /// A logger that drops everything.
    static let silent = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
}

/// Loads a map from text, failing the test on any diagnostic.
func devices(_ yaml: String) -> [Device] {
    let loaded = DeviceMapLoader.parse(yaml, file: "test.yaml")
    precondition(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)")
    return loaded.devices
}

/// A worker for the endpoint of `devices`, on a manual clock, run to completion on this thread.
func runWorker(_ devices: [Device], client: ScriptedClient, clock: ManualClock, count: Int, logger: Logger = .silent) -> [Sample] {
    let sink = CollectingSink()
    let worker = EndpointWorker(
        endpoint: Endpoint(host: devices[0].host, port: devices[0].port), client: client, devices: devices,
        limit: count, clock: clock, sink: sink, logger: logger, jitter: { 1.0 })
    worker.run(from: clock.now())
    return sink.samples
}

extension PointOutcome {
    /// The failure, when the point has no value.
    var failure: PointFailure? {
        if case .failed(let failure) = self { return failure }
        return nil
    }
}

extension Sample {
    /// The outcomes of a sample that reached the device.
    var outcomes: [PointOutcome] {
        if case .points(let outcomes) = result { return outcomes }
        return []
    }

    /// The value of a point by name.
    func value(_ name: String) -> PointOutcome? {
        guard let index = layout.pointNames.firstIndex(of: name) else { return nil }
        return outcomes.indices.contains(index) ? outcomes[index] : nil
    }
}
