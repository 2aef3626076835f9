import Foundation
import JSONLines
import PollScheduling
import RegisterDecoding
import Testing

@Suite struct LineEncoderTests {
    let layout = PollLayout(
        device: "boiler-1", poll: "fast", pointNames: ["supply_temp", "pump_running", "flow", "serial_number"],
        units: ["°C", nil, "m3/h", nil])

    func lines(_ sample: Sample, _ format: OutputFormat) -> [String] {
        var encoder = LineEncoder(format: format)
        let text = String(decoding: encoder.encode(sample), as: UTF8.self)
        #expect(text.hasSuffix("\n"))
        return text.split(separator: "\n").map(String.init)
    }

    @Test func writesARecordLikeTheSpecificationsExample() {
        let sample = Sample(
            layout: layout, time: 1_795_593_600_000, missed: 0,
            result: .points([.value(.double(71.5)), .value(.bool(true)), .value(.float(12.25)), .value(.string("AB12-345"))]))
        #expect(lines(sample, .records) == [
            #"{"time":"2026-11-25T08:00:00.000Z","device":"boiler-1","poll":"fast","values":{"supply_temp":71.5,"pump_running":true,"flow":12.25,"serial_number":"AB12-345"}}"#
        ])
    }

    @Test func namesEveryFailedPointInErrors() {
        let sample = Sample(
            layout: layout, time: 0, missed: 2,
            result: .points([
                .value(.double(71.5)), .value(.bool(false)),
                .failed(PointFailure(kind: "exception", code: 2, message: "illegal data address")),
                .failed(.decode("the string is not valid UTF-8")),
            ]))
        #expect(lines(sample, .records) == [
            #"{"time":"1970-01-01T00:00:00.000Z","device":"boiler-1","poll":"fast","missed":2,"values":{"supply_temp":71.5,"pump_running":false,"flow":null,"serial_number":null},"errors":{"flow":{"kind":"exception","code":2,"message":"illegal data address"},"serial_number":{"kind":"decode","message":"the string is not valid UTF-8"}}}"#
        ])
    }

    @Test func writesOneErrorLineWhenTheDeviceIsUnreachable() {
        let failure = PointFailure(kind: "timeout", message: "no response from 127.0.0.1:502 unit 1 within 1s")
        let sample = Sample(layout: layout, time: 0, missed: 0, result: .unreachable(failure))
        #expect(lines(sample, .records) == [
            #"{"time":"1970-01-01T00:00:00.000Z","device":"boiler-1","poll":"fast","error":{"kind":"timeout","message":"no response from 127.0.0.1:502 unit 1 within 1s"}}"#
        ])
        let points = lines(sample, .points)
        #expect(points.count == 4)
        #expect(points[0] == #"{"time":"1970-01-01T00:00:00.000Z","device":"boiler-1","poll":"fast","point":"supply_temp","error":{"kind":"timeout","message":"no response from 127.0.0.1:502 unit 1 within 1s"},"unit":"°C"}"#)
    }

    @Test func writesOneLinePerPointInThePointsFormat() {
        let sample = Sample(
            layout: layout, time: 0, missed: 1,
            result: .points([.value(.double(71.5)), .value(.bool(true)), .failed(PointFailure(kind: "exception", code: 2, message: "illegal data address")), .value(.null)]))
        #expect(lines(sample, .points) == [
            #"{"time":"1970-01-01T00:00:00.000Z","device":"boiler-1","poll":"fast","missed":1,"point":"supply_temp","value":71.5,"unit":"°C"}"#,
            #"{"time":"1970-01-01T00:00:00.000Z","device":"boiler-1","poll":"fast","missed":1,"point":"pump_running","value":true}"#,
            #"{"time":"1970-01-01T00:00:00.000Z","device":"boiler-1","poll":"fast","missed":1,"point":"flow","error":{"kind":"exception","code":2,"message":"illegal data address"},"unit":"m3/h"}"#,
            #"{"time":"1970-01-01T00:00:00.000Z","device":"boiler-1","poll":"fast","missed":1,"point":"serial_number","value":null}"#,
        ])
    }

    @Test func everyLineIsValidJSON() throws {
        let sample = Sample(
            layout: PollLayout(device: "d\"1", poll: "p\n", pointNames: ["a", "b", "c"], units: ["\\", nil, nil]), time: 5, missed: 0,
            result: .points([.value(.int(Int64.min)), .value(.uint(UInt64.max)), .value(.string("\u{0}x"))]))
        for format in OutputFormat.allCases {
            for line in lines(sample, format) {
                #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(line.utf8)) }
            }
        }
    }
}
