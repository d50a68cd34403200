import Cron
import Foundation
import Procrastinate

// Article "Periodic tasks and crontab files", and the README.

func periodic(app: App) throws {
    let report = try app.task("report") { (tick: Tick) in
        print("report for \(Date(timeIntervalSince1970: TimeInterval(tick.timestamp)))")
    }
    try app.periodic(report, cron: "0 9 * * mon-fri", timeZone: TimeZone(named: "Europe/Paris"))
    try app.periodic(report, cron: "*/15 * * * *", periodicID: "quarterly", queue: "reports")
    try app.loadCrontabs(directory: URL(filePath: "crontabs"))
}
