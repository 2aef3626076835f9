/// The order in which a device puts the bytes of a multi-byte value into its registers.
///
/// The names spell the bytes as they appear on the wire, with A the most significant byte of
/// the value (SPEC section 2). They are built from two independent swaps: of the 16-bit words
/// (``swapsWords``) and of the two bytes within each word (``swapsBytes``). For 64-bit types
/// the same four names apply by pattern (`CDAB` = `GHEFCDAB`); for 16-bit types only `AB` and
/// `BA` are meaningful.
public enum ByteOrder: String, CaseIterable, Hashable, Sendable {
    /// Big-endian: `ABCD`, `ABCDEFGH`, `AB` (the default).
    case abcd = "ABCD"
    /// Word-swapped: `CDAB`, `GHEFCDAB`.
    case cdab = "CDAB"
    /// Byte-swapped within each word: `BADC`, `BADCFEHG`, `BA`.
    case badc = "BADC"
    /// Little-endian: `DCBA`, `HGFEDCBA`.
    case dcba = "DCBA"

    /// Whether the registers come least significant first.
    public var swapsWords: Bool { self == .cdab || self == .dcba }

    /// Whether each register holds its low byte first.
    public var swapsBytes: Bool { self == .badc || self == .dcba }

    /// The names accepted for `type`, the canonical one first.
    public static func names(for type: ValueType) -> [String] {
        switch type.fixedRegisterCount {
        case 1: ["AB", "BA"]
        case 4: ["ABCD", "CDAB", "BADC", "DCBA", "ABCDEFGH", "GHEFCDAB", "BADCFEHG", "HGFEDCBA"]
        default: ["ABCD", "CDAB", "BADC", "DCBA"]
        }
    }

    /// Parses an `order` name for a value of `type` (in either case), or returns `nil` when it
    /// does not fit.
    ///
    /// `bool` takes no order; 16-bit types take `AB`/`BA`; 32-bit types and strings the four
    /// letters; 64-bit types the four letters or their eight-letter spellings.
    public init?(name: String, for type: ValueType) {
        let name = name.uppercased()
        guard type != .bool, Self.names(for: type).contains(name) else { return nil }
        switch name {
        case "AB", "ABCD", "ABCDEFGH": self = .abcd
        case "CDAB", "GHEFCDAB": self = .cdab
        case "BA", "BADC", "BADCFEHG": self = .badc
        case "DCBA", "HGFEDCBA": self = .dcba
        default: return nil
        }
    }

    /// Assembles up to four registers into the raw value, most significant byte first.
    @inlinable
    public func assemble(_ registers: UnsafeBufferPointer<UInt16>) -> UInt64 {
        var raw: UInt64 = 0
        let count = registers.count
        for index in 0..<count {
            let word = registers[swapsWords ? count - 1 - index : index]
            raw = raw << 16 | UInt64(swapsBytes ? word.byteSwapped : word)
        }
        return raw
    }

    /// Splits a raw value of `count` registers into registers in this order (the inverse of ``assemble(_:)``).
    public func disassemble(_ raw: UInt64, count: Int) -> [UInt16] {
        var words = (0..<count).map { index in
            UInt16(truncatingIfNeeded: raw >> UInt64(16 * (count - 1 - index)))
        }
        if swapsWords { words.reverse() }
        if swapsBytes { words = words.map(\.byteSwapped) }
        return words
    }
}
