import ArgumentParser
import Procrastinate
import ProcrastinateCLI

// The ProcrastinateCLI catalogue: an application's own subcommand.

struct Backfill: AsyncParsableCommand {
    @OptionGroup var global: GlobalOptions
    @Option var days = 7

    func run() async throws {
        try await global.withApp { app in
            for day in 0..<days {
                try await app.configureTask(name: "rebuild_stats").defer(["days_ago": .int(day)])
            }
        }
    }
}

enum ServiceWithCommands {
    static func main() async {
        await ProcrastinateCommand.main(commands: [Backfill.self]) { connector in
            App(connector: connector, logger: connector.logger)
        }
    }
}
