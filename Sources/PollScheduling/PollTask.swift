import DeviceMaps
import ModbusProtocol

/// The running state of one poll of one device: its schedule, its adaptive read plan, and
/// how many lines it has produced.
final class PollTask {
    let device: Device
    let poll: Poll
    let layout: PollLayout
    var schedule: CycleSchedule
    var plan: AdaptiveReadPlan
    var emitted = 0
    var pendingMissed = 0
    let limit: Int?

    /// Creates the task; its schedule starts when ``begin(at:)`` says.
    init(device: Device, poll: Poll, limit: Int?) {
        self.device = device
        self.poll = poll
        self.layout = PollLayout(
            device: device.name, poll: poll.name, pointNames: poll.points.map(\.name), units: poll.points.map(\.unit))
        self.schedule = CycleSchedule(start: MonotonicInstant(nanoseconds: 0), interval: poll.interval)
        self.plan = AdaptiveReadPlan(poll: poll, device: device)
        self.limit = limit
    }

    /// Sets cycle 0 at `start`.
    func begin(at start: MonotonicInstant) {
        schedule = CycleSchedule(start: start, interval: poll.interval)
    }

    /// Whether the poll has produced all the lines it was asked for.
    var isFinished: Bool {
        limit.map { emitted >= $0 } ?? false
    }
}
