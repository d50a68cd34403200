import ArgumentParser
import Foundation
import Procrastinate

/// `procrastinate shell`: Python Procrastinate's administration shell, interactive or one-shot.
struct ShellCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "shell",
            abstract: "Administration shell: list, retry and cancel jobs (Python Procrastinate's commands and output).",
            discussion: """
                Without a command, reads commands from standard input (type help).

                \(examples("shell", "shell list_jobs queue=emails status=failed details", "shell list_queues"))
                """
        )
    }

    @OptionGroup var global: GlobalOptions

    @Argument(parsing: .allUnrecognized, help: "A shell command to run alone, e.g. list_jobs queue=emails.")
    var command: [String] = []

    func run() async throws {
        try await global.withApp { app in
            let shell = ProcrastinateShell(manager: app.jobManager) { print($0) }
            guard command.isEmpty else {
                // A one-shot command's failure is the process's: scripts see it.
                if await shell.execute(command.joined(separator: " ")) == .failed { throw ExitCode(1) }
                return
            }
            // At a terminal: the intro, a prompt, line editing and history. Otherwise: plain lines.
            var terminal = isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0
                ? TerminalLineReader(prompt: ProcrastinateShell.prompt) : nil
            if terminal != nil { print(ProcrastinateShell.intro) }
            while let line = terminal != nil ? terminal!.readLine() : readLine() {
                guard await shell.execute(line) != .exit else { break }
            }
        }
    }
}
