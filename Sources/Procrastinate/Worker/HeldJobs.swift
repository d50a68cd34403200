/// The jobs a worker holds, from their claim to their outcome's write: the slots part of
/// ``WorkerStateMachine``, with the counts its decisions read.
struct HeldJobs {
    /// Where a held job is.
    enum Phase: Equatable {
        /// Its body runs.
        case running
        /// Its outcome waits for a write; a locked job's slot waits with it.
        case pending(holdsSlot: Bool)
        /// Its outcome is being written.
        case writing
    }

    /// A job claimed, until its outcome is written.
    struct Held {
        var job: Job
        var phase = Phase.running
        /// Recovered by another worker: its outcome is not recorded.
        var lost = false
    }

    private var byID: [Int64: Held] = [:]
    /// Jobs whose bodies run.
    private(set) var running = 0
    /// Jobs keeping a slot: running, or a locked job's outcome waiting for its write.
    private(set) var keepingSlots = 0

    subscript(id: Int64) -> Held? {
        get { byID[id] }
        set {
            count(byID[id], -1)
            count(newValue, 1)
            byID[id] = newValue
        }
    }

    var isEmpty: Bool { byID.isEmpty }
    var values: Dictionary<Int64, Held>.Values { byID.values }

    /// The jobs whose bodies run, by id.
    var runningIDs: [Int64] { byID.values.filter { $0.phase == .running }.map(\.job.id).sorted() }

    /// Marks the running jobs among `jobs` (in the attempt named) lost; returns their ids.
    mutating func lose(_ jobs: [HeldJob]) -> [Int64] {
        var lost: [Int64] = []
        for job in jobs {
            guard var held = self[job.id], held.job.attempts == job.attempts, held.phase == .running, !held.lost else { continue }
            held.lost = true
            self[job.id] = held
            lost.append(job.id)
        }
        return lost.sorted()
    }

    private mutating func count(_ held: Held?, _ sign: Int) {
        guard let held else { return }
        if held.phase == .running { running += sign }
        if held.phase == .running || held.phase == .pending(holdsSlot: true) { keepingSlots += sign }
    }
}
