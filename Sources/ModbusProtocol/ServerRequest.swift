/// A request received by a Modbus/TCP server, parsed and validated (the simulator's side).
public struct ServerRequest: Hashable, Sendable {
    /// What the request asks for.
    public enum Operation: Hashable, Sendable {
        /// Function codes 1-4.
        case read(Table, AddressRange)
        /// Function code 5.
        case writeCoil(address: UInt16, value: Bool)
        /// Function code 6.
        case writeRegister(address: UInt16, value: UInt16)
        /// Function code 15.
        case writeCoils(start: UInt16, values: [Bool])
        /// Function code 16.
        case writeRegisters(start: UInt16, values: [UInt16])
    }

    /// The unit identifier the request was addressed to.
    public let unit: UnitID
    /// The function code received.
    public let function: FunctionCode
    /// The operation requested.
    public let operation: Operation

    /// Creates a request.
    public init(unit: UnitID, function: FunctionCode, operation: Operation) {
        self.unit = unit
        self.function = function
        self.operation = operation
    }

    /// Parses an indication frame (MBAP header + PDU).
    ///
    /// - Returns: the request, or the exception a server must answer with (1 for an
    ///   unsupported function, 2 for an address range past 65535, 3 for a bad count or value),
    ///   as the Modbus Application Protocol v1.1b3 section 6 prescribes.
    public static func parse(_ frame: [UInt8]) -> Result<ServerRequest, ExceptionCode> {
        guard frame.count >= 8 else { return .failure(.illegalFunction) }
        let unit = UnitID(rawValue: frame[6])
        let function = FunctionCode(rawValue: frame[7])
        func word(_ offset: Int) -> Int {
            offset + 1 < frame.count ? Int(frame[offset]) << 8 | Int(frame[offset + 1]) : -1
        }
        let address = word(8)
        let quantity = word(10)
        func make(_ operation: Operation) -> Result<ServerRequest, ExceptionCode> {
            .success(ServerRequest(unit: unit, function: function, operation: operation))
        }
        if let table = Table(readFunction: function) {
            guard quantity >= 1, quantity <= table.maximumReadCount, address >= 0 else {
                return .failure(.illegalDataValue)
            }
            guard let range = AddressRange(start: address, count: quantity) else {
                return .failure(.illegalDataAddress)
            }
            return make(.read(table, range))
        }
        switch function {
        case .writeSingleCoil:
            guard address >= 0, quantity == 0xFF00 || quantity == 0 else { return .failure(.illegalDataValue) }
            return make(.writeCoil(address: UInt16(address), value: quantity == 0xFF00))
        case .writeSingleRegister:
            guard address >= 0, quantity >= 0 else { return .failure(.illegalDataValue) }
            return make(.writeRegister(address: UInt16(address), value: UInt16(quantity)))
        case .writeMultipleCoils:
            let byteCount = frame.count > 12 ? Int(frame[12]) : -1
            guard address >= 0, (1...1968).contains(quantity), byteCount == (quantity + 7) / 8,
                frame.count == 13 + byteCount
            else { return .failure(.illegalDataValue) }
            guard AddressRange(start: address, count: quantity) != nil else {
                return .failure(.illegalDataAddress)
            }
            let values = (0..<quantity).map { index in frame[13 + index >> 3] >> UInt8(index & 7) & 1 == 1 }
            return make(.writeCoils(start: UInt16(address), values: values))
        case .writeMultipleRegisters:
            let byteCount = frame.count > 12 ? Int(frame[12]) : -1
            guard address >= 0, (1...123).contains(quantity), byteCount == quantity * 2,
                frame.count == 13 + byteCount
            else { return .failure(.illegalDataValue) }
            guard AddressRange(start: address, count: quantity) != nil else {
                return .failure(.illegalDataAddress)
            }
            let values = (0..<quantity).map { index in UInt16(frame[13 + 2 * index]) << 8 | UInt16(frame[14 + 2 * index]) }
            return make(.writeRegisters(start: UInt16(address), values: values))
        default:
            return .failure(.illegalFunction)
        }
    }
}

/// What a server answers to a request.
public enum ServerReply: Hashable, Sendable {
    /// The values read: registers, or bits as 0/1, one per address requested.
    case values([UInt16])
    /// The write was applied.
    case written
    /// A Modbus exception.
    case exception(ExceptionCode)
}

/// Answers the requests a Modbus/TCP server receives; the simulator's register image is one.
///
/// Called from one thread per client connection, concurrently.
public protocol ModbusRequestHandler: Sendable {
    /// Answers one request.
    func reply(to request: ServerRequest) -> ServerReply
}
