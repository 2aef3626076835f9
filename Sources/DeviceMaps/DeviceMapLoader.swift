import ModbusProtocol
import RegisterDecoding
import Yams

/// Loads device maps (SPEC section 2) and validates them completely.
///
/// Every problem of every file is reported, each at its line and column; nothing is polled
/// unless the list of diagnostics is empty. A malformed file never traps.
public enum DeviceMapLoader {
    /// The devices read from a set of maps, and every problem found in them.
    public struct Loaded: Sendable {
        /// The devices, in file order; meaningful only when ``diagnostics`` is empty.
        public var devices: [Device]
        /// Every problem, sorted by file, line and column.
        public var diagnostics: [Diagnostic]
    }

    /// Loads and validates the map files at `paths`, including checks across files (device
    /// names are unique across all of them).
    public static func load(paths: [String]) -> Loaded {
        var devices: [Device] = []
        var diagnostics: [Diagnostic] = []
        for path in paths {
            switch YAMLReader.readText(of: path) {
            case .failure(let diagnostic):
                diagnostics.append(diagnostic)
            case .success(let text):
                let loaded = parse(text, file: path)
                devices += loaded.devices
                diagnostics += loaded.diagnostics
            }
        }
        var seen: [String: SourceLocation] = [:]
        for device in devices {
            if let first = seen[device.name] {
                if first.file != device.location.file {
                    diagnostics.append(device.location.error("duplicate device name '\(device.name)' (first defined at \(first))"))
                }
            } else {
                seen[device.name] = device.location
            }
        }
        return Loaded(devices: devices, diagnostics: Array(Set(diagnostics)).sorted())
    }

    /// Parses and validates one map's text.
    public static func parse(_ text: String, file: String) -> Loaded {
        var parser = MapParser(reader: YAMLReader(file: file))
        let devices = parser.parse(text)
        return Loaded(devices: devices, diagnostics: Array(Set(parser.reader.diagnostics)).sorted())
    }
}

/// The keys a map may hold, at each level.
enum MapKeys {
    static let root = ["device", "devices", "defaults", "polls", "description"]
    static let device = [
        "name", "host", "port", "unit", "timeout", "max_registers", "max_gap",
        "pause_after_connect", "pause_between_requests", "description",
    ]
    static let poll = ["name", "interval", "points", "description"]
    static let point = [
        "name", "table", "address", "type", "order", "bit", "length", "scale", "offset",
        "scale_factor", "unit", "nodata", "labels", "description",
    ]
}

/// Device keys given in a `device`, `devices` item or `defaults` block, before defaults apply.
private struct DeviceSettings {
    var name: String?
    var host: String?
    var port: Int?
    var unit: UnitID?
    var timeout: Duration?
    var maxRegisters: Int?
    var maxGap: Int?
    var pauseAfterConnect: Duration?
    var pauseBetweenRequests: Duration?
    var description: String?
    var location: SourceLocation
    /// Whether the block was a mapping at all (a device is only made from one that was).
    var isMapping = true
    /// Keys written, valid or not (so a bad value is not also reported as missing).
    var written: Set<String> = []
}

/// A point as parsed, before checks that need its poll or device.
private struct ParsedPoint {
    var point: Point
    var scaleFactorName: String?
    var scaleFactorNode: Node?
    var hasScaleOrOffset: Bool
}

private struct MapParser {
    var reader: YAMLReader

