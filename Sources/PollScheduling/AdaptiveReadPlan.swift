import DeviceMaps
import ModbusProtocol
import RequestPlanning

/// The reads of one poll as the device allows them, adapting when it refuses some.
///
/// A read spanning several points that the device refuses (exception 2 or 3) is split in
/// halves, and the halves are probed until the refused points are found; the other points
/// are delivered. The probing is paced for fragile devices: a cycle sends at most
/// ``probesPerCycle`` probes (and retries) besides the trusted reads, so a cycle never sends
/// more than twice the poll's planned reads; parts not yet probed report the refusal of the
/// read they came from until their turn comes. A read refused on its own is tried again
/// after one interval, then after twice as long each time, up to ``longestRetryWait``: a
/// transient refusal (a gateway whose device reboots) clears within seconds, a register that
/// never exists costs one request a minute. Answered reads left side by side are joined again.
struct AdaptiveReadPlan {
    /// Why the device did not answer a read, as reported for its points.
    struct Refusal: Hashable {
        /// The exception (2 or 3).
        var exception: ExceptionCode
        /// Its sentence.
        var message: String
    }

    /// What is known of one read.
    enum Status: Hashable {
        /// Answered: read every cycle.
        case trusted
        /// Part of a refused read, not tried on its own yet: reports the refusal until probed.
        case unprobed(Refusal)
        /// Refused on its own: reports the refusal without a request until `retryAt`.
        case refused(Refusal, retryAt: MonotonicInstant, wait: Duration)
    }

    /// A read and what is known of it.
    struct Entry: Hashable {
        var read: PlannedRead
        var status: Status
    }

    /// The longest wait between two tries of a refused read.
    static let longestRetryWait = Duration.seconds(60)
    /// The shortest first wait (for `interval: 0` polls).
    static let shortestRetryWait = Duration.milliseconds(100)

    /// The reads, by table and address.
    private(set) var entries: [Entry]
    /// Probes and retries a cycle may send besides the trusted reads: the planned read count.
    let probesPerCycle: Int
    /// The first wait before a refused read is tried again.
    let firstRetryWait: Duration
    private let maxRegisters: Int

    /// The plan for `poll` of `device`, before the device has refused anything.
    init(poll: Poll, device: Device) {
        let reads = RequestPlanner.plan(poll, maxRegisters: device.maxRegisters, maxGap: device.maxGap)
        entries = reads.map { Entry(read: $0, status: .trusted) }
        probesPerCycle = max(reads.count, 1)
        firstRetryWait = max(poll.interval, Self.shortestRetryWait)
        maxRegisters = device.maxRegisters
    }

    /// What a cycle does with a read.
    enum Step {
        /// Send it; `probe` when it counts against ``probesPerCycle``.
        case send(probe: Bool)
        /// Report this refusal for its points, without a request; `probed` when the read was
        /// refused on its own, not only as part of a larger one.
        case report(Refusal, probed: Bool)
    }

    /// Whether the read at `index` is sent this cycle, given the probes left.
    func step(at index: Int, now: MonotonicInstant, probesLeft: Int) -> Step {
        switch entries[index].status {
        case .trusted:
            return .send(probe: false)
        case .unprobed(let refusal):
            return probesLeft > 0 ? .send(probe: true) : .report(refusal, probed: false)
        case .refused(let refusal, let retryAt, _):
            // Parts never probed go first: a retry takes a probe only when they leave one.
            return now >= retryAt && probesLeft > unprobedCount ? .send(probe: true) : .report(refusal, probed: true)
        }
    }

    /// What changed when a read was answered or refused, for the poll's summary log line.
    enum Change: Hashable {
        /// A read refused on its own: its points report the refusal.
        case refused(PlannedRead, Refusal)
        /// A refused read that is answered again.
        case answeredAgain(PlannedRead)
    }

    /// The read at `index` was answered.
    mutating func answered(at index: Int) -> Change? {
        defer { entries[index].status = .trusted }
        switch entries[index].status {
        case .refused: return .answeredAgain(entries[index].read)
        case .unprobed: unprobedCount -= 1
        case .trusted: break
        }
        return nil
    }

    /// The read at `index` was refused with exception 2 or 3.
    ///
    /// - Returns: whether it was split (the halves now stand at `index` and `index + 1`, not
    ///   yet probed), and the change to log when it is now refused on its own.
    mutating func refused(at index: Int, _ refusal: Refusal, now: MonotonicInstant) -> (split: Bool, change: Change?) {
        let entry = entries[index]
        if case .unprobed = entry.status { unprobedCount -= 1 }
        if let (left, right) = entry.read.bisected() {
            entries.replaceSubrange(index...index, with: [Entry(read: left, status: .unprobed(refusal)), Entry(read: right, status: .unprobed(refusal))])
            unprobedCount += 2
            return (true, nil)
        }
        switch entry.status {
        case .refused(_, _, let wait):
            let longer = min(wait * 2, Self.longestRetryWait)
            entries[index].status = .refused(refusal, retryAt: now + longer, wait: longer)
            return (false, nil)
        case .trusted, .unprobed:
            entries[index].status = .refused(refusal, retryAt: now + firstRetryWait, wait: firstRetryWait)
            return (false, .refused(entry.read, refusal))
        }
    }

    /// Reads not yet probed on their own.
    private(set) var unprobedCount = 0

    /// Joins answered reads that probing left side by side: two trusted reads of one table
    /// whose ranges touch (no unverified register between them) become one, within the limit.
    /// Refused and unprobed reads stay apart, so no read ever spans a refused range again.
    mutating func consolidate() {
        var merged: [Entry] = []
        for entry in entries {
            if let last = merged.last, last.status == .trusted, entry.status == .trusted,
                last.read.table == entry.read.table, last.read.end == entry.read.start,
                entry.read.end - last.read.start <= limit(for: entry.read.table)
            {
                merged[merged.count - 1] = Entry(read: PlannedRead(table: entry.read.table, segments: last.read.segments + entry.read.segments), status: .trusted)
            } else {
                merged.append(entry)
            }
        }
        entries = merged
    }

    private func limit(for table: Table) -> Int {
        table.holdsBits ? table.maximumReadCount : min(maxRegisters, table.maximumReadCount)
    }
}
