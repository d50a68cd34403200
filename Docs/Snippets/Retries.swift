import Foundation
import Procrastinate

// Article "Retries, timeouts and abort".

func retries(app: App) throws {
    _ = try app.task("charge", retry: RetryStrategy(maxAttempts: 5, exponentialWait: 2, retryOn: [PaymentsAPI.Unavailable.self])) {
        (charge: Charge) in
        try await PaymentsAPI.charge(order: charge.order)
    }

    _ = try app.task("poll_export", timeout: .seconds(30)) { (charge: Charge) in
        guard try await exportIsReady(charge.order) else { throw RetryJob(in: .seconds(10)) }
    }

    _ = try app.task("import_file") { (_: NoArguments, context: JobContext) in
        for chunk in 1...100 {
            guard !context.shouldAbort else { return }
            try await importChunk(chunk)
        }
    }
}

/// Retries at night, on a slower queue.
struct NightlyRetry: RetryPolicy {
    func retryDecision(for error: any Error, attempts: Int, now: Date) -> RetryDecision? {
        guard attempts < 3 else { return nil }
        return RetryDecision(retryIn: .seconds(6 * 3600), queue: "slow", now: now)
    }
}

func exportIsReady(_ order: Int) async throws -> Bool { true }
func importChunk(_ chunk: Int) async throws {}
