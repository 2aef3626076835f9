/// The seam between the poll engine and a connection to one Modbus/TCP endpoint.
///
/// The real implementation wraps libmodbus (`ModbusTCPClient` in ModbusTransport); tests
/// script fakes. A client is driven by one thread at a time, except ``interrupt()``, which any
/// thread may call to wake a blocked call.
public protocol ModbusClient: AnyObject, Sendable {
    /// Whether a connection is open.
    var isConnected: Bool { get }

    /// Opens the connection (at most one socket per client; an open one is closed first).
    func connect() throws(ModbusError)

    /// Sends one read and waits for its reply, validated against the request.
    ///
    /// Registers come back as their 16-bit values, bits as 0 or 1, one element per address.
    /// - Parameter timeout: the response timeout for this request.
    func read(_ request: ReadRequest, timeout: Duration) throws(ModbusError) -> [UInt16]

    /// Closes the connection, if open.
    func close()

    /// Wakes any blocked call promptly and makes every later call fail; callable from any thread.
    func interrupt()
}
