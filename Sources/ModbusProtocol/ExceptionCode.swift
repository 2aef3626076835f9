/// A Modbus exception code, sent by a device in place of data (function code | 0x80).
///
/// The cases are those of the Modbus Application Protocol Specification v1.1b3, section 7;
/// any other byte a device sends is kept as ``unknown(_:)``.
public enum ExceptionCode: Error, Hashable, Sendable, CustomStringConvertible {
    /// 1: the function code is not supported.
    case illegalFunction
    /// 2: the address range touches an address the device does not have.
    case illegalDataAddress
    /// 3: a value in the request (often the count) is not allowed.
    case illegalDataValue
    /// 4: the device failed while performing the action.
    case serverDeviceFailure
    /// 5: accepted, but it will take long.
    case acknowledge
    /// 6: the device is busy; try later.
    case serverDeviceBusy
    /// 8: memory parity error (file records).
    case memoryParityError
    /// 10: a gateway has no path to the target.
    case gatewayPathUnavailable
    /// 11: a gateway's target device did not respond.
    case gatewayTargetFailedToRespond
    /// Any other code.
    case unknown(UInt8)

    /// Creates the exception for a wire code.
    public init(code: UInt8) {
        switch code {
        case 1: self = .illegalFunction
        case 2: self = .illegalDataAddress
        case 3: self = .illegalDataValue
        case 4: self = .serverDeviceFailure
        case 5: self = .acknowledge
        case 6: self = .serverDeviceBusy
        case 8: self = .memoryParityError
        case 10: self = .gatewayPathUnavailable
        case 11: self = .gatewayTargetFailedToRespond
        default: self = .unknown(code)
        }
    }

    /// The code as it appears on the wire.
    public var code: UInt8 {
        switch self {
        case .illegalFunction: 1
        case .illegalDataAddress: 2
        case .illegalDataValue: 3
        case .serverDeviceFailure: 4
        case .acknowledge: 5
        case .serverDeviceBusy: 6
        case .memoryParityError: 8
        case .gatewayPathUnavailable: 10
        case .gatewayTargetFailedToRespond: 11
        case .unknown(let code): code
        }
    }

    /// The specification's name for the exception, in lower case, as written in output.
    public var message: String {
        switch self {
        case .illegalFunction: "illegal function"
        case .illegalDataAddress: "illegal data address"
        case .illegalDataValue: "illegal data value"
        case .serverDeviceFailure: "server device failure"
        case .acknowledge: "acknowledge"
        case .serverDeviceBusy: "server device busy"
        case .memoryParityError: "memory parity error"
        case .gatewayPathUnavailable: "gateway path unavailable"
        case .gatewayTargetFailedToRespond: "gateway target device failed to respond"
        case .unknown(let code): "unknown exception \(code)"
        }
    }

    public var description: String { "exception \(code) (\(message))" }
}
