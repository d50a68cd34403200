import ArgumentParser
import Foundation
import Procrastinate
import Testing

@testable import ProcrastinateCLI

/// Every subcommand's `--help`, checked against the rules of the command line's help.
@Suite struct HelpTests {
    /// Every command path: the root, then each subcommand, depth first.
    static func commandPaths(_ command: any ParsableCommand.Type = ProcrastinateCommand.self, prefix: [String] = []) -> [(path: [String], type: any ParsableCommand.Type)] {
        [(prefix, command)] + command.configuration.subcommands.flatMap { sub in
            commandPaths(sub, prefix: prefix + [sub._commandName])
        }
    }

    @Test func everyCommandsHelpFollowsTheRules() throws {
        let paths = Self.commandPaths()
        #expect(paths.count >= 20)
        for (path, type) in paths {
            let help = ProcrastinateCommand.helpMessage(for: type, columns: 80)
            let name = path.isEmpty ? "procrastinate" : path.joined(separator: " ")
            let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            // Examples are verbatim lines: each as written, none wrapped at 80 columns.
            let discussion = type.configuration.discussion
            if let examples = discussion.range(of: "Example") {
                for line in discussion[examples.upperBound...].split(separator: "\n").dropFirst() {
                    #expect(line.count <= 78, "\(name): example line too long: \(line)")
                    #expect(lines.contains(String(line)), "\(name): example line wrapped: \(line)")
                }
                #expect(discussion.contains("  procrastinate "), "\(name): examples name the executable")
            }
            // Each option's values appear once: not in its help text and again in "(values: …)".
            let text = help.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: #" +"#, with: " ", options: .regularExpression)
            for match in text.matches(of: /\(values: ([^)]*)\)/) {
                let values = match.output.1.split(separator: ", ").map(String.init)
                let before = text[..<match.range.lowerBound].suffix(200)
                let restated = values.filter { before.contains("\($0),") || before.contains(" \($0) or") || before.contains("or \($0)") }
                #expect(restated.count < 2, "\(name): values listed twice: \(values)")
            }
            // Each option's default appears once.
            for block in help.components(separatedBy: "\n  -") {
                #expect(block.components(separatedBy: "default").count <= 2, "\(name): default stated twice in \(block)")
            }
        }
    }

    @Test func helpNeedsNoDatabaseAndExitsZero() async throws {
        let unreachable = ["PROCRASTINATE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"]
        for (path, _) in Self.commandPaths() {
            let output = try await CommandLineRunner.run(path + ["--help"], environment: unreachable)
            #expect(output.status == 0, "\(path): \(output.standardError)")
            #expect(output.standardOutput.contains("USAGE: procrastinate"), "\(path)")
        }
        let shell = try await CommandLineRunner.run(["shell", "--help"], environment: unreachable)
        #expect(shell.standardOutput.contains("Without a command, reads commands"))
        #expect(!shell.standardOutput.contains("Unknown syntax"))
    }

    @Test func anApplicationsExecutableNamesItselfAndAddsItsCommands() async throws {
        let help = try await CommandLineRunner.run(["--help"], executable: "TestWorker")
        #expect(help.standardOutput.contains("USAGE: TestWorker "))
        #expect(help.standardOutput.contains("  greet "))
        #expect(!help.standardOutput.contains("procrastinate --database-url"))
        let worker = try await CommandLineRunner.run(["worker", "--help"], executable: "TestWorker")
        #expect(worker.standardOutput.contains("\n  TestWorker worker --queues"))
        let greet = try await CommandLineRunner.run(["greet", "Ada"], executable: "TestWorker")
        #expect(greet.status == 0 && greet.standardOutput == "hello Ada\n")
        let version = try await CommandLineRunner.run(["--version"], executable: "TestWorker")
        #expect(version.standardOutput == "\(PackageVersion.current)\n")
    }
}
