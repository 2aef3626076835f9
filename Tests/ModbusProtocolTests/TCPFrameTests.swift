import ModbusProtocol
import Testing

/// Golden frames from the Modbus Application Protocol Specification v1.1b3, section 6
/// (the PDU examples of functions 1-4), wrapped in an MBAP header.
@Suite struct TCPFrameTests {
    /// MBAP header + PDU for a reply, length computed.
    func reply(transaction: UInt16 = 7, unit: UInt8 = 1, pdu: [UInt8]) -> [UInt8] {
        let length = pdu.count + 1
        return [UInt8(transaction >> 8), UInt8(transaction & 0xFF), 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), unit] + pdu
    }

    func decode(_ frame: [UInt8], _ request: ReadRequest, transaction: UInt16 = 7) throws(ModbusError) -> [UInt16] {
        var result: Result<[UInt16], ModbusError> = .success([])
        frame.withUnsafeBytes { bytes in
            do throws(ModbusError) {
                result = .success(try TCPFrame.decodeReadReply(bytes, for: request, transactionID: transaction))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    @Test func encodesTheSpecificationsReadHoldingRegistersRequest() throws {
        // Spec 6.3: read registers 108-110 (start 0x006B, quantity 3).
        let request = try ReadRequest(unit: UnitID(rawValue: 0x11), table: .holding, start: 0x6B, count: 3)
        var frame: [UInt8] = []
        TCPFrame.encodeRead(request, transactionID: 0x0102, into: &frame)
        //                 transaction  protocol   length  unit  fc    address     quantity
        #expect(frame == [0x01, 0x02, 0x00, 0x00, 0x00, 0x06, 0x11, 0x03, 0x00, 0x6B, 0x00, 0x03])
    }

    @Test func encodesTheFunctionCodeOfEachTable() throws {
        for (table, code) in [(Table.coil, 1), (.discrete, 2), (.holding, 3), (.input, 4)] as [(Table, UInt8)] {
            var frame: [UInt8] = []
            TCPFrame.encodeRead(try ReadRequest(unit: UnitID(rawValue: 1), table: table, start: 0, count: 1), transactionID: 1, into: &frame)
            #expect(frame[7] == code)
        }
    }

    @Test func decodesTheSpecificationsReadHoldingRegistersReply() throws {
        // Spec 6.3: byte count 6, registers 555, 0, 100.
        let request = try ReadRequest(unit: UnitID(rawValue: 1), table: .holding, start: 0x6B, count: 3)
        let values = try decode(reply(pdu: [0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64]), request)
        #expect(values == [555, 0, 100])
    }

    @Test func decodesTheSpecificationsReadCoilsReply() throws {
        // Spec 6.1: coils 20-38; status CD 6B 05, least significant bit first, padded with zeros.
        let request = try ReadRequest(unit: UnitID(rawValue: 1), table: .coil, start: 19, count: 19)
        let values = try decode(reply(pdu: [0x01, 0x03, 0xCD, 0x6B, 0x05]), request)
        #expect(values == [1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1])
    }

    @Test func decodesTheSpecificationsReadDiscreteInputsReply() throws {
        // Spec 6.2: inputs 197-218; status AC DB 35.
        let request = try ReadRequest(unit: UnitID(rawValue: 1), table: .discrete, start: 196, count: 22)
        let values = try decode(reply(pdu: [0x02, 0x03, 0xAC, 0xDB, 0x35]), request)
        #expect(values == [0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1])
    }

    @Test func decodesTheSpecificationsReadInputRegistersReply() throws {
        // Spec 6.4: register 9 holds 10.
        let request = try ReadRequest(unit: UnitID(rawValue: 1), table: .input, start: 8, count: 1)
        #expect(try decode(reply(pdu: [0x04, 0x02, 0x00, 0x0A]), request) == [10])
    }

    @Test func surfacesAnExceptionWithItsCode() throws {
        let request = try ReadRequest(unit: UnitID(rawValue: 1), table: .holding, start: 0, count: 1)
        #expect(throws: ModbusError(.exception(.illegalDataAddress), "illegal data address for unit 1 holding 0")) {
            _ = try decode(reply(pdu: [0x83, 0x02]), request)
        }
        do {
            _ = try decode(reply(pdu: [0x83, 0x2A]), request)
            Issue.record("an exception reply must throw")
        } catch {
            #expect(error.kind == .exception(.unknown(42)))
            #expect(error.exceptionCode?.code == 42)
        }
    }

    /// Every way a reply can fail to be exactly the answer: each must be a bad response, never data.
    static func corrupt(_ frame: inout [UInt8], _ name: String) {
        switch name {
        case "transaction id": frame[1] &+= 1
        case "protocol id 1": frame[3] = 1
        case "protocol id 0x0100": frame[2] = 1
        case "MBAP length too long": frame[5] &+= 1
        case "MBAP length too short": frame[5] &-= 1
        case "unit id": frame[6] = 2
        case "function code": frame[7] = 4
        case "byte count": frame[8] = 2
        case "exception for another function":
            frame = Array(frame.prefix(7)) + [0x84, 0x02]
            frame[5] = 3
        case "truncated": frame = Array(frame.prefix(8))
        default: Issue.record("unknown corruption \(name)")
        }
    }

    @Test(arguments: [
        "transaction id", "protocol id 1", "protocol id 0x0100", "MBAP length too long", "MBAP length too short",
        "unit id", "function code", "byte count", "exception for another function", "truncated",
    ])
    func refusesAReplyThatIsNotExactlyTheAnswer(_ name: String) throws {
        let request = try ReadRequest(unit: UnitID(rawValue: 1), table: .holding, start: 0, count: 2)
        var frame = reply(pdu: [0x03, 0x04, 0x12, 0x34, 0x56, 0x78])
        #expect(try decode(frame, request) == [0x1234, 0x5678])
        Self.corrupt(&frame, name)
        do {
            let values = try decode(frame, request)
            Issue.record("\(name): decoded as data \(values)")
        } catch {
            #expect(error.kind == .badResponse, "\(name)")
        }
    }

    @Test func refusesAByteCountThatDisagreesWithTheFrame() throws {
        let request = try ReadRequest(unit: UnitID(rawValue: 1), table: .holding, start: 0, count: 2)
        // Byte count 4 as asked, but six data bytes in a frame whose MBAP length agrees with them.
        let frame = reply(pdu: [0x03, 0x04, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC])
        #expect(throws: ModbusError.self) { _ = try decode(frame, request) }
    }
}
