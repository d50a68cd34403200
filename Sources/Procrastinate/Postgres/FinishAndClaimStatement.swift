import Foundation
import NIOCore
import PostgresNIO

/// `CALL procrastinate_swift_finish_and_claim_v1`, prepared once per connection: records
/// outcomes (none for a claim alone) and claims up to `limit` jobs (none for outcomes alone) in
/// one round trip, committed before it answers.
struct FinishAndClaimStatement: PostgresPreparedStatement {
    static let sql = """
        CALL procrastinate_swift_finish_and_claim_v1($1, $2::integer[], $3::text[]::procrastinate_job_status[], $4,
            $5::timestamptz[], $6::integer[], $7::varchar[], $8::varchar[], $9::varchar[], $10, $11, $12::varchar[],
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .int8Array, .int4Array, .textArray, .boolArray, .timestamptzArray, .int4Array, .textArray, .textArray,
        .textArray, .int8, .int4, .textArray,
    ]

    /// The outcomes left alone (their jobs no longer ran in the attempt given), and the jobs
    /// claimed, best first.
    typealias Row = (leftAlone: [Int64], fetched: [Job])

    var outcomes: [JobOutcome]
    var queues: [String]?
    var workerID: Int64?
    var limit: Int
    var taskNames: [String]?

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 12)
        bindings.append(outcomes.map(\.jobID))
        try bindings.append(NullableArray(outcomes.map { $0.attempts.map { Int32(clamping: $0) } }))
        bindings.append(outcomes.map(\.status.rawValue))
        bindings.append(outcomes.map(\.deleteJob))
        try bindings.append(NullableArray(outcomes.map(\.retry?.retryAt)))
        try bindings.append(NullableArray(outcomes.map { $0.retry?.priority.map { Int32(clamping: $0) } }))
        try bindings.append(NullableArray(outcomes.map(\.retry?.queue)))
        try bindings.append(NullableArray(outcomes.map(\.retry?.lock)))
        bindings.append(queues)
        bindings.append(workerID)
        bindings.append(Int32(clamping: limit))
        bindings.append(taskNames)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (leftAlone, ids, queues, tasks, priorities, locks, queueingLocks, arguments, scheduledAts, attempts, abortRequests, workerIDs) =
            try row.decode((
                [Int64], [Int64], [String], [String], [Int32], NullableArray<String>, NullableArray<String>, [String],
                NullableArray<Date>, [Int32], [Bool], NullableArray<Int64>
            ).self)
        let fetched = ids.indices.map { index in
            Job(
                id: ids[index], queue: queues[index], taskName: tasks[index], priority: Int(priorities[index]),
                lock: locks.elements[index], queueingLock: queueingLocks.elements[index], arguments: arguments[index],
                status: .doing, scheduledAt: scheduledAts.elements[index], attempts: Int(attempts[index]),
                abortRequested: abortRequests[index], workerID: workerIDs.elements[index]
            )
        }
        return (leftAlone, fetched)
    }
}
