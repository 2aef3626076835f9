import DeviceMaps
import ModbusProtocol
import RegisterDecoding
import RequestPlanning
import Testing

/// Properties every plan must have, over thousands of generated maps (seeded), and optimality
/// against an independent brute-force planner on small maps.
@Suite struct PlannerInvariantTests {
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    struct Case {
        var items: [RequestPlanner.Item]
        var limit: Int
        var maxGap: Int
    }

    /// Points at random addresses in a small window (so they collide, touch and overlap), some
    /// linked in pairs, with a limit at least as wide as any group that must be read together.
    static func generate(_ random: inout Random, maxPoints: Int, window: Int) -> Case {
        let count = 1 + random.next(maxPoints)
        var items: [RequestPlanner.Item] = []
        for index in 0..<count {
            let start = random.next(window)
            let width = 1 + random.next(4)
            let linked = index > 0 && random.next(6) == 0 ? random.next(index) : nil
            items.append(RequestPlanner.Item(index: index, start: start, end: start + width, linkedTo: linked))
        }
        // The widest group that must share a read: overlap chains and links, closed transitively.
        let widest = mustShareWidth(items)
        let limit = widest + random.next(12)
        return Case(items: items, limit: limit, maxGap: random.next(4))
    }

    static func mustShareWidth(_ items: [RequestPlanner.Item]) -> Int {
        var spans = items.map { ($0.start, $0.end) }
        for item in items {
            guard let other = item.linkedTo else { continue }
            let union = (min(item.start, items[other].start), max(item.end, items[other].end))
            spans[item.index] = (min(spans[item.index].0, union.0), max(spans[item.index].1, union.1))
            spans[other] = (min(spans[other].0, union.0), max(spans[other].1, union.1))
        }
        spans.sort { $0 < $1 }
        var widest = 0
        var current = spans[0]
        for span in spans.dropFirst() {
            if span.0 < current.1 { current.1 = max(current.1, span.1) } else {
                widest = max(widest, current.1 - current.0)
                current = span
            }
        }
        return max(widest, current.1 - current.0)
    }

