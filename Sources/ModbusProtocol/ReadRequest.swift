/// A read the poller may send: one of the four tables, one unit, one valid address range.
///
/// Every read is validated here, before any byte reaches the wire: libmodbus would otherwise
/// put a count of 0 on the wire unchecked, and reports its own range errors with the same errno
/// a device uses for "illegal data value".
public struct ReadRequest: Hashable, Sendable, CustomStringConvertible {
    /// The unit identifier the request is addressed to.
    public let unit: UnitID
    /// The table read.
    public let table: Table
    /// The addresses read.
    public let range: AddressRange

    /// Why a read request cannot be built.
    public enum Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        /// The count is outside 1...(125 registers or 2000 bits).
        case count(Int, table: Table)
        /// The start is outside 0...65535 or the range runs past 65535.
        case range(start: Int, count: Int)

        public var description: String {
            switch self {
            case .count(let count, let table):
                "cannot read \(count) \(table.holdsBits ? "bits" : "registers") in one request (1 to \(table.maximumReadCount))"
            case .range(let start, let count):
                "addresses \(start) + \(count) run outside 0-65535"
            }
        }
    }

    /// Creates a request, checking the count against the table's limit and the range against 0...65535.
    public init(unit: UnitID, table: Table, start: Int, count: Int) throws(Invalid) {
        guard count >= 1, count <= table.maximumReadCount else {
            throw .count(count, table: table)
        }
        guard let range = AddressRange(start: start, count: count) else {
            throw .range(start: start, count: count)
        }
        self.unit = unit
        self.table = table
        self.range = range
    }

    /// The function code that carries this request.
    public var function: FunctionCode { table.readFunction }

    /// The number of data bytes a correct reply carries.
    public var expectedByteCount: Int {
        table.holdsBits ? (range.count + 7) / 8 : range.count * 2
    }

    public var description: String {
        "unit \(unit) \(table) \(range.description)"
    }
}
