import ModbusProtocol
import Testing

struct DurationTextTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)), ("1s", .seconds(1)), ("1.5s", .milliseconds(1500)), ("1m", .seconds(60)),
        ("0", .zero), ("2h", .seconds(7200)), (" 20s ", .seconds(20)), ("20 ms", .milliseconds(20)), ("0.5ms", .microseconds(500)),
    ])
    func parsesDurations(text: String, expected: Duration) {
        #expect(Duration(text: text) == expected)
    }

    @Test(arguments: ["5", "-1s", "1 sec", "ms", "1.2.3s", "", "1e3ms", "infs", "400d", "9000h"])
    func refusesDurationsWithoutAUnitOrWithNonsense(text: String) {
        #expect(Duration(text: text) == nil)
    }

    @Test(arguments: [
        (Duration.seconds(20), "20s"), (.seconds(3600), "1h"), (.seconds(7200), "2h"), (.seconds(60), "1m"),
        (.seconds(90), "90s"), (.milliseconds(1500), "1.5s"), (.milliseconds(250), "250ms"), (.zero, "0"),
        (.milliseconds(1234), "1.234s"), (.microseconds(572_300), "572.3ms"), (.milliseconds(30_500), "30.5s"),
        (.nanoseconds(1), "0ms"),
    ])
    func writesDurationsAsAUserWould(duration: Duration, text: String) {
        #expect(duration.text == text)
    }

    @Test(arguments: ["250ms", "20s", "1.5s", "2m", "1h", "0", "999ms", "59s", "1.25s"])
    func readsBackWhatItWrites(text: String) throws {
        let duration = try #require(Duration(text: text))
        #expect(duration.text == text)
    }
}
