import DeviceMaps
import ModbusProtocol
import RequestPlanning

/// The running state of one poll of one device: its schedule, its current read plan (which
/// adapts when the device refuses ranges), and how many lines it has produced.
final class PollTask {
    let device: Device
    let poll: Poll
    let layout: PollLayout
    var schedule: CycleSchedule
    var reads: [ReadState]
    var emitted = 0
    var pendingMissed = 0
    let limit: Int?

    /// A planned read, and whether the device has refused it.
    struct ReadState {
        var read: PlannedRead
        var refusal: Refusal?
    }

    /// A read the device answered with exception 2 or 3, on its own: its points report the
    /// exception without a request until `retryAt`, when it is tried again.
    struct Refusal {
        var exception: ExceptionCode
        var message: String
        var retryAt: MonotonicInstant
    }

    init(device: Device, poll: Poll, start: MonotonicInstant, limit: Int?) {
        self.device = device
        self.poll = poll
        self.layout = PollLayout(
            device: device.name, poll: poll.name, pointNames: poll.points.map(\.name), units: poll.points.map(\.unit))
        self.schedule = CycleSchedule(start: start, interval: poll.interval)
        self.reads = RequestPlanner.plan(poll, maxRegisters: device.maxRegisters, maxGap: device.maxGap)
            .map { ReadState(read: $0, refusal: nil) }
        self.limit = limit
    }

    /// Joins reads that bisection left side by side: two answered reads of one table whose
    /// ranges touch (no unverified register between them) become one, within the limit. Refused
    /// reads stay apart, so no read ever spans a refused range again.
    func consolidate() {
        var merged: [ReadState] = []
        for state in reads {
            if let last = merged.last, last.refusal == nil, state.refusal == nil,
                last.read.table == state.read.table, last.read.end == state.read.start,
                state.read.end - last.read.start <= limit(for: state.read.table)
            {
                merged[merged.count - 1] = ReadState(
                    read: PlannedRead(table: state.read.table, segments: last.read.segments + state.read.segments), refusal: nil)
            } else {
                merged.append(state)
            }
        }
        reads = merged
    }

    private func limit(for table: Table) -> Int {
        table.holdsBits ? table.maximumReadCount : min(device.maxRegisters, table.maximumReadCount)
    }

    /// Whether the poll has produced all the lines it was asked for.
    var isFinished: Bool {
        limit.map { emitted >= $0 } ?? false
    }
}
