import Cron
import Foundation

// README "Cron expressions" and the Cron articles.

func cronTour() throws {
    let schedule = try CronSchedule(parsing: "30 2 * * *", timeZone: TimeZone(named: "Europe/Paris"))
    let next = schedule.next(after: .now)                   // strictly after; seconds as a 6th field, a year as a 7th
    let nextThree = schedule.dates(after: .now).prefix(3)   // lazy, both directions
    let english = try CronExpression("30 2 * * 5L").englishDescription  // "at 02:30 on the last Friday of every month"
    let surprises = try CronExpression("0 0 1 * */2").lintWarnings      // croniter's surprises, explained
    _ = (next, Array(nextThree), english, surprises)
}

func cronQuirks() throws {
    for warning in try CronExpression("0 0 1-1 * *").lintWarnings {
        print(warning)
    }
}