    /// The checks every plan must pass; returns (reads, registers).
    @discardableResult
    static func check(_ reads: [PlannedRead], _ testCase: Case, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> (Int, Int) {
        let served = reads.flatMap(\.points).sorted()
        #expect(served == testCase.items.map(\.index).sorted(), "every point in exactly one read", sourceLocation: sourceLocation)
        for read in reads {
            #expect(read.count <= testCase.limit, "no read over its limit", sourceLocation: sourceLocation)
            for index in read.points {
                let item = testCase.items[index]
                #expect(item.start >= read.start && item.end <= read.end, "a read covers its points", sourceLocation: sourceLocation)
                if let linked = item.linkedTo {
                    #expect(read.points.contains(linked), "a point and its scale factor share a read", sourceLocation: sourceLocation)
                }
            }
            for (left, right) in zip(read.segments, read.segments.dropFirst()) {
                #expect(right.start - left.end <= testCase.maxGap, "no gap over max_gap", sourceLocation: sourceLocation)
            }
        }
        let sorted = reads.sorted { $0.start < $1.start }
        for (left, right) in zip(sorted, sorted.dropFirst()) {
            #expect(left.end <= right.start, "reads never overlap", sourceLocation: sourceLocation)
        }
        return (reads.count, reads.reduce(0) { $0 + $1.count })
    }

    @Test func everyPlanCoversEachPointOnceWithinItsLimitsAndGaps() {
        var random = Random(state: 7)
        for _ in 0..<5000 {
            let testCase = Self.generate(&random, maxPoints: 40, window: 120)
            Self.check(RequestPlanner.plan(testCase.items, table: .holding, limit: testCase.limit, maxGap: testCase.maxGap), testCase)
        }
    }

    @Test func thePlanDoesNotDependOnTheOrderOfPoints() {
        var random = Random(state: 11)
        for _ in 0..<2000 {
            let testCase = Self.generate(&random, maxPoints: 30, window: 100)
            var permutation = Array(testCase.items.indices)
            for position in permutation.indices.reversed() {
                permutation.swapAt(position, random.next(position + 1))
            }
            // Renumber the points as a shuffled map would, keeping links pointing at the same points.
            var newIndex = [Int](repeating: 0, count: permutation.count)
            for (new, old) in permutation.enumerated() { newIndex[old] = new }
            let shuffled = permutation.map { old in
                let item = testCase.items[old]
                return RequestPlanner.Item(index: newIndex[old], start: item.start, end: item.end, linkedTo: item.linkedTo.map { newIndex[$0] })
            }
            let original = RequestPlanner.plan(testCase.items, table: .input, limit: testCase.limit, maxGap: testCase.maxGap)
            let reordered = RequestPlanner.plan(shuffled, table: .input, limit: testCase.limit, maxGap: testCase.maxGap)
            let describe = { (reads: [PlannedRead], identity: (Int) -> Int) in
                reads.map { "\($0.start)+\($0.count):\($0.points.map(identity).sorted())" }
            }
            #expect(describe(original, { $0 }) == describe(reordered, { permutation[$0] }))
        }
    }

    /// An independent planner: tries every partition of the points into groups (each group one
    /// read spanning its points), keeps those whose reads fit the limit, span no gap over
    /// max_gap (the span between a point and its scale factor counts as covered), keep linked
    /// points together and never overlap, and returns the best (reads, registers).
    static func bruteForce(_ testCase: Case) -> (Int, Int) {
        let items = testCase.items
        var best = (Int.max, Int.max)
        var groups: [[Int]] = []
        func feasible(_ group: [Int]) -> (start: Int, end: Int)? {
            let start = group.map { items[$0].start }.min()!
            let end = group.map { items[$0].end }.max()!
            guard end - start <= testCase.limit else { return nil }
            var covered = [Bool](repeating: false, count: end - start)
            for index in group {
                var from = items[index].start
                var to = items[index].end
                // A point and its scale factor are read together with everything between them.
                if let linked = items[index].linkedTo, group.contains(linked) {
                    from = min(from, items[linked].start)
                    to = max(to, items[linked].end)
                }
                for address in from..<to { covered[address - start] = true }
            }
            var run = 0
            for flag in covered {
                run = flag ? 0 : run + 1
                if run > testCase.maxGap { return nil }
            }
            return (start, end)
        }
        func evaluate() {
            var ranges: [(Int, Int)] = []
            for group in groups {
                guard let range = feasible(group) else { return }
                ranges.append(range)
            }
            for item in items where item.linkedTo != nil {
                guard groups.contains(where: { $0.contains(item.index) && $0.contains(item.linkedTo!) }) else { return }
            }
            ranges.sort { $0 < $1 }
            for (left, right) in zip(ranges, ranges.dropFirst()) where left.1 > right.0 { return }
            let cost = (ranges.count, ranges.reduce(0) { $0 + $1.1 - $1.0 })
            if cost < best { best = cost }
        }
        func assign(_ index: Int) {
            if index == items.count {
                evaluate()
                return
            }
            for group in groups.indices {
                groups[group].append(index)
                assign(index + 1)
                groups[group].removeLast()
            }
            groups.append([index])
            assign(index + 1)
            groups.removeLast()
        }
        assign(0)
        return best
    }

    @Test func usesTheFewestReadsThenTheFewestRegistersOfAnyValidPlan() {
        var random = Random(state: 13)
        var compared = 0
        for _ in 0..<1500 {
            let testCase = Self.generate(&random, maxPoints: 7, window: 24)
            let plan = RequestPlanner.plan(testCase.items, table: .holding, limit: testCase.limit, maxGap: testCase.maxGap)
            let cost = Self.check(plan, testCase)
            let optimum = Self.bruteForce(testCase)
            #expect(cost.0 == optimum.0, "fewest reads")
            #expect(cost.1 == optimum.1, "fewest registers among the fewest reads")
            compared += 1
        }
        #expect(compared == 1500)
    }

    @Test func plansEveryTableOfAPollSeparatelyWithItsOwnLimit() throws {
        var points: [Point] = []
        let location = DeviceMaps.SourceLocation(file: "f", line: 1, column: 1)
        for address in stride(from: 0, to: 3000, by: 1) {
            points.append(Point(name: "c\(address)", table: .coil, address: address, decoding: PointDecoding(type: .bool), location: location))
        }
        for address in 0..<300 {
            points.append(Point(name: "h\(address)", table: .holding, address: address, decoding: PointDecoding(type: .uint16), location: location))
        }
        let reads = RequestPlanner.plan(Poll(name: "p", interval: .seconds(1), points: points), maxRegisters: 100, maxGap: 0)
        #expect(reads.filter { $0.table == .coil }.map(\.count) == [2000, 1000])
        #expect(reads.filter { $0.table == .holding }.map(\.count) == [100, 100, 100])
    }
}
