import Cron
// Periodic tasks declared in a crontab file (crontabs/example.crontab), deferred by the
// worker's scheduler and run by the same worker.
//
//   scripts/example Periodic                 # with a throwaway PostgreSQL, for 25 seconds
//   swift run Periodic [--seconds N] [--crontabs DIR]
import Foundation
import Logging
import Procrastinate

struct Tick: Codable, Sendable {
    var timestamp: Int
}

struct CountryTick: Codable, Sendable {
    var timestamp: Int
    var country: String
}

/// A tick's time of day, in UTC.
func time(_ timestamp: Int) -> String {
    Date(timeIntervalSince1970: TimeInterval(timestamp)).formatted(.iso8601.time(includingFractionalSeconds: false))
}

@main
enum Periodic {
    static func main() async {
        do { try await run() } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        let arguments = CommandLine.arguments
        let seconds = arguments.firstIndex(of: "--seconds").flatMap { Int(arguments[$0 + 1]) } ?? 25
        let crontabs = arguments.firstIndex(of: "--crontabs").map { arguments[$0 + 1] } ?? "crontabs"

        var logger = Logger(label: "periodic")
        logger.logLevel = .warning
        let app = App(connector: PostgresConnector(settings: try ConnectionSettings.resolve(url: nil), logger: logger), logger: logger)
        _ = try app.task("example.heartbeat") { (tick: Tick) in print("heartbeat       tick \(time(tick.timestamp))") }
        _ = try app.task("example.sync_inbox") { (tick: Tick) in print("sync_inbox      tick \(time(tick.timestamp))") }
        _ = try app.task("example.report") { (tick: CountryTick) in print("report (\(tick.country))     tick \(time(tick.timestamp))") }
        _ = try app.task("example.office_digest") { (tick: Tick) in print("office_digest   tick \(time(tick.timestamp))") }
        // Every line of the crontab files, checked now: a bad line stops here, not in the worker.
        try app.loadCrontabs(directory: URL(filePath: crontabs))
        for task in app.periodicTasks {
            let id = task.periodicID.isEmpty ? "" : " (\(task.periodicID))"
            print("\(task.taskName)\(id): \(task.schedule.expression.englishDescription) [\(task.schedule.timeZoneName)]")
        }

        print("\nRunning a worker for \(seconds) seconds...")
        let worker = Worker(app: app, options: WorkerOptions(concurrency: 4))
        try await app.run {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                try await Task.sleep(for: .seconds(seconds))
                worker.stop()
                try await group.waitForAll()
            }
        }
    }
}
