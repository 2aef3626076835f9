import DeviceMaps
import Dispatch
import Foundation
import Logging
import ModbusProtocol

/// Runs every poll of every device: one ``EndpointWorker`` thread per endpoint (host:port),
/// each with exactly one connection.
///
/// Blocking libmodbus calls run on these dedicated threads, never on the Swift concurrency
/// pool (four blocked reads there delayed a 100 ms timer by 3 s). Start times are spread
/// evenly across endpoints over the shortest poll interval (at most 1 s) so a thousand devices
/// do not fire in the same millisecond.
public final class PollEngine: @unchecked Sendable {
    /// Makes the client for an endpoint; `connectTimeout` is the longest timeout of its devices.
    public typealias ClientFactory = @Sendable (Endpoint, _ connectTimeout: Duration) throws(ModbusError) -> any ModbusClient

    /// How to run.
    public struct Options: Sendable {
        /// Lines per poll before stopping (`--once` is 1); `nil` runs until stopped.
        public var count: Int?
        /// Whether to spread start times across endpoints.
        public var spreadStarts: Bool
        /// Whether samples carry the raw registers of every read that was answered (`snapshot`).
        public var captureRegisters: Bool

        /// Creates options.
        public init(count: Int? = nil, spreadStarts: Bool = true, captureRegisters: Bool = false) {
            self.count = count
            self.spreadStarts = spreadStarts
            self.captureRegisters = captureRegisters
        }
    }

    private let workers: [EndpointWorker]
    private let finished = DispatchGroup()
    private let logger: Logger
    private let limit: Int?
    private let clock: any EngineClock

    /// Prepares workers (and their clients) for `devices`; nothing is contacted until ``run()``.
    ///
    /// - Throws: the first error a client factory throws.
    public init(
        devices: [Device], options: Options, clientFactory: ClientFactory, sink: any SampleSink,
        clock: any EngineClock = SystemClock(), logger: Logger,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0.8...1.2) }
    ) throws(ModbusError) {
        var byEndpoint: [Endpoint: [Device]] = [:]
        for device in devices {
            byEndpoint[Endpoint(host: device.host, port: device.port), default: []].append(device)
        }
        let endpoints = byEndpoint.keys.sorted()
        let intervals = devices.flatMap(\.polls).map(\.interval)
        let offsets = options.spreadStarts
            ? Self.startOffsets(endpoints: endpoints.count, intervals: intervals)
            : Array(repeating: .zero, count: endpoints.count)
        var workers: [EndpointWorker] = []
        for (position, endpoint) in endpoints.enumerated() {
            let members = byEndpoint[endpoint]!
            let timeout = members.map(\.timeout).max() ?? .seconds(1)
            let client = try clientFactory(endpoint, timeout)
            workers.append(EndpointWorker(
                endpoint: endpoint, client: client, devices: members, startOffset: offsets[position],
                limit: options.count, clock: clock, sink: sink, logger: logger, jitter: jitter,
                captureRegisters: options.captureRegisters))
        }
        self.workers = workers
        self.logger = logger
        self.clock = clock
        self.limit = options.count
    }

    /// When each endpoint's polls first run, relative to the start: spread evenly over the
    /// shortest non-zero poll interval, at most 1 s (all at once when every interval is 0).
    static func startOffsets(endpoints: Int, intervals: [Duration]) -> [Duration] {
        let window = min(intervals.filter { $0 > .zero }.min() ?? .zero, .seconds(1))
        return (0..<endpoints).map { position in
            .nanoseconds(window.nanoseconds * Int64(position) / Int64(max(endpoints, 1)))
        }
    }

    /// Whether any cycle so far had a failure.
    public var sawFailures: Bool { workers.contains { $0.sawFailures } }

    /// Lines (samples) handed to the sink so far, for "how far it got" when interrupted.
    public var linesEmitted: Int { workers.reduce(0) { $0 + $1.linesEmitted } }

    /// The lines a run with a count produces in all; `nil` without a count.
    public var linesExpected: Int? {
        limit.map { count in workers.reduce(0) { $0 + $1.pollCount } * count }
    }

    /// Starts every worker on its own thread and blocks until all have finished (their
    /// count reached) or ``stop()`` was called and they returned.
    ///
    /// Cycle 0 of every poll is due now (plus its endpoint's spread offset), after the plans
    /// are made and the clients created, so a slow start-up never shows as missed cycles.
    public func run() {
        let origin = clock.now()
        for worker in workers {
            finished.enter()
            let thread = Thread { [finished] in
                worker.run(from: origin)
                finished.leave()
            }
            thread.name = "poll \(worker.endpoint)"
            thread.stackSize = 512 * 1024
            thread.start()
        }
        finished.wait()
    }

    /// Asks every worker to stop, waking blocked reads with `shutdown(2)`; safe from any thread.
    public func stop() {
        for worker in workers { worker.stop() }
    }

    /// Waits up to `timeout` for the workers to return after ``stop()``.
    @discardableResult
    public func waitForWorkers(timeout: Duration) -> Bool {
        finished.wait(timeout: .now() + .nanoseconds(Int(timeout.nanoseconds))) == .success
    }
}
