import Foundation
import Logging
import Synchronization

/// The worker's side tasks, beside its engine: heartbeats (which hold its jobs), notifications,
/// the poll for abort requests, and stalled-job recovery. Each waits on the worker's clock and
/// gives the state machine what it learns as events.
extension Worker {
    /// Sends a heartbeat every `updateHeartbeatInterval` (at once when the registration turned
    /// out to be gone), holding the jobs claimed and not yet recorded; then counts the jobs
    /// delayed by limits, for the metrics.
    func sendHeartbeats(workerID: Int64) async {
        while !Task.isCancelled {
            await heartbeatNow.wait(upTo: options.updateHeartbeatInterval, clock: clock)
            guard !Task.isCancelled else { return }
            let held = state.withLock { $0.machine.heldJobs }
            do {
                let reply = try await app.connector.heartbeat(
                    workerID: workerID, holding: held, registration: registration, strayGrace: Self.strayGrace
                )
                post(.databaseAnswered(at: clock.now))
                databaseAnswered()
                handle(reply, workerID: workerID, held: held)
            } catch {
                post(.databaseUnreachable)
                logFailure("Heartbeat failed", error, action: "heartbeat_failed")
                continue
            }
            // Without our latest migration there are no limits to count.
            if let delayed = try? await app.connector.jobsDelayedByLimits(queues: options.queues, taskNames: claimedTaskNames) {
                metrics.jobsDelayedByLimits(delayed)
            }
        }
    }

    /// Acts on what a heartbeat holding `held` learnt: a registration made again, jobs lost to
    /// recovery (stopped here), claims that never reached this worker (put back in the queue).
    ///
    /// A held job the heartbeat calls lost may have been recorded by this worker meanwhile (or
    /// claimed again, in another attempt): only a job still held in the same attempt, its
    /// outcome not handed to the writer, is stopped; the writer's fence covers the others.
    private func handle(_ reply: HeartbeatReply, workerID: Int64, held: [HeldJob]) {
        if reply.registeredAgain {
            logger.warning(
                "This worker's registration was gone (another worker pruned it while this one was paused or cut off); registered again as worker \(workerID), holding its \(held.count) jobs",
                metadata: ["action": "worker_registered_again", "worker_id": "\(workerID)"]
            )
        }
        let lostIDs = Set(reply.lostJobIDs)
        post(.jobsLost(held.filter { lostIDs.contains($0.id) }))
        if !reply.releasedJobIDs.isEmpty {
            logger.warning(
                "Jobs \(reply.releasedJobIDs) were claimed for this worker but never reached it; they were put back in the queue",
                metadata: ["action": "claims_released"]
            )
        }
    }

    /// Listens for notifications, reconnecting with backoff (from 100 ms, doubling up to 1 s,
    /// and from 100 ms again once listening worked); after each (re)connection a fetch pass
    /// runs, since notifications sent meanwhile are lost.
    func listen(_ connector: any NotifyingConnector) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await connector.listen(queues: options.queues) { [self] in
                    post(.listening(true))
                    post(.wake(at: clock.now))
                } onNotification: { [self] notification in
                    switch notification {
                    case .jobInserted, .queueResumed, .roomFreed: post(.wake(at: clock.now))
                    case .abortRequested(let id): requestAbort(ofJob: id)
                    }
                }
            } catch {
                logFailure("Listening for notifications failed, reconnecting in \(backoff)", error, action: "listen_failed")
            }
            let wasListening = isListening
            post(.listening(false))
            guard !Task.isCancelled else { return }
            if wasListening { backoff = .milliseconds(100) }
            try? await clock.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(1))
        }
    }

    /// Asks the database for abort requests while jobs run (notifications may be off or lost).
    func pollAbortRequests() async {
        while !Task.isCancelled {
            try? await clock.sleep(for: options.abortJobPollingInterval)
            guard !Task.isCancelled, state.withLock({ $0.machine.hasRunningJobs }) else { continue }
            do {
                for id in try await app.connector.jobIDsToAbort(queue: nil) {
                    requestAbort(ofJob: id)
                }
            } catch {
                logFailure("Polling for abort requests failed", error, action: "poll_jobs_to_abort_error")
            }
        }
    }

    /// Recovers the running jobs of workers silent for `threshold` (never this worker's own),
    /// once this worker has itself been in touch with the database for that long.
    func recoverStalledJobs(threshold: Duration, workerID: Int64) async {
        let interval = max(min(threshold / 2, .seconds(60)), .milliseconds(200))
        while !Task.isCancelled {
            try? await clock.sleep(for: interval)
            guard !Task.isCancelled, state.withLock({ $0.machine.contact.hasLasted(threshold, at: clock.now) }) else { continue }
            do {
                for job in try await app.connector.stalledJobs(secondsSinceHeartbeat: threshold.seconds, queue: nil, taskName: nil) {
                    guard state.withLock({ !$0.machine.holds(job.id) }) else { continue }
                    let decision = recoveryDecision(for: job, now: clock.date)
                    guard try await app.connector.recoverStalledJob(
                        job, staleAfter: threshold.seconds, excludingWorker: workerID, decision: decision
                    ) else { continue }
                    logger.warning(
                        "Recovered stalled job \(job.callString): \(decision == nil ? "failed" : "retried")",
                        metadata: ["action": "recover_stalled_job", "job_id": "\(job.id)", "task": "\(job.taskName)"]
                    )
                }
            } catch {
                logFailure("Recovering stalled jobs failed", error, action: "recover_stalled_jobs_error")
            }
        }
    }

    /// A stalled job runs again as its task's retry strategy says (``JobStalled`` as the
    /// error), or else as ``WorkerOptions/stalledJobs`` says; nil: it fails.
    func recoveryDecision(for job: Job, now: Date) -> RetryDecision? {
        if let policy = app.task(named: job.taskName)?.options.retry {
            return policy.retryDecision(for: JobStalled(), attempts: job.attempts, now: now)
        }
        switch options.stalledJobs {
        case .retry(let retries) where job.attempts < retries: return RetryDecision(retryAt: now)
        case .retry, .fail: return nil
        }
    }
}
