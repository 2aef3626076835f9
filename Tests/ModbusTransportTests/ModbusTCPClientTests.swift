import DeviceSimulation
import Foundation
import Glibc
import ModbusProtocol
import ModbusTransport
import Testing
import TestSupport

/// The libmodbus client against real servers on 127.0.0.1 and ports the OS picks: the
/// in-process simulator (libmodbus's server API) and the fault server (raw sockets).
@Suite struct ModbusTCPClientTests {
    static let fixture = """
        {"units": {
          "1": {
            "holding": {"0": [715, 65535, 17096, 0], "200": [18501, 12345]},
            "input": {"100": [16968, 0], "1000": [\(Array(0..<125).map(String.init).joined(separator: ","))]},
            "coil": {"12": [1, 0, 1], "5000": [\(Array(repeating: "1,0", count: 1000).joined(separator: ","))]},
            "discrete": {"0": [0, 1]}
          },
          "7": {"holding": {"65535": [4242]}}
        }}
        """

    let unit = UnitID(rawValue: 1)

    func client(_ port: Int, timeout: Duration = .seconds(1)) throws -> ModbusTCPClient {
        let client = try ModbusTCPClient(endpoint: Endpoint(host: "127.0.0.1", port: port), connectTimeout: timeout)
        try client.connect()
        return client
    }

    @Test func readsEveryTable() throws {
        let simulator = try InProcessSimulator(fixtureText: Self.fixture)
        let client = try client(simulator.endpoint.port)
        #expect(try client.read(ReadRequest(unit: unit, table: .holding, start: 0, count: 4), timeout: .seconds(1)) == [715, 65535, 17096, 0])
        #expect(try client.read(ReadRequest(unit: unit, table: .input, start: 100, count: 2), timeout: .seconds(1)) == [16968, 0])
        #expect(try client.read(ReadRequest(unit: unit, table: .coil, start: 12, count: 3), timeout: .seconds(1)) == [1, 0, 1])
        #expect(try client.read(ReadRequest(unit: unit, table: .discrete, start: 0, count: 2), timeout: .seconds(1)) == [0, 1])
        #expect(try client.read(ReadRequest(unit: UnitID(rawValue: 7), table: .holding, start: 65535, count: 1), timeout: .seconds(1)) == [4242])
    }

    @Test func readsTheLargestRequestsTheProtocolAllows() throws {
        let simulator = try InProcessSimulator(fixtureText: Self.fixture)
        let client = try client(simulator.endpoint.port)
        #expect(try client.read(ReadRequest(unit: unit, table: .input, start: 1000, count: 125), timeout: .seconds(1)) == (0..<125).map(UInt16.init))
        let bits = try client.read(ReadRequest(unit: unit, table: .coil, start: 5000, count: 2000), timeout: .seconds(1))
        #expect(bits == Array(repeating: [UInt16(1), 0], count: 1000).flatMap { $0 })
    }

    @Test func refusesRequestsOverTheLimitsBeforeTheWire() throws {
        let server = try FaultServer(handler: RegisterImage(fixture: Fixture(), elapsedSeconds: { 0 }))
        _ = try client(server.port)
        #expect(throws: ReadRequest.Invalid.count(126, table: .holding)) { _ = try ReadRequest(unit: unit, table: .holding, start: 0, count: 126) }
        #expect(throws: ReadRequest.Invalid.count(2001, table: .coil)) { _ = try ReadRequest(unit: unit, table: .coil, start: 0, count: 2001) }
        #expect(throws: ReadRequest.Invalid.range(start: 65535, count: 2)) { _ = try ReadRequest(unit: unit, table: .input, start: 65535, count: 2) }
        #expect(throws: ReadRequest.Invalid.count(0, table: .input)) { _ = try ReadRequest(unit: unit, table: .input, start: 0, count: 0) }
        #expect(server.requests == 0)
    }

    @Test func surfacesExceptionsWithTheirNumberAndKeepsTheConnection() throws {
        let simulator = try InProcessSimulator(fixtureText: Self.fixture)
        let client = try client(simulator.endpoint.port)
        let hole = modbusError { try client.read(ReadRequest(unit: unit, table: .holding, start: 3, count: 2), timeout: .seconds(1)) }
        #expect(hole?.kind == .exception(.illegalDataAddress))
        #expect(hole?.exceptionCode?.code == 2)
        let unknownUnit = modbusError { try client.read(ReadRequest(unit: UnitID(rawValue: 9), table: .holding, start: 0, count: 1), timeout: .seconds(1)) }
        #expect(unknownUnit?.exceptionCode?.code == 11)
        #expect(client.isConnected)
        #expect(try client.read(ReadRequest(unit: unit, table: .holding, start: 0, count: 1), timeout: .seconds(1)) == [715])
        #expect(simulator.server.acceptedConnections == 1)
    }

    @Test(arguments: [UInt8(1), 3, 4, 6, 10, 0x55])
    func surfacesEveryExceptionCode(code: UInt8) throws {
        let server = try FaultServer(handler: RegisterImage(fixture: Fixture(), elapsedSeconds: { 0 }))
        server.fault = .exception(code)
        let client = try client(server.port)
        let error = modbusError { try client.read(ReadRequest(unit: unit, table: .input, start: 0, count: 1), timeout: .seconds(1)) }
        #expect(error?.kind == .exception(ExceptionCode(code: code)))
        #expect(client.isConnected)
    }

