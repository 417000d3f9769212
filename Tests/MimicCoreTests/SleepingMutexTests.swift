import Dispatch
import MimicCore
import Testing

/// `SleepingMutex` serialises what it guards, hands back what the body returns or throws, and is free again after
/// either.
@Suite("SleepingMutex", .timeLimit(.minutes(1)))
struct SleepingMutexTests {
    @Test("increments from several threads at once all count")
    func exclusive() {
        let counter = SleepingMutex(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<10_000 { counter.withLock { $0 += 1 } }
        }
        #expect(counter.withLock { $0 } == 40_000)
    }

    struct Refused: Error, Equatable {}

    @Test("a body that throws leaves the value as it set it and the lock free")
    func throwing() {
        let box = SleepingMutex([1])
        #expect(throws: Refused()) {
            try box.withLock { (value: inout [Int]) throws(Refused) in
                value.append(2)
                throw Refused()
            }
        }
        #expect(box.withLock { $0 } == [1, 2])
    }
}
