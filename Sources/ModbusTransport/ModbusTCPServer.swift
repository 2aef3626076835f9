import CModbus
import Dispatch
import Foundation
import Glibc
import ModbusProtocol

/// A Modbus/TCP server on libmodbus's server API, answering from a ``ModbusRequestHandler``.
///
/// One thread accepts connections (`modbus_tcp_pi_accept`); each connection gets its own
/// thread and `modbus_t`, which receives indications with `modbus_receive` and answers with
/// `modbus_reply` or `modbus_reply_exception`. Requests are parsed and validated in Swift
/// (``ServerRequest/parse(_:)``) before the handler sees them, so libmodbus's own range checks,
/// which sleep for the response timeout and flush, are never reached.
///
/// Connections whose socket number would reach 1024 are refused (libmodbus waits with
/// `select()`, which cannot take them), so one server holds about a thousand clients.
public final class ModbusTCPServer: @unchecked Sendable {
    /// The address the server listens on, with the port the system picked when 0 was asked.
    public let endpoint: Endpoint

    private let listenContext: OpaquePointer
    private let listenDescriptor: Int32
    private let handler: any ModbusRequestHandler
    private let latency: Duration
    private let state = Locked(State())
    private let finished = DispatchGroup()
    private let onConnectionEvent: (@Sendable (String) -> Void)?

    private struct State {
        var clients: Set<Int32> = []
        var stopped = false
        var accepted = 0
    }

    /// Binds and listens; call ``start()`` to begin accepting.
    ///
    /// The corresponding C functions are `modbus_new_tcp_pi` and `modbus_tcp_pi_listen`.
    /// - Parameters:
    ///   - endpoint: host and port to listen on; port 0 picks a free port.
    ///   - latency: a delay before every reply, to imitate slow devices.
    ///   - log: called with a sentence when a client connects or disconnects.
    /// - Throws: ``ModbusError/Kind/connect`` when the address cannot be bound.
    public init(
        listeningOn endpoint: Endpoint, handler: any ModbusRequestHandler,
        latency: Duration = .zero, log: (@Sendable (String) -> Void)? = nil
    ) throws(ModbusError) {
        _ = FileDescriptorLimit.capped
        self.handler = handler
        self.latency = latency
        self.onConnectionEvent = log
        let (made, makeError) = withErrno { modbus_new_tcp_pi(endpoint.host, String(endpoint.port)) }
        guard let made else {
            throw ModbusError(.connect, "cannot listen on \(endpoint): \(SystemError.describe(makeError))", errno: makeError)
        }
        let (descriptor, error) = withErrno { modbus_tcp_pi_listen(made, 128) }
        guard descriptor >= 0 else {
            modbus_free(made)
            let reason = error == ECONNREFUSED ? "cannot resolve \(endpoint.host)" : SystemError.describe(error)
            throw ModbusError(.connect, "cannot listen on \(endpoint): \(reason)", errno: error)
        }
        listenContext = made
        listenDescriptor = descriptor
        self.endpoint = Endpoint(host: endpoint.host, port: Self.boundPort(of: descriptor) ?? endpoint.port)
    }

    deinit {
        stop()
        Glibc.close(listenDescriptor)
        modbus_set_socket(listenContext, -1)
        modbus_free(listenContext)
    }

    /// How many connections have been accepted since the server started.
    public var acceptedConnections: Int { state.withLock { $0.accepted } }

    /// How many connections are open now.
    public var openConnections: Int { state.withLock { $0.clients.count } }

    /// Starts accepting connections on a thread of its own.
    public func start() {
        finished.enter()
        let thread = Thread { [self] in
            acceptLoop()
            finished.leave()
        }
        thread.name = "modbus-server-accept"
        thread.start()
    }

    /// Stops accepting, drops every connection and waits (up to 2 s) for their threads to end.
    public func stop() {
        let clients = state.withLock { state -> Set<Int32> in
            guard !state.stopped else { return [] }
            state.stopped = true
            return state.clients
        }
        _ = shutdown(listenDescriptor, Int32(SHUT_RDWR))
        for client in clients { _ = shutdown(client, Int32(SHUT_RDWR)) }
        _ = finished.wait(timeout: .now() + .seconds(2))
    }

