import Foundation
import Testing

/// The Getting Started article, followed literally by a new user: its files written where it
/// says, in a package of their own beside a checkout named `procrastinate-swift`, and its
/// `swift` commands run in order against an empty database.
///
/// It builds a package from scratch (several minutes), so `scripts/test` runs it in a step of
/// its own, with `PROCRASTINATE_WALKTHROUGH=1`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PROCRASTINATE_WALKTHROUGH"] != nil))
struct GettingStartedTests {
    @Test func theArticleFollowedLiterallyRunsAJob() async throws {
        let article = Repository.root.appending(path: "Sources/Procrastinate/Procrastinate.docc/GettingStarted.md")
        let blocks = CodeBlock.all(in: try String(contentsOf: article, encoding: .utf8), file: "GettingStarted.md")
        let files = blocks.filter { $0.path != nil }
        let commands = blocks.filter { $0.language == "sh" }.flatMap(\.lines).filter { $0.hasPrefix("swift ") }
        #expect(files.map(\.path) == ["hello/Package.swift", "hello/Sources/hello/Hello.swift"])
        #expect(commands.count == 4)

        let folder = FileManager.default.temporaryDirectory.appending(path: "getting-started-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // The clone the article starts from.
        try FileManager.default.createSymbolicLink(at: folder.appending(path: "procrastinate-swift"), withDestinationURL: Repository.root)
        for file in files {
            let url = folder.appending(path: file.path!)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (file.lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        }

        try await TestDatabase.withDatabase(nil) { db in
            var environment = ProcessInfo.processInfo.environment
            environment["PROCRASTINATE_DATABASE_URL"] = try db.testURL
            var last = ""
            for command in commands {
                let output = try await Self.shell(command, in: folder.appending(path: "hello"), environment: environment)
                #expect(output.status == 0, "\(command):\n\(output.text)")
                guard output.status == 0 else { return }
                last = output.text
            }
            #expect(last.contains("Hello, Ada! (job 1)"), "\(last)")
        }
    }

    /// Runs `command` with `/bin/sh` in `folder`; its output and error together, within 20
    /// minutes (a first build of the dependencies included).
    static func shell(_ command: String, in folder: URL, environment: [String: String]) async throws -> (status: Int32, text: String) {
        let log = folder.appending(path: ".walkthrough.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(filePath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = folder
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(20 * 60))
            process.terminate()
        }
        while process.isRunning {
            try await Task.sleep(for: .milliseconds(200))
        }
        watchdog.cancel()
        try handle.close()
        return (process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }
}
