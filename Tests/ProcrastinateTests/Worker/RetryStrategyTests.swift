import Foundation
import Procrastinate
import Testing

@Suite struct RetryStrategyTests {
    struct Boom: Error {}
    struct Other: Error {}
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func waitsWithProcrastinatesFormula() throws {
        // wait + linear_wait * attempts + exponential_wait ** (attempts + 1): 8 + 3*4 + 2**5 = 52.
        let strategy = RetryStrategy(wait: 8, linearWait: 3, exponentialWait: 2)
        #expect(strategy.waitSeconds(attempts: 4) == 52)
        let decision = try #require(strategy.retryDecision(for: Boom(), attempts: 4, now: now))
        #expect(decision.retryAt == now.addingTimeInterval(52))
        #expect(decision.priority == nil && decision.queue == nil && decision.lock == nil)
    }

    @Test func farRetriesStopAtYear9999() throws {
        let decision = try #require(RetryStrategy(exponentialWait: 5).retryDecision(for: Boom(), attempts: 20, now: now))
        #expect(decision.retryAt == Date(timeIntervalSince1970: 253_402_300_799))
    }

    @Test func maxAttemptsCountsRetries() {
        let strategy = RetryStrategy(maxAttempts: 2)
        #expect(strategy.retryDecision(for: Boom(), attempts: 0, now: now) != nil)
        #expect(strategy.retryDecision(for: Boom(), attempts: 1, now: now) != nil)
        #expect(strategy.retryDecision(for: Boom(), attempts: 2, now: now) == nil)
        // No limit.
        #expect(RetryStrategy().retryDecision(for: Boom(), attempts: 1000, now: now) != nil)
        #expect(RetryStrategy(maxAttempts: 0).retryDecision(for: Boom(), attempts: 1000, now: now) != nil)
    }

    @Test func retryOnFiltersErrors() {
        let byType = RetryStrategy(retryOn: [Boom.self])
        #expect(byType.retryDecision(for: Boom(), attempts: 0, now: now) != nil)
        #expect(byType.retryDecision(for: Other(), attempts: 0, now: now) == nil)
        let byPredicate = RetryStrategy { $0 is Other }
        #expect(byPredicate.retryDecision(for: Other(), attempts: 0, now: now) != nil)
        #expect(byPredicate.retryDecision(for: Boom(), attempts: 0, now: now) == nil)
    }

    @Test func customPoliciesDecideEverything() {
        struct MoveToSlowQueue: RetryPolicy {
            func retryDecision(for error: any Error, attempts: Int, now: Date) -> RetryDecision? {
                attempts < 1 ? RetryDecision(retryIn: .seconds(10), priority: -1, queue: "slow", lock: "one", now: now) : nil
            }
        }
        let decision = MoveToSlowQueue().retryDecision(for: Boom(), attempts: 0, now: now)
        #expect(decision == RetryDecision(retryAt: now.addingTimeInterval(10), priority: -1, queue: "slow", lock: "one"))
    }
}
