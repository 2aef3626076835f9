import Foundation
import Testing
import TestSupport

/// The device catalogue under device-maps/: four real devices, each map written from the vendor's
/// public register documentation (named in the map's header), each served from its fixture by
/// `fieldpoll simulate` and read back by `fieldpoll run --once`.
///
/// Every expected value below is written out by hand from the fixture and the document, as the
/// exact JSON text fieldpoll must print (float32: the shortest decimal that reads back to the same
/// float32; scaled values: the decimal result, rounded once; 64-bit-exact integers), so a change
/// in the decoder, the planner or a map shows up here.
@Suite struct DeviceCatalogTests {
    static let catalogue = ["eastron-sdm72d-m", "sunspec-inverter-m103", "siemens-sinamics-v20", "omron-e5cc"]

    @Test func checkAcceptsEveryCatalogueMapSilently() throws {
        let maps = Self.catalogue.map { Paths.inPackage("device-maps/\($0).yaml") }
        let result = try runCommand(Paths.fieldpoll, ["check"] + maps, timeout: .seconds(30))
        #expect(result.status == 0)
        #expect(result.stdout == "")
        #expect(result.stderr == "")
    }

    @Test func readsTheEastronSDM72DMEnergyMeterAsItsManualDescribesIt() throws {
        let lines = try pollOnce("eastron-sdm72d-m", polls: ["measurements", "settings"])
        // Input registers 0-29 (30001-30029), float32 high word first. Each fixture pair is the
        // float32 nearest the decimal, and that decimal is the shortest text reading back to it.
        try expectLine(
            lines, device: "sdm72d-m", poll: "measurements",
            [
                ("l1_voltage", "230.1"),  // 0x4366199A = 230.100006..., shortest "230.1"
                ("l2_voltage", "229.8"),  // 0x4365CCCD = 229.800003...
                ("l3_voltage", "231.4"),  // 0x43676666 = 231.399993...
                ("l1_current", "5.2"),  // 0x40A66666 = 5.19999980...
                ("l2_current", "4.87"),  // 0x409BD70A = 4.86999988...
                ("l3_current", "6.1"),  // 0x40C33333 = 6.09999990...
                ("l1_active_power", "1148.6"),  // 0x448F9333 = 1148.59997...
                ("l2_active_power", "1052.25"),  // 0x44838800 = 1052.25 exactly (1.02758789... x 2^10)
                ("l3_active_power", "1340.8"),  // 0x44A7999A = 1340.80004...
                ("l1_apparent_power", "1196.5"),  // 0x44959000 = 1196.5 exactly
                ("l2_apparent_power", "1119.1"),  // 0x448BE333 = 1119.09997...
                ("l3_apparent_power", "1411.5"),  // 0x44B07000 = 1411.5 exactly
                ("l1_reactive_power", "335.2"),  // 0x43A7999A = 335.200012...
                ("l2_reactive_power", "-381.75"),  // 0xC3BEE000 = -381.75 exactly (sign bit set)
                ("l3_reactive_power", "440.6"),  // 0x43DC4CCD = 440.600006...
            ])
        // Holding registers 10-15 and 18-23 (40011-40015, 40019-40023); whole floats print
        // without ".0".
        try expectLine(
            lines, device: "sdm72d-m", poll: "settings",
            [
                ("system_type", "3"),  // 0x40400000 = 3.0: 3P4W
                ("pulse_width", "100"),  // 0x42C80000 = 100.0 ms
                ("kppa", "0"),  // 0x00000000: not authorized
                ("parity_stop_bits", "0"),  // one stop bit, no parity
                ("modbus_address", "1"),  // 0x3F800000 = 1.0
                ("pulse_constant", "0"),  // 1000 imp/kWh
            ])
    }

