/// Where a Modbus/TCP device listens: a host name, IPv4 or IPv6 address, and a TCP port.
public struct Endpoint: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Host name or address, as written in the map (IPv6 without brackets).
    public let host: String
    /// TCP port, 1...65535 (0 only when asking a server to pick one).
    public let port: Int

    /// Creates an endpoint.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with an IPv6 address in brackets.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public static func < (lhs: Endpoint, rhs: Endpoint) -> Bool {
        (lhs.host, lhs.port) < (rhs.host, rhs.port)
    }
}
