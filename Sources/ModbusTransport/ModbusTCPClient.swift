import CModbus
import Glibc
import ModbusProtocol

/// A Modbus/TCP client for one endpoint, over libmodbus: reads function codes 1-4 only.
///
/// The client owns one `modbus_t` (from `modbus_new_tcp_pi`, so host names and IPv6 work) and
/// at most one socket. It sends its own request frames (`send`) and reads replies with
/// `modbus_receive_confirmation`, then checks each reply field by field in
/// ``TCPFrame/decodeReadReply(_:for:transactionID:)``: libmodbus 3.1.6 alone accepts replies
/// with a wrong unit id, protocol id 1, or a lying MBAP length.
///
/// Discipline (measured on libmodbus 3.1.6):
/// - the response timeout is set before `modbus_connect`, where it is the connect timeout, and
///   the byte timeout is disabled, so a peer dripping bytes cannot stretch a read past it;
/// - after any error that is not a Modbus exception the client closes its socket itself: the
///   stream is out of step for good, and the owner reconnects (with backoff) before the next read;
/// - `modbus_close` always runs before reconnecting or freeing (3.1.6 leaks the socket otherwise);
/// - socket numbers stay below 1024 (see `FileDescriptorLimit`);
/// - `MODBUS_ERROR_RECOVERY_LINK` and `modbus_set_debug` are never enabled.
///
/// One thread drives a client; ``interrupt()`` may be called from any other thread.
public final class ModbusTCPClient: ModbusClient, @unchecked Sendable {
    /// The endpoint this client connects to.
    public let endpoint: Endpoint
    /// How long a connection attempt may take.
    public let connectTimeout: Duration

    private let context: OpaquePointer
    private let socketState = Locked(SocketState())
    private var transactionID: UInt16 = 0
    private var requestFrame: [UInt8] = []
    private let replyFrame: UnsafeMutableRawBufferPointer

    private struct SocketState {
        var descriptor: Int32 = -1
        var interrupted = false
    }

    /// TCP keepalive and `TCP_USER_TIMEOUT` settings, so a dead link becomes an error.
    public enum Keepalive {
        /// Seconds of silence before the first keepalive probe.
        public static let idleSeconds: Int32 = 5
        /// Seconds between probes.
        public static let intervalSeconds: Int32 = 2
        /// Unanswered probes before the kernel drops the connection.
        public static let probeCount: Int32 = 3
        /// Milliseconds sent data may stay unacknowledged before the kernel drops the connection.
        public static let userTimeoutMilliseconds: Int32 = 10_000
    }

    /// Creates a client; no connection is made until ``connect()``.
    ///
    /// The corresponding C function is `modbus_new_tcp_pi`.
    /// - Throws: ``ModbusError/Kind/connect`` when libmodbus cannot allocate the context.
    public init(endpoint: Endpoint, connectTimeout: Duration = .seconds(1)) throws(ModbusError) {
        _ = FileDescriptorLimit.capped
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        let (made, error) = withErrno { modbus_new_tcp_pi(endpoint.host, String(endpoint.port)) }
        guard let made else {
            throw ModbusError(.connect, "cannot create a libmodbus context for \(endpoint): \(SystemError.describe(error))", errno: error)
        }
        context = made
        modbus_set_byte_timeout(context, 0, 0)
        modbus_set_error_recovery(context, MODBUS_ERROR_RECOVERY_NONE)
        replyFrame = .allocate(byteCount: TCPFrame.maximumLength + 8, alignment: 8)
        requestFrame.reserveCapacity(TCPFrame.readRequestLength)
    }

    deinit {
        modbus_close(context)
        modbus_free(context)
        replyFrame.deallocate()
    }

    public var isConnected: Bool {
        socketState.withLock { $0.descriptor >= 0 }
    }

    /// Opens a connection, closing any open one first.
    ///
    /// The corresponding C function is `modbus_connect`.
    /// - Throws: ``ModbusError/Kind/connect`` when the host cannot be resolved or reached, the
    ///   connection is refused, or no connection is made within ``connectTimeout``.
    public func connect() throws(ModbusError) {
        close()
        if socketState.withLock({ $0.interrupted }) {
            throw ModbusError(.connect, "connection to \(endpoint) cancelled")
        }
        setResponseTimeout(connectTimeout)
        let (status, error) = withErrno { modbus_connect(context) }
        guard status == 0 else {
            modbus_close(context)
            throw connectError(error)
        }
        let descriptor = modbus_get_socket(context)
        configure(socket: descriptor)
        let interrupted = socketState.withLock { state in
            state.descriptor = descriptor
            return state.interrupted
        }
        if interrupted {
            close()
            throw ModbusError(.connect, "connection to \(endpoint) cancelled")
        }
    }

