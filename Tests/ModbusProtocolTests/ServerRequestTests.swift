import ModbusProtocol
import Testing

@Suite struct ServerRequestTests {
    func frame(unit: UInt8 = 1, _ pdu: [UInt8]) -> [UInt8] {
        let length = pdu.count + 1
        return [0, 1, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), unit] + pdu
    }

    @Test func parsesEachReadFunction() throws {
        let request = try ServerRequest.parse(frame(unit: 9, [0x04, 0x00, 0x08, 0x00, 0x02])).get()
        #expect(request.unit == UnitID(rawValue: 9))
        #expect(request.operation == .read(.input, AddressRange(start: 8, count: 2)!))
        #expect(try ServerRequest.parse(frame([0x01, 0x00, 0x13, 0x00, 0x13])).get().operation == .read(.coil, AddressRange(start: 19, count: 19)!))
    }

    @Test func answersBadCountsWithException3AndRangesPast65535WithException2() {
        #expect(ServerRequest.parse(frame([0x03, 0x00, 0x00, 0x00, 0x00])) == .failure(.illegalDataValue))
        #expect(ServerRequest.parse(frame([0x03, 0x00, 0x00, 0x00, 0x7E])) == .failure(.illegalDataValue))
        #expect(ServerRequest.parse(frame([0x01, 0x00, 0x00, 0x07, 0xD1])) == .failure(.illegalDataValue))
        #expect(ServerRequest.parse(frame([0x03, 0xFF, 0xFF, 0x00, 0x02])) == .failure(.illegalDataAddress))
    }

    @Test func answersUnsupportedFunctionsWithException1() {
        #expect(ServerRequest.parse(frame([0x2B, 0x0E, 0x01, 0x00])) == .failure(.illegalFunction))
        #expect(ServerRequest.parse(frame([0x16, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00])) == .failure(.illegalFunction))
    }

    @Test func parsesWrites() throws {
        #expect(try ServerRequest.parse(frame([0x05, 0x00, 0xAC, 0xFF, 0x00])).get().operation == .writeCoil(address: 0xAC, value: true))
        #expect(ServerRequest.parse(frame([0x05, 0x00, 0xAC, 0x12, 0x34])) == .failure(.illegalDataValue))
        #expect(try ServerRequest.parse(frame([0x06, 0x00, 0x01, 0x00, 0x03])).get().operation == .writeRegister(address: 1, value: 3))
        // Spec 6.11: write coils 20-29 with CD 01.
        #expect(try ServerRequest.parse(frame([0x0F, 0x00, 0x13, 0x00, 0x0A, 0x02, 0xCD, 0x01])).get().operation
            == .writeCoils(start: 0x13, values: [true, false, true, true, false, false, true, true, true, false]))
        // Spec 6.12: write registers 2-3 with 000A 0102.
        #expect(try ServerRequest.parse(frame([0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02])).get().operation
            == .writeRegisters(start: 1, values: [0x000A, 0x0102]))
        #expect(ServerRequest.parse(frame([0x10, 0x00, 0x01, 0x00, 0x02, 0x03, 0x00, 0x0A, 0x01])) == .failure(.illegalDataValue))
    }
}
