import ModbusProtocol
import Testing

@Suite struct ReadRequestTests {
    let unit = UnitID(rawValue: 1)

    @Test func acceptsTheLimitsOfEachTable() throws {
        #expect(try ReadRequest(unit: unit, table: .holding, start: 0, count: 125).range.count == 125)
        #expect(try ReadRequest(unit: unit, table: .input, start: 65535, count: 1).range.end == 65536)
        #expect(try ReadRequest(unit: unit, table: .coil, start: 0, count: 2000).range.count == 2000)
        #expect(try ReadRequest(unit: unit, table: .discrete, start: 63536, count: 2000).range.end == 65536)
    }

    @Test(arguments: [
        (Table.holding, 0, 126), (.input, 0, 0), (.holding, 0, -1), (.coil, 0, 2001), (.discrete, 0, 0),
    ])
    func refusesCountsOutsideTheTablesLimit(table: Table, start: Int, count: Int) {
        #expect(throws: ReadRequest.Invalid.count(count, table: table)) {
            _ = try ReadRequest(unit: unit, table: table, start: start, count: count)
        }
    }

    @Test(arguments: [(65535, 2), (65500, 125), (-1, 1), (65536, 1)])
    func refusesRangesRunningPastAddress65535(start: Int, count: Int) {
        #expect(throws: ReadRequest.Invalid.range(start: start, count: count)) {
            _ = try ReadRequest(unit: unit, table: .holding, start: start, count: count)
        }
    }

    @Test func namesTheExpectedByteCount() throws {
        #expect(try ReadRequest(unit: unit, table: .coil, start: 0, count: 9).expectedByteCount == 2)
        #expect(try ReadRequest(unit: unit, table: .coil, start: 0, count: 8).expectedByteCount == 1)
        #expect(try ReadRequest(unit: unit, table: .input, start: 0, count: 3).expectedByteCount == 6)
    }

    @Test func mapsExceptionCodesBothWays() {
        for code in UInt8(0)...UInt8(255) {
            #expect(ExceptionCode(code: code).code == code)
        }
        #expect(ExceptionCode(code: 2) == .illegalDataAddress)
        #expect(ExceptionCode(code: 11).message == "gateway target device failed to respond")
    }
}