    /// Reads one range of one table and returns its values, checked against the request.
    ///
    /// The corresponding C functions are `send` and `modbus_receive_confirmation`.
    /// - Throws: ``ModbusError/Kind/exception(_:)`` when the device answers with an exception
    ///   (the connection stays open); ``ModbusError/Kind/timeout``,
    ///   ``ModbusError/Kind/connectionLost`` or ``ModbusError/Kind/badResponse`` otherwise,
    ///   after which the connection is closed.
    public func read(_ request: ReadRequest, timeout: Duration) throws(ModbusError) -> [UInt16] {
        let descriptor = socketState.withLock { $0.descriptor }
        guard descriptor >= 0 else {
            throw ModbusError(.connectionLost, "not connected to \(endpoint)")
        }
        transactionID &+= 1
        TCPFrame.encodeRead(request, transactionID: transactionID, into: &requestFrame)
        do throws(ModbusError) {
            try send(requestFrame, on: descriptor, request: request)
            setResponseTimeout(timeout)
            let (length, error) = withErrno {
                modbus_receive_confirmation(context, replyFrame.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            guard length > 0 else {
                throw receiveError(error, request: request, timeout: timeout)
            }
            return try TCPFrame.decodeReadReply(
                UnsafeRawBufferPointer(rebasing: replyFrame[0..<Int(length)]),
                for: request, transactionID: transactionID)
        } catch {
            if error.requiresReconnect { close() }
            if case .badResponse = error.kind {
                throw ModbusError(.badResponse, "\(error.message) from \(endpoint) \(request)")
            }
            throw error
        }
    }

    /// Closes the connection, if open.
    ///
    /// The corresponding C function is `modbus_close`.
    public func close() {
        let wasOpen = socketState.withLock { state in
            defer { state.descriptor = -1 }
            return state.descriptor >= 0
        }
        if wasOpen { modbus_close(context) }
    }

    /// Wakes a blocked read at once (`shutdown(2)` on the socket: `close` would not wake it) and
    /// makes every later ``connect()`` fail. Safe from any thread.
    public func interrupt() {
        socketState.withLock { state in
            state.interrupted = true
            if state.descriptor >= 0 {
                _ = shutdown(state.descriptor, Int32(SHUT_RDWR))
            }
        }
    }

    /// The TCP options of the open socket, for tests: keepalive, no-delay, user timeout (ms),
    /// keepalive idle time (s); `nil` when not connected.
    package func socketOptions() -> (keepalive: Int32, noDelay: Int32, userTimeout: Int32, keepIdle: Int32)? {
        socketState.withLock { state in
            guard state.descriptor >= 0 else { return nil }
            func get(_ level: Int32, _ option: Int32) -> Int32 {
                var value: Int32 = -1
                var length = socklen_t(MemoryLayout<Int32>.size)
                _ = getsockopt(state.descriptor, level, option, &value, &length)
                return value
            }
            return (
                get(SOL_SOCKET, SO_KEEPALIVE), get(Int32(IPPROTO_TCP), TCP_NODELAY),
                get(Int32(IPPROTO_TCP), TCP_USER_TIMEOUT), get(Int32(IPPROTO_TCP), TCP_KEEPIDLE)
            )
        }
    }

    private func send(_ frame: [UInt8], on descriptor: Int32, request: ReadRequest) throws(ModbusError) {
        var sent = 0
        while sent < frame.count {
            let (written, error) = frame.withUnsafeBytes { bytes in
                withErrno { Glibc.send(descriptor, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            }
            if written < 0 {
                if error == EINTR { continue }
                throw ModbusError(.connectionLost, "cannot send \(request) to \(endpoint): \(SystemError.describe(error))", errno: error)
            }
            sent += written
        }
    }

    private func setResponseTimeout(_ timeout: Duration) {
        let microseconds = max(1000, timeout.microseconds)
        modbus_set_response_timeout(context, UInt32(clamping: microseconds / 1_000_000), UInt32(microseconds % 1_000_000))
    }

    private func configure(socket descriptor: Int32) {
        func set(_ level: Int32, _ option: Int32, _ value: Int32) {
            var value = value
            _ = setsockopt(descriptor, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
        // libmodbus sets TCP_NODELAY for IPv4 only (modbus-tcp.c, _modbus_tcp_pi_connect).
        set(Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        set(SOL_SOCKET, SO_KEEPALIVE, 1)
        set(Int32(IPPROTO_TCP), TCP_KEEPIDLE, Keepalive.idleSeconds)
        set(Int32(IPPROTO_TCP), TCP_KEEPINTVL, Keepalive.intervalSeconds)
        set(Int32(IPPROTO_TCP), TCP_KEEPCNT, Keepalive.probeCount)
        set(Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, Keepalive.userTimeoutMilliseconds)
    }

    private func connectError(_ error: Int32) -> ModbusError {
        switch error {
        case EINPROGRESS, ETIMEDOUT:
            return ModbusError(.connect, "no connection to \(endpoint) within \(connectTimeout.text)", errno: error)
        case ECONNREFUSED where !Resolver.resolves(endpoint):
            // libmodbus reports a failed getaddrinfo as ECONNREFUSED.
            return ModbusError(.connect, "cannot resolve host \(endpoint.host)", errno: error)
        default:
            return ModbusError(.connect, "cannot connect to \(endpoint): \(SystemError.describe(error))", errno: error)
        }
    }

    private func receiveError(_ error: Int32, request: ReadRequest, timeout: Duration) -> ModbusError {
        let kind = SystemError.receiveKind(error)
        switch kind {
        case .timeout:
            return ModbusError(.timeout, "no response from \(endpoint) unit \(request.unit) within \(timeout.text)", errno: error)
        case .badResponse:
            return ModbusError(.badResponse, "\(SystemError.describe(error)) from \(endpoint) \(request)", errno: error)
        default:
            return ModbusError(kind, "\(SystemError.describe(error)) while reading \(request) from \(endpoint)", errno: error)
        }
    }
}

/// Name resolution, used only to explain a failed connect.
enum Resolver {
    /// Whether `endpoint.host` resolves to at least one address.
    static func resolves(_ endpoint: Endpoint) -> Bool {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        if let list { freeaddrinfo(list) }
        return status == 0
    }
}
