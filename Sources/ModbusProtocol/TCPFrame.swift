/// Modbus/TCP framing (MBAP header + PDU) for the poller's reads: encoding requests and
/// checking that a reply is exactly the answer to the request sent.
///
/// libmodbus 3.1.6 frames a reply by its function code and byte count and ignores the rest of
/// the header: it accepts a reply with another unit id, protocol id 1, or an MBAP length that
/// lies. fieldpoll therefore sends its own request frames and validates every reply here, field
/// by field, before a single value is decoded (see ``decodeReadReply(_:for:transactionID:)``).
///
/// Frame layout (Modbus Messaging on TCP/IP Implementation Guide v1.0b, 3.1.3):
///
///     offset  0-1   transaction id      (echoed by the server)
///             2-3   protocol id         (always 0)
///             4-5   length              (bytes that follow: unit id + PDU)
///             6     unit id
///             7     function code       (| 0x80 for an exception)
///             8...  data
public enum TCPFrame {
    /// Bytes in the MBAP header, unit id included.
    public static let headerLength = 7
    /// Bytes in a read request frame.
    public static let readRequestLength = 12
    /// Largest Modbus/TCP frame (MBAP header + 253-byte PDU).
    public static let maximumLength = 260

    /// Writes the 12-byte frame of a read request into `buffer`.
    public static func encodeRead(
        _ request: ReadRequest, transactionID: UInt16, into buffer: inout [UInt8]
    ) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(UInt8(truncatingIfNeeded: transactionID >> 8))
        buffer.append(UInt8(truncatingIfNeeded: transactionID))
        buffer.append(0)  // protocol id
        buffer.append(0)
        buffer.append(0)  // length: unit + function + address + count
        buffer.append(6)
        buffer.append(request.unit.rawValue)
        buffer.append(request.function.rawValue)
        buffer.append(UInt8(truncatingIfNeeded: request.range.start >> 8))
        buffer.append(UInt8(truncatingIfNeeded: request.range.start))
        buffer.append(UInt8(truncatingIfNeeded: request.range.count >> 8))
        buffer.append(UInt8(truncatingIfNeeded: request.range.count))
    }

    /// Checks that `frame` is exactly the reply to `request` sent with `transactionID`, and
    /// returns its values (registers, or bits as 0/1, one per address requested).
    ///
    /// - Throws: ``ModbusError/Kind/exception(_:)`` for a well-formed exception reply to this
    ///   request; ``ModbusError/Kind/badResponse`` for anything else that is not exactly the
    ///   answer: another transaction id, protocol id, unit id or function code, an MBAP length
    ///   or byte count that disagrees with the frame or the request.
    public static func decodeReadReply(
        _ frame: UnsafeRawBufferPointer, for request: ReadRequest, transactionID: UInt16
    ) throws(ModbusError) -> [UInt16] {
        guard frame.count >= 9 else {
            throw bad("a \(frame.count)-byte frame is too short for a reply")
        }
        let receivedTransaction = UInt16(frame[0]) << 8 | UInt16(frame[1])
        guard receivedTransaction == transactionID else {
            throw bad("transaction id \(receivedTransaction) in a reply to transaction \(transactionID)")
        }
        let protocolID = UInt16(frame[2]) << 8 | UInt16(frame[3])
        guard protocolID == 0 else {
            throw bad("protocol id \(protocolID), expected 0")
        }
        let length = Int(frame[4]) << 8 | Int(frame[5])
        guard length == frame.count - 6 else {
            throw bad("MBAP length \(length) for a frame carrying \(frame.count - 6) bytes")
        }
        guard frame[6] == request.unit.rawValue else {
            throw bad("unit id \(frame[6]) in a reply to unit \(request.unit)")
        }
        let function = frame[7]
        if function == request.function.rawValue | 0x80 {
            guard frame.count == 9 else {
                throw bad("exception reply of \(frame.count) bytes, expected 9")
            }
            let code = ExceptionCode(code: frame[8])
            throw ModbusError(.exception(code), "\(code.message) for \(request)")
        }
        guard function == request.function.rawValue else {
            throw bad("function code \(function) in a reply to function \(request.function)")
        }
        let byteCount = Int(frame[8])
        guard byteCount == request.expectedByteCount else {
            throw bad("byte count \(byteCount), expected \(request.expectedByteCount)")
        }
        guard frame.count == 9 + byteCount else {
            throw bad("byte count \(byteCount) in a frame carrying \(frame.count - 9) data bytes")
        }
        let count = request.range.count
        if request.table.holdsBits {
            return [UInt16](unsafeUninitializedCapacity: count) { values, initialized in
                for index in 0..<count {
                    let byte = frame[9 + index >> 3]
                    values[index] = UInt16((byte >> UInt8(index & 7)) & 1)
                }
                initialized = count
            }
        }
        return [UInt16](unsafeUninitializedCapacity: count) { values, initialized in
            for index in 0..<count {
                values[index] = UInt16(frame[9 + 2 * index]) << 8 | UInt16(frame[10 + 2 * index])
            }
            initialized = count
        }
    }

    private static func bad(_ what: String) -> ModbusError {
        ModbusError(.badResponse, what)
    }
}
