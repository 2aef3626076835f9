/// A run of consecutive protocol addresses, `start ..< start + count`, inside 0...65535.
///
/// A range never wraps past 0xFFFF and never is empty; how many values one request may ask
/// for depends on the table and is checked by ``ReadRequest``.
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    /// The first address.
    public let start: UInt16
    /// How many consecutive addresses, at least 1.
    public let count: Int

    /// Creates a range, or `nil` when it is empty or runs past address 65535.
    public init?(start: Int, count: Int) {
        guard count >= 1, start >= 0, start + count <= 65536, let first = UInt16(exactly: start) else {
            return nil
        }
        self.start = first
        self.count = count
    }

    /// One past the last address (at most 65536).
    public var end: Int { Int(start) + count }

    /// Whether `address` lies in the range.
    public func contains(_ address: Int) -> Bool {
        address >= Int(start) && address < end
    }

    /// Whether every address of `other` lies in this range.
    public func contains(_ other: AddressRange) -> Bool {
        other.start >= start && other.end <= end
    }

    public var description: String {
        count == 1 ? "\(start)" : "\(start)-\(end - 1)"
    }
}
