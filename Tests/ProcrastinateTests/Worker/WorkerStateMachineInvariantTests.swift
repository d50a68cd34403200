import Foundation
import Testing

@testable import Procrastinate

/// The worker's state machine under random sequences of events (claims answered with any
/// number of jobs or failing, bodies ending in any order, writes failing and healing, questions
/// answered, wake-ups, stop requests, cancellation, aborts), checking after each event what
/// must always hold:
/// - never more jobs keep slots than the concurrency; one claim and one write at a time;
/// - a job starts once per claim, and every job started ends written or given up;
/// - a running worker with free slots and claimable work is never asleep past a bounded
///   instant: it claims, or a claim, write or question is under way, or a timer is asked for
///   within the poll interval;
/// - room is claimed when it frees, not at the poll: a wake-up makes a worker with room claim
///   at once (or with the write about to go); a write claims at least for the slots its
///   outcomes free; an answer that a job is due in d asks for a timer within d;
/// - it finishes only when nothing runs, is written or claimed, and never acts after that.
/// Seeded, so that a failure names the seed that reproduces it.
@Suite struct WorkerStateMachineInvariantTests {
    typealias Machine = WorkerStateMachine

    /// The world around the machine: the database's waiting jobs, and what the machine asked
    /// for and has not had an answer to.
    struct World {
        var random: SeededGenerator
        var now = ContinuousClock.now
        let pollInterval = Duration.seconds(5)
        var nextID: Int64 = 1
        /// Jobs waiting in the database.
        var waiting = 20
        var claim: Int?
        var write: (outcomes: [JobOutcome], claim: Int)?
        var asking = false
        var timers: [ContinuousClock.Instant] = []
        /// Jobs whose bodies run, by id.
        var running: Set<Int64> = []
        /// Jobs started and not yet written or given up.
        var unresolved: Set<Int64> = []
        var everStarted: Set<Int64> = []
        var finished = false
        var stopped = false
    }

    @Test(arguments: 0..<300)
    func invariantsHoldUnderRandomEvents(seed: UInt64) throws {
        let concurrency = Int(seed % 4) + 1
        var machine = Machine(
            configuration: .init(
                concurrency: concurrency, waitsForJobs: seed % 5 != 0, pollInterval: .seconds(5), coalescingWindow: .milliseconds(1),
                gracefulTimeout: seed % 3 == 0 ? nil : .seconds(2)
            ),
            contact: DatabaseContact(maxGap: .seconds(20))
        )
        var world = World(random: SeededGenerator(state: seed))
        try apply(machine.handle(.registered(workerID: 1, at: world.now)), to: &world, machine: machine, seed: seed)
        for _ in 0..<400 where !world.finished {
            guard let event = nextEvent(&world, machine: machine) else { break }
            let free = machine.configuration.concurrency - world.running.count - (world.claim ?? 0)
            let actions = machine.handle(event)
            try apply(actions, to: &world, machine: machine, seed: seed)
            checkPromptness(after: event, actions: actions, freeBefore: free, world: world, machine: machine, seed: seed)
        }
        // Stopping always ends: stop, then answer everything until the machine finishes.
        if !world.finished {
            try apply(machine.handle(.stopRequested(at: world.now)), to: &world, machine: machine, seed: seed)
            world.stopped = true
            for _ in 0..<2_000 where !world.finished {
                guard let event = nextEvent(&world, machine: machine) else { break }
                try apply(machine.handle(event), to: &world, machine: machine, seed: seed)
            }
        }
        #expect(world.finished, "seed \(seed): the machine did not finish after a stop")
        #expect(world.unresolved.isEmpty, "seed \(seed): jobs \(world.unresolved.sorted()) were neither written nor given up")
    }

    /// What the world can do next.
    private enum Choice {
        case answerClaim(limit: Int), answerWrite(outcomes: [JobOutcome], claim: Int), endBody(Int64), abort(Int64)
        case answerQuestion, fireTimer(ContinuousClock.Instant), wake, stop
    }

    /// A random event among those the world can send now.
    private func nextEvent(_ world: inout World, machine: Machine) -> Machine.Event? {
        world.now += .microseconds(Int64.random(in: 0...3_000, using: &world.random))
        var choices: [Choice] = []
        if let limit = world.claim { choices.append(.answerClaim(limit: limit)) }
        if let write = world.write { choices.append(.answerWrite(outcomes: write.outcomes, claim: write.claim)) }
        if let id = world.running.randomElement(using: &world.random) { choices += [.endBody(id), .abort(id)] }
        if world.asking { choices.append(.answerQuestion) }
        if let earliest = world.timers.min() { choices.append(.fireTimer(earliest)) }
        if !world.stopped {
            choices.append(.wake)
            if Int.random(in: 0..<60, using: &world.random) == 0 { choices.append(.stop) }
        }
        guard let choice = choices.randomElement(using: &world.random) else { return nil }
        switch choice {
        case .answerClaim(let limit):
            world.claim = nil
            if Int.random(in: 0..<10, using: &world.random) == 0 { return .claimFailed(fatal: nil, at: world.now) }
            let count = min(limit, world.waiting, Int.random(in: 0...limit, using: &world.random))
            return .claimed(take(count, from: &world), at: world.now)
        case .answerWrite(let outcomes, let claim):
            world.write = nil
            if Int.random(in: 0..<8, using: &world.random) == 0 { return .writeFailed(canHeal: true, at: world.now) }
            for outcome in outcomes {
                world.unresolved.remove(outcome.jobID)
                if outcome.retry != nil { world.waiting += 1 }
            }
            let count = min(claim, world.waiting, Int.random(in: 0...claim, using: &world.random))
            return .written(successors: take(count, from: &world), at: world.now)
        case .endBody(let id):
            world.running.remove(id)
            let outcome = Int.random(in: 0..<4, using: &world.random) == 0
                ? JobOutcome(jobID: id, retry: RetryDecision(retryAt: Date()), attempts: 0)
                : JobOutcome(jobID: id, status: .succeeded, deleteJob: false, attempts: 0)
            return .bodyEnded(outcome, at: world.now)
        case .abort(let id):
            return .abortRequested(jobID: id, reason: .userRequest)
        case .answerQuestion:
            world.asking = false
            if Bool.random(using: &world.random) { return .nextDueFailed(at: world.now) }
            return .nextDue(in: .milliseconds(Int64.random(in: -5...6_000, using: &world.random)), at: world.now)
        case .fireTimer(let instant):
            world.timers.removeAll { $0 == instant }
            world.now = max(world.now, instant)
            return .timer(at: world.now)
        case .wake:
            world.waiting += Int.random(in: 0...3, using: &world.random)
            return .wake(at: world.now)
        case .stop:
            world.stopped = true
            return Bool.random(using: &world.random) ? .stopRequested(at: world.now) : .cancelled(at: world.now)
        }
    }

