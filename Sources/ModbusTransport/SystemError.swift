import CModbus
import Glibc
import ModbusProtocol

/// Calls a C function and reads errno on the very next line, before anything can allocate or
/// make another call that could change it (swift-nio's rule).
@inline(__always)
func withErrno<Result>(_ body: () -> Result) -> (result: Result, errno: Int32) {
    let result = body()
    let error = Glibc.errno
    return (result, error)
}

/// Sentences for the errno values a Modbus/TCP connection meets.
///
/// `strerror` and `modbus_strerror` are not thread-safe, and libmodbus reports its own
/// conditions as errno values above `MODBUS_ENOBASE`; this table covers both.
enum SystemError {
    /// A short sentence for `code`.
    static func describe(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "connection reset by peer"
        case ECONNABORTED: return "connection aborted"
        case EPIPE: return "broken pipe"
        case ETIMEDOUT: return "timed out"
        case EINPROGRESS: return "connect timed out"
        case EHOSTUNREACH: return "no route to host"
        case ENETUNREACH: return "network unreachable"
        case ENETDOWN: return "network down"
        case EHOSTDOWN: return "host down"
        case EADDRNOTAVAIL: return "address not available"
        case EADDRINUSE: return "address already in use"
        case EACCES: return "permission denied"
        case EMFILE: return "too many open files"
        case ENFILE: return "too many open files in the system"
        case ENOBUFS, ENOMEM: return "out of memory"
        case ENOTCONN: return "not connected"
        case ESHUTDOWN: return "connection shut down"
        case EBADF: return "socket closed"
        case EINTR: return "interrupted"
        case EAGAIN: return "socket would block"
        case EINVAL: return "invalid argument"
        default:
            if code == cmodbus_embbaddata() { return "reply longer than a Modbus/TCP frame" }
            if code == cmodbus_embmdata() { return "too many data" }
            if let exception = exceptionCode(fromErrno: code) {
                return exception.message
            }
            return "errno \(code)"
        }
    }

    /// The exception a libmodbus errno stands for (`MODBUS_ENOBASE + n`), if it is one.
    static func exceptionCode(fromErrno code: Int32) -> ExceptionCode? {
        let exception = cmodbus_exception_from_errno(code)
        return exception == 0 ? nil : ExceptionCode(code: UInt8(exception))
    }

    /// The error kind for an errno met while waiting for or reading a reply.
    static func receiveKind(_ code: Int32) -> ModbusError.Kind {
        switch code {
        case ETIMEDOUT: return .timeout
        case _ where code == cmodbus_embbaddata() || code == cmodbus_embmdata(): return .badResponse
        case _ where exceptionCode(fromErrno: code) != nil:
            return .exception(exceptionCode(fromErrno: code)!)
        default: return .connectionLost
        }
    }
}