    private func acceptLoop() {
        var listening = listenDescriptor
        while !state.withLock({ $0.stopped }) {
            let (client, error) = withErrno { modbus_tcp_pi_accept(listenContext, &listening) }
            modbus_set_socket(listenContext, -1)
            if client < 0 {
                if state.withLock({ $0.stopped }) { return }
                if error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM {
                    onConnectionEvent?("cannot accept a connection: \(SystemError.describe(error))")
                    usleep(100_000)
                }
                continue
            }
            guard client < Int32(FileDescriptorLimit.selectLimit) else {
                Glibc.close(client)
                continue
            }
            let admitted = state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.clients.insert(client)
                state.accepted += 1
                return true
            }
            guard admitted else {
                Glibc.close(client)
                return
            }
            finished.enter()
            let thread = Thread { [self] in
                serve(client)
                state.withLock { _ = $0.clients.remove(client) }
                finished.leave()
            }
            thread.name = "modbus-server-connection"
            thread.start()
        }
    }

    private func serve(_ descriptor: Int32) {
        guard let context = modbus_new_tcp_pi("127.0.0.1", "0") else {
            Glibc.close(descriptor)
            return
        }
        modbus_set_socket(context, descriptor)
        modbus_set_error_recovery(context, MODBUS_ERROR_RECOVERY_NONE)
        let peer = Self.peerName(of: descriptor)
        onConnectionEvent?("client \(peer) connected")
        var buffer = [UInt8](repeating: 0, count: TCPFrame.maximumLength + 8)
        while true {
            let length = buffer.withUnsafeMutableBufferPointer { modbus_receive(context, $0.baseAddress!) }
            if length < 0 { break }
            if length == 0 { continue }
            if latency > .zero { sleep(for: latency) }
            let frame = Array(buffer[0..<Int(length)])
            let sent: Int32
            switch ServerRequest.parse(frame) {
            case .failure(let exception):
                sent = modbus_reply_exception(context, frame, UInt32(exception.code))
            case .success(let request):
                sent = reply(handler.reply(to: request), to: request, frame: frame, context: context)
            }
            if sent < 0 { break }
        }
        onConnectionEvent?("client \(peer) disconnected")
        modbus_close(context)
        modbus_free(context)
    }

    /// Sends `reply` with libmodbus, through a mapping that holds exactly the addresses requested.
    private func reply(_ reply: ServerReply, to request: ServerRequest, frame: [UInt8], context: OpaquePointer) -> Int32 {
        let values: [UInt16]
        switch reply {
        case .exception(let exception):
            // modbus_reply_exception refuses codes of 12 and above; none is ever produced here.
            return modbus_reply_exception(context, frame, UInt32(exception.code))
        case .values(let read): values = read
        case .written: values = []
        }
        let (table, start, count) = Self.mappingShape(of: request.operation)
        guard let mapping = Self.makeMapping(table: table, start: start, count: count) else { return -1 }
        defer { modbus_mapping_free(mapping) }
        if case .read = request.operation {
            guard values.count == count else {
                return modbus_reply_exception(context, frame, UInt32(ExceptionCode.serverDeviceFailure.code))
            }
            switch table {
            case .coil: for (index, value) in values.enumerated() { mapping.pointee.tab_bits[index] = value == 0 ? 0 : 1 }
            case .discrete: for (index, value) in values.enumerated() { mapping.pointee.tab_input_bits[index] = value == 0 ? 0 : 1 }
            case .holding: for (index, value) in values.enumerated() { mapping.pointee.tab_registers[index] = value }
            case .input: for (index, value) in values.enumerated() { mapping.pointee.tab_input_registers[index] = value }
            }
        }
        return modbus_reply(context, frame, Int32(frame.count), mapping)
    }

    private static func mappingShape(of operation: ServerRequest.Operation) -> (Table, Int, Int) {
        switch operation {
        case .read(let table, let range): (table, Int(range.start), range.count)
        case .writeCoil(let address, _): (.coil, Int(address), 1)
        case .writeRegister(let address, _): (.holding, Int(address), 1)
        case .writeCoils(let start, let values): (.coil, Int(start), values.count)
        case .writeRegisters(let start, let values): (.holding, Int(start), values.count)
        }
    }

    private static func makeMapping(table: Table, start: Int, count: Int) -> UnsafeMutablePointer<modbus_mapping_t>? {
        let start = UInt32(start)
        let count = UInt32(count)
        switch table {
        case .coil: return modbus_mapping_new_start_address(start, count, 0, 0, 0, 0, 0, 0)
        case .discrete: return modbus_mapping_new_start_address(0, 0, start, count, 0, 0, 0, 0)
        case .holding: return modbus_mapping_new_start_address(0, 0, 0, 0, start, count, 0, 0)
        case .input: return modbus_mapping_new_start_address(0, 0, 0, 0, 0, 0, start, count)
        }
    }

    private static func boundPort(of descriptor: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard status == 0 else { return nil }
        return port(of: storage)
    }

    private static func port(of storage: sockaddr_storage) -> Int? {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        default:
            return nil
        }
    }

    private static func peerName(of descriptor: Int32) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(descriptor, $0, &length) }
        }
        guard status == 0 else { return "?" }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let named = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
            }
        }
        let address = named == 0 ? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        let port = port(of: storage).map(String.init) ?? "?"
        return address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    private func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
