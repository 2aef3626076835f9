/// The Modbus unit identifier carried in every MBAP header (byte 7 of a Modbus/TCP frame).
///
/// On Modbus/TCP any value 0...255 may appear on the wire; gateways use it to route a request
/// to a device on a serial line behind them, and many plain TCP devices answer only 1 or 255.
public struct UnitID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The identifier as it appears on the wire.
    public let rawValue: UInt8

    /// Creates a unit identifier from its wire value.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Creates a unit identifier from an integer, or `nil` when it is outside 0...255.
    public init?(_ value: Int) {
        guard let byte = UInt8(exactly: value) else { return nil }
        self.rawValue = byte
    }

    public var description: String { String(rawValue) }

    public static func < (lhs: UnitID, rhs: UnitID) -> Bool { lhs.rawValue < rhs.rawValue }
}
