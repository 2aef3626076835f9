import PollScheduling
import Testing

@Suite struct CycleScheduleTests {
    let origin = MonotonicInstant(nanoseconds: 1_000_000_000)

    func at(_ milliseconds: Int64) -> MonotonicInstant {
        origin + .milliseconds(milliseconds)
    }

    @Test func cyclesStartAtFixedMultiplesOfTheIntervalWhateverTheyCost() {
        var schedule = CycleSchedule(start: origin, interval: .milliseconds(100))
        #expect(schedule.take(at: at(-1)) == nil, "nothing is due before the start")
        #expect(schedule.take(at: at(0))?.cycle == 0)
        // The first cycle took 70 ms; the next is still due at 100 ms, not at 170.
        #expect(schedule.nextDue == at(100))
        #expect(schedule.take(at: at(99)) == nil)
        let second = schedule.take(at: at(103))
        #expect(second?.cycle == 1)
        #expect(second?.due == at(100))
        #expect(second?.missed == 0)
        #expect(schedule.nextDue == at(200))
    }

    @Test func aCycleThatCannotStartInItsSlotIsSkippedAndCounted() {
        var schedule = CycleSchedule(start: origin, interval: .milliseconds(100))
        _ = schedule.take(at: at(0))
        // The previous cycle overran to 350 ms: cycles 1 and 2 lost their slots.
        let late = schedule.take(at: at(350))
        #expect(late?.cycle == 3)
        #expect(late?.missed == 2)
        #expect(late?.due == at(300))
        #expect(schedule.nextDue == at(400))
    }

    @Test func intervalZeroRunsBackToBack() {
        var schedule = CycleSchedule(start: origin, interval: .zero)
        for cycle in Int64(0)..<5 {
            let slot = schedule.take(at: at(cycle * 7))
            #expect(slot?.cycle == cycle)
            #expect(slot?.missed == 0)
        }
    }

    @Test func backoffDoublesFromAboutOneIntervalUpToItsCap() {
        var backoff = Backoff(interval: .seconds(1))
        let waits = (0..<8).map { _ in backoff.failed(jitter: 1.0) }
        #expect(waits == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30), .seconds(30)])
        backoff.succeeded()
        #expect(backoff.failed(jitter: 1.2) == .milliseconds(1200))
        var slow = Backoff(interval: .seconds(300))
        #expect(slow.failed(jitter: 1.0) == .seconds(300), "a poll slower than the cap retries once per interval")
        var fast = Backoff(interval: .zero)
        #expect(fast.failed(jitter: 1.0) == .milliseconds(100))
    }
}
