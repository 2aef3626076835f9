import Foundation
import Glibc
import ModbusProtocol

/// A Modbus/TCP server for tests that misbehaves on demand, on 127.0.0.1 and a port the OS picks.
///
/// It frames requests itself (raw sockets, no libmodbus), answers correct requests from a
/// ``ModbusRequestHandler``, and injects the ``Fault`` currently set. It records every function
/// code received and counts connections, so tests can check that only reads were sent and that
/// a client never held two connections. Everything is bounded: each connection ends when the
/// server stops.
public final class FaultServer: @unchecked Sendable {
    /// What the server does with the next requests.
    public enum Fault: Sendable, Equatable {
        /// Answer correctly.
        case none
        /// Read the request and never answer.
        case silent
        /// Send the correct reply one byte every `interval`.
        case drip(Duration)
        /// Send bytes that are not a Modbus frame.
        case garbage
        /// Send the first half of the reply, then nothing.
        case shortFrame
        /// Reply with another transaction id.
        case wrongTransaction
        /// Reply with another unit id.
        case wrongUnit
        /// Reply with another function code.
        case wrongFunction
        /// Reply with protocol id 1.
        case wrongProtocol
        /// Reply with a byte count that disagrees with the request (and a matching frame).
        case wrongByteCount
        /// Reply with an MBAP length field `delta` away from the truth.
        case lyingLength(Int)
        /// Reply with a frame longer than 260 bytes.
        case oversize
        /// Send the correct reply twice.
        case duplicate
        /// Send half the reply, then reset the connection (RST).
        case resetMidFrame
        /// Close the connection without answering.
        case close
        /// Answer with exception `code`.
        case exception(UInt8)
    }

    /// What the server does with a new connection when it already holds `slots` of them.
    public enum SlotPolicy: Sendable {
        /// Close the new connection.
        case refuseNew
        /// Close the oldest connection and keep the new one.
        case dropOldest
    }

    /// The port listened on.
    public let port: Int
    private let listener: Int32
    private let handler: any ModbusRequestHandler
    private let state = Locked(State())
    private let finished = DispatchGroup()
    private let requestArrived = NSCondition()

    private struct State {
        var fault = Fault.none
        var functionCodes: [UInt8] = []
        var connections: [Int32] = []
        var acceptedTotal = 0
        var peakConnections = 0
        var requests = 0
        var closeAfterRequests: Int?
        var slots: Int?
        var slotPolicy = SlotPolicy.refuseNew
        var refuse = false
        var stopped = false
    }

