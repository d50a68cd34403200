import Testing

@testable import Cron

@Suite struct CronDescriptionTests {
    @Test(arguments: [
        ("* * * * *", "every minute"),
        ("*/5 * * * *", "every 5 minutes"),
        ("0 * * * *", "at minute 0 of every hour"),
        ("30 2 * * *", "at 02:30"),
        ("30 2 * * 5L", "at 02:30 on the last Friday of every month"),
        ("30 2 * * L5", "at 02:30 on the last Friday of every month"),
        ("0 9,17 * * mon-fri", "at 09:00 and 17:00 on Monday through Friday"),
        ("0 0 1 * *", "at 00:00 on day 1 of every month"),
        ("0 0 1 1 *", "at 00:00 on day 1 of January"),
        ("0 0 L * *", "at 00:00 on the last day of every month"),
        ("0 0 15W * *", "at 00:00 on the weekday nearest day 15 of every month"),
        ("0 0 1 * 1", "at 00:00 on day 1 or on Monday of every month"),
        ("0 0 13 * +5", "at 00:00 on day 13 if it is Friday of every month"),
        ("0 12 * * 2#3", "at 12:00 on the 3rd Tuesday of every month"),
        ("0 9 * * 1 30", "at 09:00:30 on Monday"),
        ("* * * * * */10", "every 10 seconds"),
        ("5 * * * * */10", "every 10 seconds of minute 5 of every hour"),
        ("*/10 * * * * *", "every second of every 10 minutes of every hour"),
        ("0 0 * jun-aug *", "at 00:00 in June through August"),
        ("0 0 1 1 * 0 2030", "at 00:00:00 on day 1 of January in 2030"),
        ("0 8-18 * * *", "at minute 0 past hours 8 through 18"),
        ("*/15 9-17 * * *", "every 15 minutes past hours 9 through 17"),
        ("@every 1h30m", "every 1 hour and 30 minutes"),
    ])
    func describes(expression: String, english: String) throws {
        #expect(try CronExpression(expression).englishDescription == english)
    }
}
