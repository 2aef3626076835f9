/// A decoded value, as it is written in output.
public enum Value: Hashable, Sendable {
    /// No value: the device says "not available" (`nodata`), or the point could not be read.
    case null
    /// A bit.
    case bool(Bool)
    /// A signed integer, written exactly.
    case int(Int64)
    /// An unsigned integer, written exactly.
    case uint(UInt64)
    /// An unscaled float32, written as the shortest decimal that reads back to the same float32.
    case float(Float)
    /// A float64, or any scaled value.
    case double(Double)
    /// Text, or the label of an integer value.
    case string(String)
}
