import DeviceMaps
import DeviceSimulation
import Foundation
import Logging
import ModbusProtocol
import ModbusTransport
import RegisterDecoding
import Testing
import TestSupport
@testable import PollScheduling

/// The real engine and libmodbus client against a device that misbehaves in every way the
/// fault server knows, next to a good device on another endpoint. For each fault: the poller
/// stays up, reports the right kind of error in time, never emits a wrong value, reconnects,
/// and delivers good data again once the fault stops; the good device is never disturbed.
/// Descriptors are counted per endpoint through /proc (other suites open their own in
/// parallel): one socket per endpoint while running, none after the engine stops. The soak
/// (`make soak`) checks the poller process's whole descriptor count.
@Suite(.serialized) struct MisbehavingDeviceTests {
    /// Registers 0-9 hold 1000-1009 on unit 1.
    static let image = #"{"units": {"1": {"holding": {"0": [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]}}}}"#
    static let expected: [String: Value] = Dictionary(uniqueKeysWithValues: (0..<10).map { ("r\($0)", .uint(1000 + UInt64($0))) })

    static func map(name: String, port: Int, timeout: String) -> String {
        """
        device: {name: \(name), host: 127.0.0.1, port: \(port), timeout: \(timeout)}
        polls:
          - name: p
            interval: 100ms
            points:
        \((0..<10).map { "      - {name: r\($0), table: holding, address: \($0), type: uint16}" }.joined(separator: "\n"))
        """
    }

    /// Samples as they arrive, with the wall time each was emitted, and a way to wait for one.
    final class Recorder: SampleSink, @unchecked Sendable {
        private let condition = NSCondition()
        private var received: [(sample: Sample, emitted: Int64)] = []
        private let clock = SystemClock()

        func emit(_ sample: Sample) -> Bool {
            condition.lock()
            received.append((sample, clock.wallMilliseconds()))
            condition.broadcast()
            condition.unlock()
            return true
        }

        var samples: [(sample: Sample, emitted: Int64)] {
            condition.lock()
            defer { condition.unlock() }
            return received
        }

        /// Waits until a sample after `index` satisfies `predicate`; returns its index.
        func waitFor(after index: Int = -1, timeout: Duration, _ predicate: (Sample) -> Bool) -> Int? {
            let deadline = Date().addingTimeInterval(timeout.seconds)
            condition.lock()
            defer { condition.unlock() }
            while true {
                if let found = received.indices.first(where: { $0 > index && predicate(received[$0].sample) }) { return found }
                if !condition.wait(until: deadline) { return nil }
            }
        }
    }

    static func isData(_ sample: Sample, device: String) -> Bool {
        guard sample.layout.device == device, case .points(let outcomes) = sample.result else { return false }
        return outcomes.allSatisfy { if case .value = $0 { true } else { false } }
    }