    /// Listens on 127.0.0.1:0, answering correct requests from `handler`.
    public init(handler: any ModbusRequestHandler) throws {
        self.handler = handler
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            Glibc.close(descriptor)
            throw TestFailure("bind/listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        listener = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        finished.enter()
        let thread = Thread { [self] in
            acceptLoop()
            finished.leave()
        }
        thread.start()
    }

    deinit {
        stop()
    }

    /// Stops listening and closes every connection; waits (at most 5 s) for the threads.
    public func stop() {
        let connections = state.withLock { state -> [Int32]? in
            if state.stopped { return nil }
            state.stopped = true
            return state.connections
        }
        // Only once: a second close could hit a descriptor number reused by someone else.
        guard let connections else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        for connection in connections { shutdown(connection, Int32(SHUT_RDWR)) }
        _ = finished.wait(timeout: .now() + 5)
        Glibc.close(listener)
    }

    /// The fault applied to the next requests.
    public var fault: Fault {
        get { state.withLock { $0.fault } }
        set { state.withLock { $0.fault = newValue } }
    }

    /// Every function code received, in order.
    public var functionCodes: [UInt8] { state.withLock { $0.functionCodes } }
    /// Requests received.
    public var requests: Int { state.withLock { $0.requests } }
    /// Connections accepted since start.
    public var acceptedConnections: Int { state.withLock { $0.acceptedTotal } }
    /// Connections open now.
    public var openConnections: Int { state.withLock { $0.connections.count } }
    /// The most connections open at once.
    public var peakConnections: Int { state.withLock { $0.peakConnections } }

    /// Waits until at least `count` requests have arrived, or `timeout` passes.
    ///
    /// - Returns: whether they arrived.
    @discardableResult
    public func waitForRequests(_ count: Int, timeout: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        requestArrived.lock()
        defer { requestArrived.unlock() }
        while requests < count {
            if !requestArrived.wait(until: deadline) { return requests >= count }
        }
        return true
    }

    /// Waits until at least `count` connections are open, or `timeout` passes.
    @discardableResult
    public func waitForConnections(_ count: Int, timeout: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        requestArrived.lock()
        defer { requestArrived.unlock() }
        while openConnections < count {
            if !requestArrived.wait(until: deadline) { return openConnections >= count }
        }
        return true
    }

    /// Closes each connection after it has received `count` requests (`nil`: never).
    public func closeAfter(requests count: Int?) { state.withLock { $0.closeAfterRequests = count } }

    /// Holds at most `slots` connections, refusing or dropping the oldest beyond.
    public func limitConnections(to slots: Int?, policy: SlotPolicy = .refuseNew) {
        state.withLock {
            $0.slots = slots
            $0.slotPolicy = policy
        }
    }

    /// Closes every new connection at once while `refuse` is set.
    public func refuseConnections(_ refuse: Bool) { state.withLock { $0.refuse = refuse } }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let (admitted, dropped) = state.withLock { state -> (Bool, Int32?) in
                if state.stopped || state.refuse { return (false, nil) }
                // A connection the client has already closed is not held open by it, even if
                // its thread has not noticed yet (it may be sleeping between dripped bytes).
                state.connections.removeAll { Self.peerHasClosed($0) }
                var dropped: Int32?
                if let slots = state.slots, state.connections.count >= slots {
                    guard state.slotPolicy == .dropOldest else { return (false, nil) }
                    dropped = state.connections.removeFirst()
                }
                state.connections.append(client)
                state.acceptedTotal += 1
                state.peakConnections = max(state.peakConnections, state.connections.count)
                return (true, dropped)
            }
            if let dropped { shutdown(dropped, Int32(SHUT_RDWR)) }
            requestArrived.lock()
            requestArrived.broadcast()
            requestArrived.unlock()
            guard admitted else {
                Glibc.close(client)
                continue
            }
            finished.enter()
            let thread = Thread { [self] in
                serve(client)
                state.withLock { $0.connections.removeAll { $0 == client } }
                Glibc.close(client)
                requestArrived.lock()
                requestArrived.broadcast()
                requestArrived.unlock()
                finished.leave()
            }
            thread.start()
        }
    }

    private static func peerHasClosed(_ descriptor: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(0x2000) /* POLLRDHUP */ | Int16(POLLHUP), revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & (Int16(0x2000) /* POLLRDHUP */ | Int16(POLLHUP) | Int16(POLLERR)) != 0
    }

    private func serve(_ client: Int32) {
        var served = 0
        while let frame = readFrame(client) {
            served += 1
            let (fault, closeAfter) = state.withLock { state -> (Fault, Int?) in
                state.requests += 1
                state.functionCodes.append(frame[7])
                return (state.fault, state.closeAfterRequests)
            }
            requestArrived.lock()
            requestArrived.broadcast()
            requestArrived.unlock()
            let reply = correctReply(to: frame)
            switch fault {
            case .none: send(client, reply)
            case .silent: break
            case .drip(let interval):
                for byte in reply {
                    send(client, [byte])
                    Thread.sleep(forTimeInterval: interval.seconds)
                }
            case .garbage: send(client, Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8))
            case .shortFrame: send(client, Array(reply.prefix(reply.count / 2)))
            case .wrongTransaction: send(client, patched(reply) { $0[1] &+= 1 })
            case .wrongUnit: send(client, patched(reply) { $0[6] &+= 1 })
            case .wrongFunction: send(client, patched(reply) { $0[7] = $0[7] == 3 ? 4 : 3 })
            case .wrongProtocol: send(client, patched(reply) { $0[3] = 1 })
            case .wrongByteCount:
                // One register (or bit byte) more than asked, framed consistently.
                var longer = reply
                if longer.count >= 9, longer[7] < 0x80 {
                    let extra = frame[7] <= 2 ? 1 : 2
                    longer[8] &+= UInt8(extra)
                    longer += Array(repeating: 0, count: extra)
                    let length = longer.count - 6
                    longer[4] = UInt8(length >> 8)
                    longer[5] = UInt8(length & 0xFF)
                }
                send(client, longer)
            case .lyingLength(let delta):
                send(client, patched(reply) { bytes in
                    let length = (Int(bytes[4]) << 8 | Int(bytes[5])) + delta
                    bytes[4] = UInt8((length >> 8) & 0xFF)
                    bytes[5] = UInt8(length & 0xFF)
                })
            case .oversize:
                var big = Array(reply.prefix(8))
                big.append(255)
                big += Array(repeating: 0xAA, count: 255)
                big[4] = UInt8((big.count - 6) >> 8)
                big[5] = UInt8((big.count - 6) & 0xFF)
                send(client, big)
            case .duplicate:
                send(client, reply)
                send(client, reply)
            case .resetMidFrame:
                send(client, Array(reply.prefix(reply.count / 2)))
                var linger = linger(l_onoff: 1, l_linger: 0)
                setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
                return
            case .close:
                return
            case .exception(let code):
                send(client, exceptionReply(to: frame, code: code))
            }
            if let closeAfter, served >= closeAfter { return }
        }
    }

    private func patched(_ reply: [UInt8], _ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var copy = reply
        change(&copy)
        return copy
    }

    /// The reply a correct server sends, from the handler.
    private func correctReply(to frame: [UInt8]) -> [UInt8] {
        switch ServerRequest.parse(frame) {
        case .failure(let exception):
            return exceptionReply(to: frame, code: exception.code)
        case .success(let request):
            switch handler.reply(to: request) {
            case .exception(let exception):
                return exceptionReply(to: frame, code: exception.code)
            case .written:
                return Array(frame.prefix(12))
            case .values(let values):
                var data: [UInt8] = []
                if case .read(let table, _) = request.operation, table.holdsBits {
                    data = [UInt8](repeating: 0, count: (values.count + 7) / 8)
                    for (index, value) in values.enumerated() where value != 0 { data[index / 8] |= 1 << UInt8(index % 8) }
                } else {
                    for value in values { data += [UInt8(value >> 8), UInt8(value & 0xFF)] }
                }
                return header(frame, pduLength: 2 + data.count) + [frame[7], UInt8(data.count)] + data
            }
        }
    }

    private func exceptionReply(to frame: [UInt8], code: UInt8) -> [UInt8] {
        header(frame, pduLength: 2) + [frame[7] | 0x80, code]
    }

    private func header(_ frame: [UInt8], pduLength: Int) -> [UInt8] {
        let length = pduLength + 1
        return [frame[0], frame[1], 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), frame[6]]
    }

    private func readFrame(_ client: Int32) -> [UInt8]? {
        guard let header = readExactly(client, 7) else { return nil }
        let length = Int(header[4]) << 8 | Int(header[5])
        guard length >= 2, length <= 254, let body = readExactly(client, length - 1) else { return nil }
        return header + body
    }

    private func readExactly(_ client: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let received = bytes.withUnsafeMutableBytes { recv(client, $0.baseAddress! + got, count - got, 0) }
            if received < 0, errno == EINTR { continue }
            if received <= 0 { return nil }
            got += received
        }
        return bytes
    }

    private func send(_ client: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
