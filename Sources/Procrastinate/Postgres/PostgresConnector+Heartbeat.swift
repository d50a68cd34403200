import PostgresNIO

extension PostgresConnector {
    public func heartbeat(
        workerID: Int64, holding held: [HeldJob], registration: WorkerRegistration, strayGrace: Duration
    ) async throws -> HeartbeatReply {
        let query: PostgresQuery = """
            SELECT registered_again, lost_job_ids, released_job_ids FROM procrastinate_swift_heartbeat_v1(
                \(workerID), \(held.map(\.id))::bigint[], \(held.map { Int32(clamping: $0.attempts) })::integer[],
                \(registration.name), \(registration.queues)::varchar[], \(registration.taskNames)::varchar[], \(strayGrace.seconds))
            """
        let logger = logger
        let operation: @Sendable (PostgresConnection) async throws -> HeartbeatReply = { connection in
            let rows = try await connection.query(query, logger: logger).decode((Bool, [Int64], [Int64]).self).all()
            return HeartbeatReply(registeredAgain: rows[0].0, lostJobIDs: rows[0].1, releasedJobIDs: rows[0].2)
        }
        guard let settings else { return try await perform(operation) }
        return try await workerConnections.run(operation, on: .heartbeats, of: workerID, settings: settings, connector: self)
    }
}
