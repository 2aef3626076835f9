/// A Modbus function code (the first byte of a PDU).
public struct FunctionCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code as it appears on the wire.
    public let rawValue: UInt8

    /// Creates a function code from its wire value.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Read Coils (0x01).
    public static let readCoils = FunctionCode(rawValue: 0x01)
    /// Read Discrete Inputs (0x02).
    public static let readDiscreteInputs = FunctionCode(rawValue: 0x02)
    /// Read Holding Registers (0x03).
    public static let readHoldingRegisters = FunctionCode(rawValue: 0x03)
    /// Read Input Registers (0x04).
    public static let readInputRegisters = FunctionCode(rawValue: 0x04)
    /// Write Single Coil (0x05); only the simulator accepts it.
    public static let writeSingleCoil = FunctionCode(rawValue: 0x05)
    /// Write Single Register (0x06); only the simulator accepts it.
    public static let writeSingleRegister = FunctionCode(rawValue: 0x06)
    /// Write Multiple Coils (0x0F); only the simulator accepts it.
    public static let writeMultipleCoils = FunctionCode(rawValue: 0x0F)
    /// Write Multiple Registers (0x10); only the simulator accepts it.
    public static let writeMultipleRegisters = FunctionCode(rawValue: 0x10)

    /// Whether this is one of the four read functions (1-4), the only codes the poller sends.
    public var isRead: Bool { (1...4).contains(rawValue) }

    public var description: String { String(rawValue) }
}