    mutating func parse(_ text: String) -> [Device] {
        let (root, ok) = reader.compose(text)
        guard ok else { return [] }
        guard let root, !reader.isNull(root) else {
            reader.report(line: 1, column: 1, "the map is empty: expected 'device' (or 'devices') and 'polls'")
            return []
        }
        guard let entries = reader.mapping(root, "a device map") else { return [] }
        reader.checkKeys(entries, allowed: MapKeys.root, in: "the map")
        let byKey = Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })

        var defaults = DeviceSettings(location: reader.location(of: root))
        if let entry = byKey["defaults"] {
            defaults = deviceSettings(entry.value, what: "defaults", allowName: false)
        }
        if let entry = byKey["description"], !reader.isNull(entry.value) {
            _ = reader.string(entry.value, "description")
        }

        var blocks: [DeviceSettings] = []
        switch (byKey["device"], byKey["devices"]) {
        case (.some(let single), .some(let list)):
            reader.error(at: list.keyNode, "a map holds either 'device' or 'devices', not both")
            blocks.append(deviceSettings(single.value, what: "device", allowName: true))
        case (.some(let single), nil):
            blocks.append(deviceSettings(single.value, what: "device", allowName: true))
        case (nil, .some(let list)):
            if let items = reader.sequence(list.value, "devices") {
                if items.isEmpty { reader.error(at: list.value, "'devices' is empty: list at least one device") }
                for item in items { blocks.append(deviceSettings(item, what: "a device", allowName: true)) }
            }
        case (nil, nil):
            reader.error(at: root, "the map has no 'device' (or 'devices')")
        }

        var polls: [Poll] = []
        var parsedPolls: [[ParsedPoint]] = []
        if let entry = byKey["polls"] {
            (polls, parsedPolls) = parsePolls(entry.value)
        } else {
            reader.error(at: root, "the map has no 'polls'")
        }

        var devices: [Device] = []
        var seenNames: [String: SourceLocation] = [:]
        for block in blocks {
            guard let device = makeDevice(block, defaults: defaults, polls: polls) else { continue }
            if let first = seenNames[device.name] {
                reader.error(at: device.location, "duplicate device name '\(device.name)' (first defined at line \(first.line))")
                continue
            }
            seenNames[device.name] = device.location
            checkLimits(of: device, parsedPolls: parsedPolls)
            devices.append(device)
        }
        return devices
    }

    // MARK: Devices

    private mutating func deviceSettings(_ node: Node, what: String, allowName: Bool) -> DeviceSettings {
        var settings = DeviceSettings(location: reader.location(of: node))
        guard let entries = reader.mapping(node, what) else {
            settings.isMapping = false
            return settings
        }
        let allowed = allowName ? MapKeys.device : MapKeys.device.filter { $0 != "name" }
        reader.checkKeys(entries, allowed: allowed, in: what)
        settings.written = Set(entries.map(\.key))
        for entry in entries {
            let value = entry.value
            switch entry.key {
            case "name" where allowName: settings.name = reader.string(value, "the device name")
            case "host": settings.host = reader.string(value, "host")
            case "port": settings.port = reader.integer(value, "port", in: 1...65535)
            case "unit": settings.unit = reader.integer(value, "unit", in: 0...255).flatMap(UnitID.init)
            case "timeout":
                if let timeout = reader.duration(value, "timeout") {
                    if timeout <= .zero || timeout > .seconds(3600) {
                        reader.error(at: value, "timeout must be more than 0 and at most 1h")
                    } else {
                        settings.timeout = timeout
                    }
                }
            case "max_registers": settings.maxRegisters = reader.integer(value, "max_registers", in: 1...125)
            case "max_gap": settings.maxGap = reader.integer(value, "max_gap", in: 0...2000)
            case "pause_after_connect": settings.pauseAfterConnect = reader.duration(value, "pause_after_connect")
            case "pause_between_requests": settings.pauseBetweenRequests = reader.duration(value, "pause_between_requests")
            case "description": settings.description = reader.string(value, "description")
            default: break
            }
        }
        return settings
    }

    private mutating func makeDevice(_ block: DeviceSettings, defaults: DeviceSettings, polls: [Poll]) -> Device? {
        guard block.isMapping else { return nil }
        guard let name = block.name else {
            if !block.written.contains("name") { reader.error(at: block.location, "the device has no 'name'") }
            return nil
        }
        guard let host = block.host ?? defaults.host else {
            if !block.written.contains("host") && !defaults.written.contains("host") {
                reader.error(at: block.location, "device '\(name)' has no 'host'")
            }
            return nil
        }
        return Device(
            name: name, host: host,
            port: block.port ?? defaults.port ?? Device.defaultPort,
            unit: block.unit ?? defaults.unit ?? Device.defaultUnit,
            timeout: block.timeout ?? defaults.timeout ?? Device.defaultTimeout,
            maxRegisters: block.maxRegisters ?? defaults.maxRegisters ?? Device.defaultMaxRegisters,
            maxGap: block.maxGap ?? defaults.maxGap ?? 0,
            pauseAfterConnect: block.pauseAfterConnect ?? defaults.pauseAfterConnect ?? .zero,
            pauseBetweenRequests: block.pauseBetweenRequests ?? defaults.pauseBetweenRequests ?? .zero,
            description: block.description ?? defaults.description,
            polls: polls, location: block.location)
    }

    /// Checks that need the device's `max_registers`: every point, and every point with its
    /// scale factor, must fit one request.
    private mutating func checkLimits(of device: Device, parsedPolls: [[ParsedPoint]]) {
        for (pollIndex, poll) in device.polls.enumerated() {
            for point in poll.points where !point.table.holdsBits {
                if point.count > device.maxRegisters {
                    reader.error(at: point.location, "point '\(point.name)' spans \(point.count) registers, more than max_registers (\(device.maxRegisters)) of device '\(device.name)'")
                }
                if let factorIndex = point.scaleFactor {
                    let factor = poll.points[factorIndex]
                    let span = max(point.end, factor.end) - min(point.address, factor.address)
                    if span > device.maxRegisters {
                        let node = parsedPolls[pollIndex].first { $0.point.name == point.name }?.scaleFactorNode
                        let location = node.map { reader.location(of: $0) } ?? point.location
                        reader.error(at: location, "point '\(point.name)' and its scale_factor '\(factor.name)' span \(span) registers; they must be read in one request of at most max_registers (\(device.maxRegisters))")
                    }
                }
            }
        }
    }

    // MARK: Polls

    private mutating func parsePolls(_ node: Node) -> ([Poll], [[ParsedPoint]]) {
        guard let items = reader.sequence(node, "polls") else { return ([], []) }
        if items.isEmpty {
            reader.error(at: node, "'polls' is empty: list at least one poll")
        }
        var drafts: [(name: String?, nameNode: Node?, interval: Duration, points: [ParsedPoint], line: Int)] = []
        var pointNames: [String: Int] = [:]
        var pollOfPoint: [String: String] = [:]
        for item in items {
            guard let entries = reader.mapping(item, "a poll") else { continue }
            reader.checkKeys(entries, allowed: MapKeys.poll, in: "a poll")
            let byKey = Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
            let name = byKey["name"].flatMap { reader.string($0.value, "the poll name") }
            if byKey["name"] == nil { reader.error(at: item, "the poll has no 'name'") }
            var interval = Poll.defaultInterval
            if let entry = byKey["interval"], let parsedInterval = reader.duration(entry.value, "interval") {
                interval = parsedInterval
            }
            if let entry = byKey["description"] { _ = reader.string(entry.value, "description") }
            var points: [ParsedPoint] = []
            if let entry = byKey["points"] {
                if let pointNodes = reader.sequence(entry.value, "points") {
                    if pointNodes.isEmpty { reader.error(at: entry.value, "'points' is empty: list at least one point") }
                    for pointNode in pointNodes {
                        guard let point = parsePoint(pointNode) else { continue }
                        if let line = pointNames[point.point.name] {
                            reader.error(at: point.point.location, "duplicate point name '\(point.point.name)' (first defined at line \(line))")
                            continue
                        }
                        pointNames[point.point.name] = point.point.location.line
                        pollOfPoint[point.point.name] = name ?? "?"
                        points.append(point)
                    }
                }
            } else {
                reader.error(at: item, "poll '\(name ?? "?")' has no 'points'")
            }
            drafts.append((name, byKey["name"]?.value, interval, points, reader.location(of: item).line))
        }
        var polls: [Poll] = []
        var parsed: [[ParsedPoint]] = []
        var pollNames: [String: Int] = [:]
        for var draft in drafts {
            resolveScaleFactors(&draft.points, pollName: draft.name ?? "?", pollOfPoint: pollOfPoint)
            guard let name = draft.name else { continue }
            if let line = pollNames[name] {
                reader.error(at: draft.nameNode!, "duplicate poll name '\(name)' (first defined at line \(line))")
                continue
            }
            pollNames[name] = draft.line
            polls.append(Poll(name: name, interval: draft.interval, points: draft.points.map(\.point)))
            parsed.append(draft.points)
        }
        return (polls, parsed)
    }

    // MARK: Points

    private mutating func parsePoint(_ node: Node) -> ParsedPoint? {
        guard let entries = reader.mapping(node, "a point") else { return nil }
        reader.checkKeys(entries, allowed: MapKeys.point, in: "a point")
        let byKey = Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let location = reader.location(of: node)
        let errorsBefore = reader.diagnostics.count

        let name = byKey["name"].flatMap { reader.string($0.value, "the point name") }
        if byKey["name"] == nil { reader.error(at: node, "the point has no 'name'") }
        let label = name.map { "point '\($0)'" } ?? "the point"

        var table: Table?
        if let entry = byKey["table"] {
            if let text = reader.string(entry.value, "table") {
                table = Table(rawValue: text)
                if table == nil {
                    let hint = Suggestion.hint(for: text, among: Table.allCases.map(\.rawValue))
                    reader.error(at: entry.value, "unknown table '\(text)' (expected coil, discrete, holding or input)\(hint)")
                }
            }
        } else {
            reader.error(at: node, "\(label) has no 'table'")
        }

        let address = byKey["address"].flatMap { reader.integer($0.value, "address", in: 0...65535) }
        if byKey["address"] == nil { reader.error(at: node, "\(label) has no 'address'") }

        var type: ValueType?
        if let entry = byKey["type"] {
            if let text = reader.string(entry.value, "type") {
                type = ValueType(rawValue: text)
                if type == nil {
                    let names = ValueType.allCases.map(\.rawValue)
                    let hint = Suggestion.hint(for: text, among: names)
                    reader.error(at: entry.value, "unknown type '\(text)' (expected one of \(names.joined(separator: ", ")))\(hint)")
                } else if let table, table.holdsBits, type != .bool {
                    reader.error(at: entry.value, "a \(table.rawValue) point is always bool, not \(text)")
                    type = nil
                }
            }
        } else if let table, table.holdsBits {
            type = .bool
        } else if table != nil {
            reader.error(at: node, "\(label) has no 'type'")
        }

        var bit: Int?
        if let entry = byKey["bit"] {
            if let table, table.holdsBits {
                reader.error(at: entry.keyNode, "'bit' does not apply to a \(table.rawValue) point (it is a single bit already)")
            } else if let type, type != .bool {
                reader.error(at: entry.keyNode, "'bit' applies only to bool points, not \(type.rawValue)")
            } else {
                bit = reader.integer(entry.value, "bit", in: 0...15)
            }
        } else if type == .bool, let table, !table.holdsBits {
            reader.error(at: node, "\(label) is a bool in a \(table.rawValue) register and needs 'bit' (0-15)")
        }

        var length: Int?
        if let entry = byKey["length"] {
            if let type, type != .string {
                reader.error(at: entry.keyNode, "'length' applies only to strings, not \(type.rawValue)")
            } else {
                length = reader.integer(entry.value, "length", in: 1...125)
            }
        } else if type == .string {
            reader.error(at: node, "\(label) is a string and needs 'length' (registers)")
        }

        var order = ByteOrder.abcd
        if let entry = byKey["order"], let type {
            if let text = reader.string(entry.value, "order") {
                if type == .bool {
                    reader.error(at: entry.keyNode, "'order' does not apply to bool")
                } else if let parsed = ByteOrder(name: text, for: type) {
                    order = parsed
                } else {
                    let names = ByteOrder.names(for: type)
                    reader.error(at: entry.value, "order '\(text)' does not fit \(type.rawValue) (expected \(names.joined(separator: ", ")))")
                }
            }
        }

        let numeric = type.map { $0 != .bool && $0 != .string } ?? true
        var scale: DecimalNumber?
        var offset: DecimalNumber?
        for key in ["scale", "offset"] {
            guard let entry = byKey[key] else { continue }
            if !numeric {
                reader.error(at: entry.keyNode, "'\(key)' applies only to numbers, not \(type?.rawValue ?? "?")")
                continue
            }
            guard let number = reader.number(entry.value, key) else { continue }
            if key == "scale" {
                if number.isZero { reader.error(at: entry.value, "scale must not be 0") } else { scale = number }
            } else {
                offset = number
            }
        }

        var scaleFactorName: String?
        if let entry = byKey["scale_factor"] {
            if !numeric {
                reader.error(at: entry.keyNode, "'scale_factor' applies only to numbers, not \(type?.rawValue ?? "?")")
            } else if scale != nil || offset != nil {
                reader.error(at: entry.keyNode, "'scale_factor' cannot be combined with 'scale' or 'offset'")
            } else {
                scaleFactorName = reader.string(entry.value, "scale_factor")
            }
        }

        var noData = PointDecoding.NoData.none
        if let entry = byKey["nodata"] {
            if type == .string {
                if let values = reader.sequence(entry.value, "nodata") {
                    for value in values {
                        guard case .scalar(let scalar) = value else {
                            reader.error(at: value, "a nodata value of a string point must be text, not \(reader.kind(of: value))")
                            continue
                        }
                        // Compared like the decoded value: trailing NULs and spaces removed.
                        var text = scalar.string
                        while let last = text.last, last == " " || last == "\u{0}" { text.removeLast() }
                        noData.strings.insert(text)
                    }
                }
            } else if let type, !numeric {
                reader.error(at: entry.keyNode, "'nodata' applies only to numbers and strings, not \(type.rawValue)")
            } else if let type, let values = reader.sequence(entry.value, "nodata") {
                let probe = PointDecoding(type: type)
                for value in values {
                    if type.isFloat {
                        if let special = specialFloat(value) {
                            noData.floats.append(special)
                        } else if let number = reader.number(value, "a nodata value") {
                            noData.floats.append(number.double)
                        }
                    } else if let integer = reader.integerValue(value) {
                        if let pattern = probe.pattern(of: Int64(integer)) {
                            noData.patterns.insert(pattern)
                        } else {
                            reader.error(at: value, "nodata value \(integer) does not fit \(type.rawValue)")
                        }
                    } else {
                        reader.error(at: value, "a nodata value of a \(type.rawValue) point must be an integer, not \(reader.describe(value))")
                    }
                }
            }
        }

        var labels: [UInt64: String] = [:]
        if let entry = byKey["labels"] {
            if let type, !type.isInteger {
                reader.error(at: entry.keyNode, "'labels' applies only to integer points, not \(type.rawValue)")
            } else if let type, let pairs = reader.mapping(entry.value, "labels") {
                let probe = PointDecoding(type: type)
                for pair in pairs {
                    guard let raw = YAMLReader.parseInteger(pair.key) else {
                        reader.error(at: pair.keyNode, "a label key must be an integer raw value, not '\(pair.key)'")
                        continue
                    }
                    guard let pattern = probe.pattern(of: Int64(raw)) else {
                        reader.error(at: pair.keyNode, "label key \(raw) does not fit \(type.rawValue)")
                        continue
                    }
                    if let text = reader.string(pair.value, "a label") { labels[pattern] = text }
                }
            }
        }

        let unit = byKey["unit"].flatMap { reader.string($0.value, "unit") }
        let description = byKey["description"].flatMap { reader.string($0.value, "description") }

        guard reader.diagnostics.count == errorsBefore, let name, let table, let address, let type else {
            return nil
        }
        let scaling = (scale != nil || offset != nil)
            ? Scaling(scale: scale ?? DecimalNumber(mantissa: 1, exponent: 0), offset: offset ?? DecimalNumber(mantissa: 0, exponent: 0))
            : nil
        let decoding = PointDecoding(
            type: type, order: order, bit: bit, registerCount: type == .string ? length : nil,
            scaling: scaling, noData: noData, labels: labels)
        let point = Point(
            name: name, table: table, address: address, decoding: decoding, unit: unit,
            description: description, location: location)
        if point.end > 65536 {
            reader.error(at: byKey["address"]!.value, "point '\(name)' runs past address 65535 (address \(address) + \(point.count) registers)")
            return nil
        }
        return ParsedPoint(
            point: point, scaleFactorName: scaleFactorName, scaleFactorNode: byKey["scale_factor"]?.value,
            hasScaleOrOffset: scaling != nil)
    }

    private func specialFloat(_ node: Node) -> Double? {
        guard case .scalar(let scalar) = node else { return nil }
        switch scalar.string.lowercased() {
        case ".nan", "nan": return .nan
        case ".inf", "+.inf", "inf": return .infinity
        case "-.inf", "-inf": return -.infinity
        default: return nil
        }
    }

    private mutating func resolveScaleFactors(_ points: inout [ParsedPoint], pollName: String, pollOfPoint: [String: String]) {
        let indexByName = Dictionary(points.enumerated().map { ($1.point.name, $0) }, uniquingKeysWith: { first, _ in first })
        for index in points.indices {
            guard let factorName = points[index].scaleFactorName, let node = points[index].scaleFactorNode else { continue }
            let point = points[index].point
            guard let factorIndex = indexByName[factorName] else {
                if let other = pollOfPoint[factorName] {
                    reader.error(at: node, "scale_factor '\(factorName)' is in poll '\(other)', not in poll '\(pollName)'; a point and its scale factor are read in one request of one poll")
                } else {
                    let hint = Suggestion.hint(for: factorName, among: points.map(\.point.name))
                    reader.error(at: node, "scale_factor '\(factorName)' is not a point of poll '\(pollName)'\(hint)")
                }
                continue
            }
            let factor = points[factorIndex].point
            let factorType = factor.decoding.type
            if factorIndex == index {
                reader.error(at: node, "point '\(point.name)' cannot be its own scale_factor")
            } else if !factorType.isInteger || factorType == .bcd16 || factorType == .bcd32 {
                reader.error(at: node, "scale_factor '\(factorName)' is a \(factorType.rawValue) point; it must be an integer point (SunSpec uses int16)")
            } else if points[factorIndex].scaleFactorName != nil {
                reader.error(at: node, "scale_factor '\(factorName)' has a scale_factor of its own")
            } else if points[factorIndex].hasScaleOrOffset {
                reader.error(at: node, "scale_factor '\(factorName)' is scaled itself; a scale factor must be a raw integer")
            } else if factor.table != point.table {
                reader.error(at: node, "scale_factor '\(factorName)' is in the \(factor.table.rawValue) table and '\(point.name)' in the \(point.table.rawValue) table; both must be read in one request")
            } else {
                points[index].point.scaleFactor = factorIndex
            }
        }
    }
}