    @Test func readsTheSunSpecInverterThroughItsScaleFactorsAndNotImplementedValues() throws {
        let lines = try pollOnce("sunspec-inverter-m103", polls: ["nameplate", "ac", "dc_and_temperatures", "energy"])
        try expectLine(
            lines, device: "sunspec-inverter", poll: "nameplate",
            [
                ("sunspec_id", #""SunS""#),  // 0x5375 0x6E53 at 40000
                ("common_model_id", "1"),
                ("common_model_length", "66"),  // 16 + 16 + 8 + 8 + 16 + 1 + 1 registers
                ("manufacturer", #""ACME Solar""#),  // NUL padding removed
                ("model", #""ACME-10K-3P""#),
                ("options", "null"),  // all NUL: SunSpec "not implemented" string, nodata [""]
                ("version", #""2.4.1""#),
                ("serial_number", #""A10K3P-2301-00042""#),
                ("device_address", "1"),
                ("inverter_model_id", "103"),  // at 40002 + 66 + 2 = 40070
                ("inverter_model_length", "50"),
                ("end_model_id", "65535"),  // at 40070 + 50 + 2 = 40122
                ("end_model_length", "0"),
            ])
        try expectLine(
            lines, device: "sunspec-inverter", poll: "ac",
            [
                ("current", "31.29"),  // 3129 x 10^-2
                ("current_a", "10.43"),  // 1043 x 10^-2
                ("current_b", "10.47"),  // 1047 x 10^-2
                ("current_c", "10.39"),  // 1039 x 10^-2
                ("A_SF", "-2"),  // 0xFFFE
                ("voltage_ab", "null"),  // 0xFFFF: uint16 not implemented
                ("voltage_bc", "null"),
                ("voltage_ca", "null"),
                ("voltage_an", "230.1"),  // 2301 x 10^-1
                ("voltage_bn", "229.8"),  // 2298 x 10^-1
                ("voltage_cn", "231.2"),  // 2312 x 10^-1
                ("V_SF", "-1"),
                ("power", "7185"),  // 7185 x 10^0
                ("W_SF", "0"),
                ("frequency", "50.01"),  // 5001 x 10^-2
                ("Hz_SF", "-2"),
                ("apparent_power", "7230"),  // 7230 x 10^0
                ("VA_SF", "0"),
                ("reactive_power", "-805"),  // 0xFCDB as int16 = -805, x 10^0
                ("VAr_SF", "0"),
                ("power_factor", "99.38"),  // 9938 x 10^-2 (percent)
                ("PF_SF", "-2"),
                ("operating_state", #""THROTTLED""#),  // St = 5
                ("vendor_operating_state", "null"),  // 0xFFFF: enum16 not implemented
                ("events", "128"),  // Evt1 = 0x0000 0x0080
                ("ground_fault", "false"),  // bits 0-15 of Evt1 are bits 0-15 of register 40111
                ("dc_over_volt", "false"),
                ("ac_disconnect", "false"),
                ("dc_disconnect", "false"),
                ("grid_disconnect", "false"),
                ("cabinet_open", "false"),
                ("manual_shutdown", "false"),
                ("over_temp", "true"),  // bit 7 = 0x0080
                ("over_frequency", "false"),
                ("under_frequency", "false"),
                ("ac_over_volt", "false"),
                ("ac_under_volt", "false"),
                ("blown_string_fuse", "false"),
                ("under_temp", "false"),
                ("memory_loss", "false"),
                ("hw_test_failure", "false"),
            ])
        try expectLine(
            lines, device: "sunspec-inverter", poll: "dc_and_temperatures",
            [
                ("dc_current", "null"),  // 0xFFFF, and its DCA_SF is 0x8000 too
                ("DCA_SF", "null"),  // 0x8000: sunssf not implemented
                ("dc_voltage", "624.5"),  // 6245 x 10^-1
                ("DCV_SF", "-1"),
                ("dc_power", "7402"),  // 7402 x 10^0
                ("DCW_SF", "0"),
                ("cabinet_temperature", "41.2"),  // 412 x 10^-1
                ("heat_sink_temperature", "53.8"),  // 538 x 10^-1
                ("transformer_temperature", "null"),  // 0x8000: int16 not implemented
                ("other_temperature", "null"),
                ("Tmp_SF", "-1"),
            ])
        try expectLine(
            lines, device: "sunspec-inverter", poll: "energy",
            [
                ("energy", "18734560"),  // acc32 0x001C9630 = 28 x 65536 + 38448 = 1873456, x 10^1
                ("WH_SF", "1"),
            ])
    }

    @Test func readsTheSinamicsV20DriveWithTheManualsScalingFactors() throws {
        let lines = try pollOnce("siemens-sinamics-v20", polls: ["drive", "commands", "energy", "settings"])
        // Register n is MODBUS register 40001 + n; "scaling factor 100" means raw / 100.
        try expectLine(
            lines, device: "sinamics-v20", poll: "drive",
            [
                ("output_frequency", "37.75"),  // 40024: 3775 / 100
                ("speed", "1121"),  // 40025: rpm, factor 1
                ("current", "4.12"),  // 40026: 412 / 100
                ("torque", "15.64"),  // 40027: 1564 / 100
                ("power", "1.84"),  // 40028: 184 / 100
                ("dc_bus_voltage", "563"),  // 40030: factor 1
            ])
        try expectLine(
            lines, device: "sinamics-v20", poll: "commands",
            [
                ("frequency_setpoint", "75.5"),  // 40003: 7550 / 100
                ("run_enable", "true"),  // 40004 = 1
                ("cmd_fwd_rev", "false"),  // 40005 = 0
                ("cmd_start", "true"),  // 40006 = 1
                ("fault_ack", "false"),  // 40007 = 0
                ("pid_setpoint", "0"),  // 40008: 0 / 100
                ("pid_enable", "false"),  // 40009 = 0
                ("digital_output_1", #""HIGH""#),  // 40014 = 1
                ("digital_output_2", #""LOW""#),  // 40015 = 0
            ])
        try expectLine(lines, device: "sinamics-v20", poll: "energy", [("total_energy", "12873")])  // 40029
        try expectLine(
            lines, device: "sinamics-v20", poll: "settings",
            [
                ("watchdog_time", "0"),  // 40001
                ("watchdog_action", "0"),  // 40002
                ("current_limit", "150"),  // 40010: 1500 / 10
                ("accel_time", "10"),  // 40011: 1000 / 100
                ("decel_time", "10"),  // 40012: 1000 / 100
                ("reference_frequency", "50"),  // 40016: 5000 / 100
                ("pid_upper_limit", "100"),  // 40017: 10000 / 100
                ("pid_lower_limit", "0"),  // 40018
                ("pid_p_gain", "3"),  // 40019: 3000 / 1000
                ("pid_i_gain", "0"),  // 40020
                ("pid_d_gain", "0"),  // 40021
                ("pid_feedback_gain", "100"),  // 40022: 10000 / 100
                ("pid_low_pass", "0"),  // 40023
            ])
    }

    @Test func readsTheOmronE5CCInFourByteModeIncludingTheManualsWorkedExample() throws {
        let lines = try pollOnce("omron-e5cc", polls: ["process", "settings"])
        // Four-byte mode: int32 high word first; values ignore the decimal point (0.1 here).
        try expectLine(
            lines, device: "e5cc", poll: "process",
            [
                ("pv", "85.3"),  // 0x00000355 = 853, x 0.1
                ("status", "33554688"),  // 0x0200 0x0100 = 0x02000100 = 2^25 + 2^8
                ("heater_overcurrent_ct1", "false"),  // status bit 0 = bit 0 of 0x0003
                ("ad_converter_error", "false"),  // bit 2
                ("hs_alarm_ct1", "false"),  // bit 3
                ("input_error", "false"),  // bit 6
                ("control_output_heating", "true"),  // bit 8: 0x0100
                ("control_output_cooling", "false"),  // bit 9
                ("hb_alarm_ct1", "false"),  // bit 10
                ("alarm_1", "false"),  // bit 12
                ("alarm_2", "false"),  // bit 13
                ("alarm_3", "false"),  // bit 14
                ("autotuning", "false"),  // status bit 23 = bit 7 of 0x0002
                ("stopped", "false"),  // status bit 24 = bit 8 of 0x0002: 0 = Run
                ("communications_writing", "true"),  // status bit 25 = bit 9 of 0x0002: 0x0200
                ("manual_mode", "false"),  // status bit 26 = bit 10 of 0x0002
                ("internal_set_point", "85"),  // 850 x 0.1
                ("heater_current_1", "12.3"),  // 123 x 0.1
                ("mv_heating", "42.3"),  // 423 x 0.1
                ("mv_cooling", "0"),
            ])
        try expectLine(
            lines, device: "e5cc", poll: "settings",
            [
                ("set_point", "85"),  // 850 x 0.1
                ("alarm_value_1", "-5"),  // H'FFFFFFCE = -50 (two's complement), x 0.1
                ("alarm_upper_limit_1", "100"),  // the manual's example H'000003E8 = 1000, x 0.1
            ])
    }
}

// MARK: - Helpers

/// Serves `fixtures/BASE.json`, runs `fieldpoll run --once` on a copy of `device-maps/BASE.yaml`
/// pointed at it, checks exit status, stderr and one line per poll, and returns the lines by poll.
private func pollOnce(_ base: String, polls: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: String] {
    let simulator = try SimulatorProcess(fixtures: [Paths.inPackage("fixtures/\(base).json")])
    let map = try localCopy(of: "device-maps/\(base).yaml", port: simulator.port)
    let result = try runCommand(Paths.fieldpoll, ["run", "--once", map], timeout: .seconds(30))
    #expect(simulator.stop() == 0, sourceLocation: sourceLocation)
    #expect(result.status == 0, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    let logLines = result.stderr.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) ?? "" }
    #expect(logLines == ["info: connected to 127.0.0.1:\(simulator.port)"], sourceLocation: sourceLocation)
    #expect(result.stdoutLines.count == polls.count, "one line per poll: \(result.stdout)", sourceLocation: sourceLocation)
    var byPoll: [String: String] = [:]
    for (line, object) in zip(result.stdoutLines, EndToEnd.objects(result.stdoutLines)) {
        let poll = try #require(object["poll"] as? String, sourceLocation: sourceLocation)
        #expect(byPoll[poll] == nil, "poll \(poll) printed twice", sourceLocation: sourceLocation)
        byPoll[poll] = line
    }
    #expect(byPoll.keys.sorted() == polls.sorted(), sourceLocation: sourceLocation)
    return byPoll
}

/// Checks the whole line of one poll, but for its time: device, poll, every value as exact JSON
/// text in map order, and no `errors` or `missed`.
private func expectLine(
    _ lines: [String: String], device: String, poll: String, _ values: [(String, String)], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let line = try #require(lines[poll], "no line for poll \(poll)", sourceLocation: sourceLocation)
    let time = try #require(line.range(of: #"^\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","#, options: .regularExpression), sourceLocation: sourceLocation)
    let fields = values.map { #""\#($0.0)":\#($0.1)"# }.joined(separator: ",")
    let expected = #""device":"\#(device)","poll":"\#(poll)","values":{\#(fields)}}"#
    #expect(String(line[time.upperBound...]) == expected, sourceLocation: sourceLocation)
}

/// A copy of a catalogue map in a temporary folder, pointed at the simulator: the documentation
/// address `host: 192.0.2.10` becomes 127.0.0.1 and `port: 502` the simulator's port.
private func localCopy(of relative: String, port: Int) throws -> String {
    let text = try String(contentsOfFile: Paths.inPackage(relative), encoding: .utf8)
    #expect(text.components(separatedBy: "host: 192.0.2.10\n").count == 2, "one placeholder host in \(relative)")
    #expect(text.components(separatedBy: "port: 502\n").count == 2, "one placeholder port in \(relative)")
    let local = text.replacingOccurrences(of: "host: 192.0.2.10\n", with: "host: 127.0.0.1\n")
        .replacingOccurrences(of: "port: 502\n", with: "port: \(port)\n")
    let copy = Paths.temporaryDirectory().appendingPathComponent(URL(fileURLWithPath: relative).lastPathComponent)
    try local.write(to: copy, atomically: true, encoding: .utf8)
    return copy.path
}
