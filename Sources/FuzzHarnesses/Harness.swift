import DeviceMaps
import DeviceSimulation
import Foundation
import JSONLines
import ModbusProtocol
import RegisterDecoding
import RequestPlanning

/// What the fuzzers feed untrusted bytes to: each harness must return for every input without
/// trapping. `make fuzz` runs them under libFuzzer with AddressSanitizer; `make test` replays
/// every input kept under `fixtures/fuzz/<harness>/`.
public enum Harness: String, CaseIterable, Sendable {
    /// The device-map loader, then the planner and the plan report on what it accepts.
    case maps
    /// The fixture loader, then reads from the image it builds.
    case fixtures
    /// The register decoder: a decoding chosen by the first bytes, registers from the rest.
    case decoder
    /// Reply frames and server requests: the bytes devices and clients send.
    case frames

    /// Runs the harness on one input.
    public func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .maps: Self.maps(bytes)
        case .fixtures: Self.fixtures(bytes)
        case .decoder: Self.decoder(bytes)
        case .frames: Self.frames(bytes)
        }
    }

    static func maps(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        let loaded = DeviceMapLoader.parse(text, file: "fuzz.yaml")
        guard loaded.diagnostics.isEmpty else {
            for diagnostic in loaded.diagnostics { precondition(diagnostic.line >= 1 && diagnostic.column >= 1) }
            return
        }
        let report = PlanReport(devices: loaded.devices)
        _ = report.text()
        _ = report.json()
        for entry in report.entries {
            for read in entry.reads {
                precondition((try? read.request(unit: entry.device.unit)) != nil, "a valid map plans only valid requests")
            }
        }
    }

    static func fixtures(_ bytes: UnsafeRawBufferPointer) {
        let loaded = FixtureLoader.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.json")
        guard loaded.diagnostics.isEmpty else { return }
        let image = RegisterImage(fixture: loaded.fixture, elapsedSeconds: { 12_345.678 })
        for (unit, tables) in loaded.fixture.units {
            for (table, blocks) in tables.tables {
                for block in blocks.prefix(8) {
                    let count = min(block.values.count, table.maximumReadCount)
                    guard let range = AddressRange(start: block.start, count: count) else { continue }
                    let reply = image.reply(to: ServerRequest(unit: unit, function: table.readFunction, operation: .read(table, range)))
                    if case .values(let values) = reply { precondition(values.count == count) }
                }
            }
        }
    }

    static func decoder(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 6 else { return }
        let types = ValueType.allCases
        let type = types[Int(bytes[0]) % types.count]
        let orders = ByteOrder.allCases
        let order = type.fixedRegisterCount == 1 ? (bytes[1] & 1 == 0 ? ByteOrder.abcd : .badc) : orders[Int(bytes[1]) % orders.count]
        let length = type == .string ? Int(bytes[2]) % 125 + 1 : nil
        let bit = type == .bool && bytes[2] & 0x80 != 0 ? Int(bytes[2] & 0x0F) : nil
        let scaling: Scaling? = bytes[3] & 1 == 1
            ? Scaling(scale: DecimalNumber(mantissa: Int64(Int8(bitPattern: bytes[4])) | 1, exponent: Int(Int8(bitPattern: bytes[5])) % 30),
                      offset: DecimalNumber(mantissa: Int64(bytes[3] >> 1), exponent: -Int(bytes[4] & 7)))
            : nil
        let decoding = PointDecoding(
            type: type, order: order, bit: bit, registerCount: length, scaling: type == .bool || type == .string ? nil : scaling,
            noData: .init(patterns: [UInt64(bytes[4])], floats: [.nan]), labels: type.isInteger ? [UInt64(bytes[5]): "label"] : [:])
        let registerBytes = bytes.dropFirst(6)
        var registers = [UInt16]()
        var index = registerBytes.startIndex
        while index + 1 < registerBytes.endIndex {
            registers.append(UInt16(registerBytes[index]) << 8 | UInt16(registerBytes[index + 1]))
            index += 2
        }
        guard registers.count >= decoding.registerCount else { return }
        let scaleFactor: Int16? = bytes[3] & 2 == 2 ? Int16(Int8(bitPattern: bytes[5])) % 21 : nil
        let outcome = registers.withUnsafeBufferPointer {
            decoding.decode(UnsafeBufferPointer(rebasing: $0[0..<decoding.registerCount]), scaleFactor: scaleFactor)
        }
        var buffer = JSONBuffer()
        if case .value(let value) = outcome { buffer.value(value) }
    }

    static func frames(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 4 else { return }
        let tables = Table.allCases
        let table = tables[Int(bytes[0]) % tables.count]
        let count = Int(bytes[1]) % table.maximumReadCount + 1
        if let request = try? ReadRequest(unit: UnitID(rawValue: bytes[2]), table: table, start: Int(bytes[3]) * 7, count: count) {
            let frame = UnsafeRawBufferPointer(rebasing: bytes[4...])
            if let values = try? TCPFrame.decodeReadReply(frame, for: request, transactionID: 0x0102) {
                precondition(values.count == count)
            }
        }
        _ = ServerRequest.parse(Array(bytes))
    }
}
