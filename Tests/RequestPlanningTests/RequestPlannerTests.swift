import ModbusProtocol
import RequestPlanning
import Testing

@Suite struct RequestPlannerTests {
    func items(_ spans: [(Int, Int)]) -> [RequestPlanner.Item] {
        spans.enumerated().map { RequestPlanner.Item(index: $0, start: $1.0, end: $1.0 + $1.1) }
    }

    @Test func mergesAdjacentPointsIntoOneRead() {
        let reads = RequestPlanner.plan(items([(0, 1), (1, 2), (3, 1)]), table: .holding, limit: 125, maxGap: 0)
        #expect(reads.map { [$0.start, $0.count] } == [[0, 4]])
        #expect(reads[0].points == [0, 1, 2])
    }

    @Test func neverReadsAcrossMoreThanMaxGapUnmappedRegisters() {
        let spans = [(0, 1), (3, 1), (10, 1)]
        #expect(RequestPlanner.plan(items(spans), table: .holding, limit: 125, maxGap: 0).count == 3)
        #expect(RequestPlanner.plan(items(spans), table: .holding, limit: 125, maxGap: 2).map { [$0.start, $0.count] } == [[0, 4], [10, 1]])
        #expect(RequestPlanner.plan(items(spans), table: .holding, limit: 125, maxGap: 6).map { [$0.start, $0.count] } == [[0, 11]])
    }

    @Test func sharesOneReadBetweenPointsOnTheSameRegister() {
        let reads = RequestPlanner.plan(items([(7, 1), (7, 1), (6, 2)]), table: .holding, limit: 1, maxGap: 0)
        #expect(reads.count == 2, "a limit of 1 cannot hold the 2-register point with the others")
        let shared = RequestPlanner.plan(items([(7, 1), (7, 1), (7, 1)]), table: .holding, limit: 1, maxGap: 0)
        #expect(shared.map { [$0.start, $0.count] } == [[7, 1]])
    }
}