    @Test func timesOutAgainstAServerThatNeverAnswers() throws {
        let server = try FaultServer(handler: RegisterImage(fixture: Fixture(), elapsedSeconds: { 0 }))
        server.fault = .silent
        let client = try client(server.port)
        let started = ContinuousClock.now
        let error = modbusError { try client.read(ReadRequest(unit: unit, table: .holding, start: 0, count: 1), timeout: .milliseconds(300)) }
        #expect(error?.kind == .timeout)
        #expect(error?.message == "no response from 127.0.0.1:\(server.port) unit 1 within 300ms")
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(290))
        #expect(!client.isConnected, "the stream is out of step after a timeout: the client must close it")
    }

    @Test func aDrippingPeerCannotStretchAReadPastItsTimeout() throws {
        let simulator = try InProcessSimulator(fixtureText: Self.fixture)
        let server = try FaultServer(handler: RegisterImage(fixture: FixtureLoader.parse(Self.fixture, file: "x").fixture, elapsedSeconds: { 0 }))
        _ = simulator
        server.fault = .drip(.milliseconds(100))
        let client = try client(server.port)
        let started = ContinuousClock.now
        #expect(throws: ModbusError.self) {
            _ = try client.read(ReadRequest(unit: unit, table: .holding, start: 0, count: 4), timeout: .milliseconds(500))
        }
        #expect(ContinuousClock.now - started < .milliseconds(900))
    }

    @Test func reconnectsAfterTheServerClosesTheConnection() throws {
        let server = try FaultServer(handler: RegisterImage(fixture: FixtureLoader.parse(Self.fixture, file: "x").fixture, elapsedSeconds: { 0 }))
        server.closeAfter(requests: 1)
        let client = try client(server.port)
        let request = try ReadRequest(unit: unit, table: .holding, start: 0, count: 1)
        #expect(try client.read(request, timeout: .seconds(1)) == [715])
        #expect(modbusError { try client.read(request, timeout: .seconds(1)) }?.kind == .connectionLost)
        #expect(!client.isConnected)
        try client.connect()
        #expect(try client.read(request, timeout: .seconds(1)) == [715])
        #expect(server.acceptedConnections == 2)
        #expect(server.peakConnections == 1, "never more than one socket per client")
    }

    @Test func reportsARefusedConnectionAsAConnectError() throws {
        let server = try FaultServer(handler: RegisterImage(fixture: Fixture(), elapsedSeconds: { 0 }))
        let port = server.port
        server.stop()
        let client = try ModbusTCPClient(endpoint: Endpoint(host: "127.0.0.1", port: port))
        let error = modbusError { try client.connect() }
        #expect(error?.kind == .connect)
        #expect(error?.message == "cannot connect to 127.0.0.1:\(port): connection refused")
    }

    @Test func reportsAnUnknownHostAsAConnectError() throws {
        let client = try ModbusTCPClient(endpoint: Endpoint(host: "no-such-host.invalid", port: 502))
        let error = modbusError { try client.connect() }
        #expect(error?.kind == .connect)
        #expect(error?.message == "cannot resolve host no-such-host.invalid")
    }

    @Test func connectsOverIPv6Loopback() throws {
        let server = try ModbusTCPServer(
            listeningOn: Endpoint(host: "::1", port: 0),
            handler: RegisterImage(fixture: FixtureLoader.parse(Self.fixture, file: "x").fixture, elapsedSeconds: { 0 }))
        server.start()
        defer { server.stop() }
        let client = try ModbusTCPClient(endpoint: Endpoint(host: "::1", port: server.endpoint.port))
        try client.connect()
        #expect(try client.read(ReadRequest(unit: unit, table: .holding, start: 200, count: 2), timeout: .seconds(1)) == [18501, 12345])
    }

    @Test func interruptWakesABlockedReadAtOnce() throws {
        let server = try FaultServer(handler: RegisterImage(fixture: Fixture(), elapsedSeconds: { 0 }))
        server.fault = .silent
        let client = try client(server.port)
        let started = ContinuousClock.now
        let interrupter = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            client.interrupt()
        }
        interrupter.start()
        #expect(throws: ModbusError.self) {
            _ = try client.read(ReadRequest(unit: unit, table: .holding, start: 0, count: 1), timeout: .seconds(10))
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(throws: ModbusError.self) { try client.connect() }
    }
}

@Suite struct ConnectTimeoutTests {
    @Test func aConnectThatHangsEndsAtTheConnectTimeout() throws {
        let backlog = try FullBacklog()
        let client = try ModbusTCPClient(endpoint: Endpoint(host: "127.0.0.1", port: backlog.port), connectTimeout: .milliseconds(400))
        let started = ContinuousClock.now
        let error = modbusError { try client.connect() }
        let elapsed = ContinuousClock.now - started
        #expect(error?.kind == .connect)
        #expect(error?.message == "no connection to 127.0.0.1:\(backlog.port) within 400ms")
        #expect(elapsed >= .milliseconds(380))
        #expect(elapsed < .seconds(3))
    }

    @Test func setsKeepaliveAndUserTimeoutSoADeadLinkBecomesAnError() throws {
        let simulator = try InProcessSimulator(fixtureText: #"{"units": {"1": {"holding": {"0": [1]}}}}"#)
        let client = try ModbusTCPClient(endpoint: simulator.endpoint)
        try client.connect()
        let options = try #require(client.socketOptions())
        #expect(options.keepalive == 1)
        #expect(options.noDelay == 1)
        #expect(options.userTimeout == ModbusTCPClient.Keepalive.userTimeoutMilliseconds)
        #expect(options.keepIdle == ModbusTCPClient.Keepalive.idleSeconds)
    }
}