    /// Runs a faulty and a good device until the fault has shown and data has come back.
    func exercise(_ fault: FaultServer.Fault, expecting kinds: Set<String>, timeout: String = "500ms", alsoDuringFault: (FaultServer) -> Void = { _ in }) throws {
        let fixture = FixtureLoader.parse(Self.image, file: "image.json").fixture
        let faulty = try FaultServer(handler: RegisterImage(fixture: fixture, elapsedSeconds: { 0 }))
        let good = try FaultServer(handler: RegisterImage(fixture: fixture, elapsedSeconds: { 0 }))
        let devices = DeviceMapLoader.parse(Self.map(name: "faulty", port: faulty.port, timeout: timeout), file: "f.yaml").devices
            + DeviceMapLoader.parse(Self.map(name: "good", port: good.port, timeout: "500ms"), file: "g.yaml").devices
        let recorder = Recorder()
        let engine = try PollEngine(
            devices: devices, options: .init(count: nil, spreadStarts: false),
            clientFactory: { endpoint, timeout throws(ModbusError) in try ModbusTCPClient(endpoint: endpoint, connectTimeout: timeout) },
            sink: recorder, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let runner = Thread { engine.run() }
        runner.start()
        defer {
            engine.stop()
            _ = engine.waitForWorkers(timeout: .seconds(5))
        }
        // Healthy first, then the fault, then healthy again.
        let healthy = recorder.waitFor(timeout: .seconds(10)) { Self.isData($0, device: "faulty") }
        #expect(healthy != nil, "\(fault): no data before the fault")
        faulty.fault = fault
        alsoDuringFault(faulty)
        let failed = recorder.waitFor(after: healthy ?? -1, timeout: .seconds(15)) { sample in
            sample.layout.device == "faulty" && sample.hasFailures
        }
        #expect(failed != nil, "\(fault): the fault never showed")
        faulty.fault = .none
        faulty.refuseConnections(false)
        faulty.closeAfter(requests: nil)
        let recovered = recorder.waitFor(after: failed ?? -1, timeout: .seconds(15)) { Self.isData($0, device: "faulty") }
        #expect(recovered != nil, "\(fault): no data after the fault stopped")
        let held = (OpenSockets.connected(toPort: faulty.port), OpenSockets.connected(toPort: good.port))
        #expect(held.0 <= 1 && held.1 == 1, "one socket per endpoint: \(held)")
        engine.stop()
        #expect(engine.waitForWorkers(timeout: .seconds(5)))
        #expect(OpenSockets.connected(toPort: faulty.port) == 0 && OpenSockets.connected(toPort: good.port) == 0, "every socket closed")

        let samples = recorder.samples
        var seenKinds: Set<String> = []
        for (sample, emitted) in samples {
            switch sample.result {
            case .unreachable(let failure):
                seenKinds.insert(failure.kind)
                #expect(sample.layout.device == "faulty", "the good device never fails: \(failure)")
                if failure.kind == "timeout" {
                    #expect(emitted - sample.time <= 500 + 400, "a timeout is reported within the response timeout plus a margin")
                }
            case .points(let outcomes):
                for (index, outcome) in outcomes.enumerated() {
                    let name = sample.layout.pointNames[index]
                    switch outcome {
                    case .value(let value):
                        #expect(value == Self.expected[name], "\(fault): \(sample.layout.device).\(name) = \(value) is not the device's value")
                    case .failed(let failure):
                        seenKinds.insert(failure.kind)
                        #expect(sample.layout.device == "faulty")
                    }
                }
            }
        }
        #expect(!seenKinds.isEmpty && seenKinds.isSubset(of: kinds), "\(fault): kinds \(seenKinds), expected \(kinds)")
        let goodLines = samples.filter { $0.sample.layout.device == "good" }
        #expect(goodLines.allSatisfy { $0.sample.missed == 0 }, "the good device keeps its cadence")
        #expect(Set(faulty.functionCodes).isSubset(of: [1, 2, 3, 4]) && Set(good.functionCodes).isSubset(of: [1, 2, 3, 4]), "only reads are ever sent")
        #expect(faulty.peakConnections <= 1, "never two connections to one endpoint")
        #expect(good.peakConnections == 1)
        faulty.stop()
        good.stop()
    }

    @Test func neverAnswering() throws { try exercise(.silent, expecting: ["timeout"]) }
    @Test func drippingOneBytePer100ms() throws { try exercise(.drip(.milliseconds(100)), expecting: ["timeout"]) }
    @Test func garbage() throws { try exercise(.garbage, expecting: ["bad_response", "timeout"]) }
    @Test func aShortFrame() throws { try exercise(.shortFrame, expecting: ["timeout"]) }
    @Test func theWrongTransactionID() throws { try exercise(.wrongTransaction, expecting: ["bad_response"]) }
    @Test func theWrongUnitID() throws { try exercise(.wrongUnit, expecting: ["bad_response"]) }
    @Test func theWrongFunctionCode() throws { try exercise(.wrongFunction, expecting: ["bad_response"]) }
    @Test func theWrongProtocolID() throws { try exercise(.wrongProtocol, expecting: ["bad_response"]) }
    @Test func aByteCountThatDisagreesWithTheRequest() throws { try exercise(.wrongByteCount, expecting: ["bad_response"]) }
    @Test func anMBAPLengthThatSaysMore() throws { try exercise(.lyingLength(3), expecting: ["bad_response"]) }
    @Test func anMBAPLengthThatSaysLess() throws { try exercise(.lyingLength(-2), expecting: ["bad_response"]) }
    @Test func anOversizeFrame() throws { try exercise(.oversize, expecting: ["bad_response"]) }
    @Test func aDuplicateReply() throws { try exercise(.duplicate, expecting: ["bad_response"]) }
    @Test func aResetInTheMiddleOfAFrame() throws { try exercise(.resetMidFrame, expecting: ["connection_lost"]) }
    @Test func closingWithoutAnswering() throws { try exercise(.close, expecting: ["connection_lost"]) }
    @Test func exception4() throws { try exercise(.exception(4), expecting: ["exception"]) }
    @Test func exception11() throws { try exercise(.exception(11), expecting: ["exception"]) }

    @Test func closingAfterEveryThreeRequests() throws {
        try exercise(.none, expecting: ["connection_lost"]) { $0.closeAfter(requests: 3) }
    }

    @Test func refusingConnections() throws {
        // Refusing starts with the fault: the open connection is closed by a silent fault's
        // timeout, and every reconnect is closed at once (the kernel completes the handshake,
        // the server drops it: the first read finds the connection lost) until the fault stops.
        try exercise(.silent, expecting: ["timeout", "connect", "connection_lost"]) { $0.refuseConnections(true) }
    }

    @Test func holdingOneConnectionSlotTakenByAnotherClient() throws {
        let fixture = FixtureLoader.parse(Self.image, file: "image.json").fixture
        let server = try FaultServer(handler: RegisterImage(fixture: fixture, elapsedSeconds: { 0 }))
        server.limitConnections(to: 1, policy: .refuseNew)
        // The operators' HMI holds the only slot.
        let hmi = try ModbusTCPClient(endpoint: Endpoint(host: "127.0.0.1", port: server.port))
        try hmi.connect()
        #expect(server.waitForConnections(1, timeout: .seconds(5)))
        let devices = DeviceMapLoader.parse(Self.map(name: "plc", port: server.port, timeout: "300ms"), file: "f.yaml").devices
        let recorder = Recorder()
        let engine = try PollEngine(
            devices: devices, options: .init(count: 4, spreadStarts: false),
            clientFactory: { endpoint, timeout throws(ModbusError) in try ModbusTCPClient(endpoint: endpoint, connectTimeout: timeout) },
            sink: recorder, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        engine.run()
        #expect(server.peakConnections == 1, "the HMI keeps its slot: fieldpoll never holds a second connection")
        #expect(recorder.samples.allSatisfy { $0.sample.hasFailures })
        #expect(try hmi.read(ReadRequest(unit: UnitID(rawValue: 1), table: .holding, start: 0, count: 1), timeout: .seconds(1)) == [1000])
    }
}
