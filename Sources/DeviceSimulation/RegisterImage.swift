import ModbusProtocol

/// Serves a ``Fixture`` as a Modbus device: the simulator's request handler.
///
/// - A read touching any address missing from the image gets exception 2 (illegal data
///   address); a unit not in the image gets exception 11 (gateway target failed to respond).
/// - Values that change over time are computed at the moment of the read.
/// - Writes (function codes 5, 6, 15, 16) change the image, only where every address written
///   exists; a write to a changing value stops its change.
///
/// Each unit has its own lock; requests from many connections run concurrently.
public final class RegisterImage: ModbusRequestHandler, @unchecked Sendable {
    private let units: [UnitID: Locked<UnitState>]
    private let elapsedSeconds: @Sendable () -> Double

    private struct UnitState: Sendable {
        var tables: [Table: [Fixture.Block]]
        var dynamics: [Fixture.Dynamic]
        var walks: [Int: WalkState] = [:]
    }

    private struct WalkState {
        var steps: Int
        var value: Double
        var random: SplitMix64
    }

    /// Creates an image serving `fixture`.
    ///
    /// - Parameter elapsedSeconds: seconds since the simulator started, for changing values.
    public init(fixture: Fixture, elapsedSeconds: @escaping @Sendable () -> Double) {
        var units: [UnitID: Locked<UnitState>] = [:]
        for (unit, image) in fixture.units {
            units[unit] = Locked(UnitState(tables: image.tables, dynamics: fixture.dynamics[unit] ?? []))
        }
        self.units = units
        self.elapsedSeconds = elapsedSeconds
    }

    public func reply(to request: ServerRequest) -> ServerReply {
        guard let unit = units[request.unit] else {
            return .exception(.gatewayTargetFailedToRespond)
        }
        let now = elapsedSeconds()
        return unit.withLock { state in
            switch request.operation {
            case .read(let table, let range):
                guard var values = Self.values(in: state.tables[table] ?? [], start: Int(range.start), count: range.count) else {
                    return .exception(.illegalDataAddress)
                }
                for (index, dynamic) in state.dynamics.enumerated() where dynamic.table == table {
                    let start = dynamic.start
                    guard start < range.end, start + dynamic.count > Int(range.start) else { continue }
                    let current = Self.current(dynamic, index: index, at: now, walks: &state.walks)
                    for (offset, value) in current.enumerated() {
                        let address = start + offset
                        if range.contains(address) { values[address - Int(range.start)] = value }
                    }
                }
                return .values(values)
            case .writeCoil(let address, let value):
                return Self.write(&state, table: .coil, start: Int(address), values: [value ? 1 : 0])
            case .writeRegister(let address, let value):
                return Self.write(&state, table: .holding, start: Int(address), values: [value])
            case .writeCoils(let start, let values):
                return Self.write(&state, table: .coil, start: Int(start), values: values.map { $0 ? 1 : 0 })
            case .writeRegisters(let start, let values):
                return Self.write(&state, table: .holding, start: Int(start), values: values)
            }
        }
    }

    /// The values at `start ..< start + count`, or `nil` when an address is missing.
    private static func values(in blocks: [Fixture.Block], start: Int, count: Int) -> [UInt16]? {
        guard let block = blockIndex(in: blocks, containing: start).map({ blocks[$0] }), start + count <= block.end else {
            return nil
        }
        let offset = start - block.start
        return Array(block.values[offset..<offset + count])
    }

    /// The block containing `address` (blocks are sorted, disjoint, and never adjacent).
    private static func blockIndex(in blocks: [Fixture.Block], containing address: Int) -> Int? {
        var low = 0
        var high = blocks.count
        while low < high {
            let middle = (low + high) / 2
            if blocks[middle].end <= address { low = middle + 1 } else { high = middle }
        }
        guard low < blocks.count, blocks[low].start <= address else { return nil }
        return low
    }

    private static func write(_ state: inout UnitState, table: Table, start: Int, values: [UInt16]) -> ServerReply {
        guard let index = blockIndex(in: state.tables[table] ?? [], containing: start),
            start + values.count <= state.tables[table]![index].end
        else { return .exception(.illegalDataAddress) }
        let offset = start - state.tables[table]![index].start
        state.tables[table]![index].values.replaceSubrange(offset..<offset + values.count, with: values)
        let end = start + values.count
        state.dynamics.removeAll { $0.table == table && $0.start < end && $0.start + $0.count > start }
        state.walks = [:]
        return .written
    }

    /// A dynamic value now; random walks advance from their last computed step, not from 0.
    private static func current(_ dynamic: Fixture.Dynamic, index: Int, at seconds: Double, walks: inout [Int: WalkState]) -> [UInt16] {
        guard case .walk(let start, let step, let low, let high, let every, let seed) = dynamic.generator else {
            return dynamic.values(at: seconds)
        }
        var walk = walks[index] ?? WalkState(steps: 0, value: start, random: SplitMix64(seed: seed))
        let target = Int(min(seconds / every, 1e12))
        while walk.steps < target {
            let unit = Double(walk.random.next() >> 11) / Double(UInt64(1) << 53)
            walk.value = min(max(walk.value + (unit * 2 - 1) * step, low), high)
            walk.steps += 1
        }
        walks[index] = walk
        var fixed = dynamic
        fixed.generator = .counter(start: walk.value, step: 0, every: 1)
        return fixed.values(at: 0)
    }
}
