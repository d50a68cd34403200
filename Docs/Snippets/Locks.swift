import Foundation
import Procrastinate

// Article "Locks and queueing locks".

func locks(app: App) async throws {
    let transfer = try app.task("transfer") { (transfer: Transfer) in
        print("moving \(transfer.amount) on account \(transfer.account)")
    }
    // Transfers of one account run one at a time, in the order they were deferred.
    try await transfer.configure(lock: "account:1").defer(Transfer(account: 1, amount: 10))
    try await transfer.configure(lock: "account:1").defer(Transfer(account: 1, amount: -4))
    try await transfer.configure(lock: "account:2").defer(Transfer(account: 2, amount: 7))

    let refresh = try app.task("refresh_cache", queueingLock: "cache") { (_: NoArguments) in }
    try await refresh.defer()
    do {
        try await refresh.defer()
    } catch is AlreadyEnqueued {
        // One refresh already waits: nothing was inserted.
    }
}