    private func take(_ count: Int, from world: inout World) -> [Job] {
        world.waiting -= count
        return (0..<count).map { _ in
            defer { world.nextID += 1 }
            return Job(id: world.nextID, queue: "default", taskName: "t", status: .doing)
        }
    }

    /// The rules that keep room from waiting for the poll (each fault of this class so far broke
    /// one): checked against the event just handled and what it led to.
    private func checkPromptness(
        after event: Machine.Event, actions: [Machine.Action], freeBefore: Int, world: World, machine: Machine, seed: UInt64
    ) {
        guard machine.lifecycle == .running else { return }
        let free = machine.configuration.concurrency - world.running.count - (world.claim ?? 0)
        for case .write(let outcomes, let claim) in actions {
            // The slots its outcomes free are claimed with it, idle or not.
            #expect(claim >= min(outcomes.count, max(free + (world.write?.claim ?? 0) - claim, 0), free), "seed \(seed): a write of \(outcomes.count) outcomes claimed \(claim) with \(free) slots free")
        }
        switch event {
        case .wake:
            // Woken with room: it claims now, or the write about to go claims for it.
            // (Outcomes whose write failed go first, when it is tried again: a claim waits
            // for them, and the database is likely failing for both.)
            if free > 0, freeBefore > 0, machine.writeFailures == 0 {
                let claims = world.claim != nil || world.write != nil || world.timers.contains { $0 <= world.now + .milliseconds(1) }
                #expect(claims, "seed \(seed): woken with \(free) slots free, and no claim (\(actions), claiming \(String(describing: world.claim)), writing \(world.write.map { "\($0.outcomes.count)" } ?? "no"), running \(world.running.count), timers \(world.timers.map { ($0 - world.now).description }))")
            }
        case .nextDue(let due?, _) where due > .zero && due < world.pollInterval && world.claim == nil:
            #expect(world.asking || world.timers.contains { $0 <= world.now + due }, "seed \(seed): a job due in \(due) and no timer for it")
        default:
            break
        }
    }

    /// Records what the machine asked for, checking each invariant.
    private func apply(_ actions: [Machine.Action], to world: inout World, machine: Machine, seed: UInt64) throws {
        for action in actions {
            #expect(!world.finished, "seed \(seed): \(action) after finish")
            switch action {
            case .claim(let limit):
                #expect(world.claim == nil, "seed \(seed): two claims at once")
                #expect(limit > 0)
                world.claim = limit
            case .start(let job):
                #expect(!world.everStarted.contains(job.id), "seed \(seed): job \(job.id) started twice")
                world.everStarted.insert(job.id)
                world.running.insert(job.id)
                world.unresolved.insert(job.id)
            case .write(let outcomes, let claim):
                #expect(world.write == nil, "seed \(seed): two writes at once")
                #expect(!outcomes.isEmpty)
                world.write = (outcomes, claim)
            case .askNextDue:
                #expect(!world.asking, "seed \(seed): two questions at once")
                world.asking = true
            case .wake(let instant):
                world.timers.append(instant)
            case .abort:
                break
            case .lostJobEnded(let id):
                world.unresolved.remove(id)
            case .outcomesGivenUp(let ids):
                ids.forEach { world.unresolved.remove($0) }
            case .finish:
                #expect(world.running.isEmpty && world.write == nil && world.claim == nil, "seed \(seed): finished while holding work")
                world.finished = true
            }
        }
        // Slots: the jobs keeping one never exceed the concurrency.
        let keeping = machine.heldJobs.count { machine.phase(of: $0.id).map { $0 == .running || $0 == .pending(holdsSlot: true) } ?? false }
        #expect(keeping <= machine.configuration.concurrency, "seed \(seed): \(keeping) slots kept")
        // Liveness: a running worker with room and work is never asleep without a bound.
        if machine.lifecycle == .running, world.waiting > 0, keeping < machine.configuration.concurrency,
            world.claim == nil, world.write == nil, !world.asking
        {
            // (A one-shot worker has no poll: it looks again when its running jobs' outcomes
            // are written.)
            let bounded = world.timers.contains { $0 <= world.now + world.pollInterval + .seconds(1) }
                || (!machine.configuration.waitsForJobs && !world.running.isEmpty)
            #expect(bounded, "seed \(seed): room and \(world.waiting) waiting jobs, and no wake-up asked for")
        }
    }
}
