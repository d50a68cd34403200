import ArgumentParser
import Cron
import Foundation
import Procrastinate

/// `procrastinate crontab`: validate and preview a folder of crontab files.
struct CrontabCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "crontab",
            abstract: "Validate and preview crontabs/*.crontab files.",
            subcommands: [Check.self, Next.self]
        )
    }

    struct Check: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Validate every *.crontab file of a folder; exit status 1 listing every mistake.",
                discussion: """
                    In an application's executable, task names and arguments are checked against its tasks too.

                    \(examples("crontab check crontabs/"))
                    """
            )
        }
        @Argument(help: "The folder holding *.crontab files.") var directory: String

        func run() throws {
            let folder = URL(filePath: directory)
            // An application's executable checks the task names and arguments against its
            // tasks too, every mistake of every file in one report.
            if Invocation.current.makeApp != nil {
                _ = try GlobalOptions.parse([]).makeApp().checkCrontabs(directory: folder)
            }
            let entries = try Crontab.load(directory: folder)
            for entry in entries {
                for warning in entry.schedule.expression.lintWarnings {
                    print("\(entry.location): \(warning)")
                }
            }
            let files = Set(entries.map(\.location.file)).count
            print("\(entries.count) \(entries.count == 1 ? "entry" : "entries") in \(files) \(files == 1 ? "file" : "files"): OK")
        }
    }

    struct Next: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Print the next fire times of every entry.",
                discussion: examples("crontab next crontabs/ --count 3 --from 2024-03-09T00:00:00Z")
            )
        }
        @Argument(help: "The folder holding *.crontab files.") var directory: String
        @Option(name: [.short, .customLong("count")], parsing: .unconditional, help: "How many fire times per entry.") var count = 3
        @Option(help: "Start from this time (ISO 8601; without an offset, UTC). Default: now.") var from: String?

        func validate() throws {
            guard count > 0 else { throw ValidationError("--count must be at least 1, not \(count)") }
        }

        func run() throws {
            let start = try from.map { try parseTime($0, option: "--from", zone: CronSchedule.utc) } ?? Date()
            for entry in try Crontab.load(directory: URL(filePath: directory)) {
                let id = entry.periodicID.isEmpty ? "" : " --id=\(entry.periodicID)"
                print("\(entry.location.file):\(entry.location.line) \(entry.taskName)\(id): \(entry.schedule.expression.text) (\(entry.schedule.timeZoneName))")
                for time in entry.schedule.dates(after: start).prefix(count) {
                    print("  \(entry.schedule.localTimeString(time))")
                }
            }
        }
    }
}
