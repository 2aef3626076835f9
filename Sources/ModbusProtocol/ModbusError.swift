/// Why a request to a device produced no data: a taxonomy, each kind with its own reaction.
///
/// - ``Kind/exception(_:)``: the device answered with an exception; report the points it
///   concerns and keep the connection.
/// - ``Kind/connect``, ``Kind/timeout``, ``Kind/connectionLost``, ``Kind/badResponse``: the
///   stream can no longer be trusted; close, back off, reconnect.
/// - ``Kind/invalidRequest``: a bug or a bad command line; nothing was sent.
public struct ModbusError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The class of failure, which decides the reaction and the `kind` written in output.
    public enum Kind: Hashable, Sendable {
        /// No TCP connection could be made (refused, unreachable, unknown host, connect timeout).
        case connect
        /// No complete reply within the response timeout.
        case timeout
        /// The peer closed or reset the connection.
        case connectionLost
        /// The device answered with a Modbus exception.
        case exception(ExceptionCode)
        /// A reply arrived that is not exactly the answer to the request sent.
        case badResponse
        /// The request was refused before reaching the wire.
        case invalidRequest

        /// The name written in output objects (SPEC section 4).
        public var name: String {
            switch self {
            case .connect: "connect"
            case .timeout: "timeout"
            case .connectionLost: "connection_lost"
            case .exception: "exception"
            case .badResponse: "bad_response"
            case .invalidRequest: "invalid_request"
            }
        }
    }

    /// The class of failure.
    public var kind: Kind
    /// A sentence for people: what failed, with endpoint, unit, table and addresses where known.
    public var message: String
    /// The errno behind the failure, when one was reported.
    public var errno: Int32?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, errno: Int32? = nil) {
        self.kind = kind
        self.message = message
        self.errno = errno
    }

    /// Whether the connection must be closed and re-established before the next request.
    ///
    /// After any error that is not a Modbus exception the byte stream may be out of step with
    /// the requests for good (DEVELOPERS.md), so it is never reused.
    public var requiresReconnect: Bool {
        switch kind {
        case .exception, .invalidRequest: false
        case .connect, .timeout, .connectionLost, .badResponse: true
        }
    }

    /// The exception code, when the device answered with one.
    public var exceptionCode: ExceptionCode? {
        if case .exception(let code) = kind { return code }
        return nil
    }

    public var description: String { "\(kind.name): \(message)" }
}
