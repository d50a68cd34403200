import Cron
import Foundation
import Testing

/// A fenced code block of a Markdown file.
struct CodeBlock: Sendable, CustomStringConvertible {
    /// Where it is: the file and the line of its opening fence.
    var file: String
    var line: Int
    /// The language after the fence (`swift`, `sh`, …).
    var language: String
    /// The lines between the fences.
    var lines: [String]
    /// The path named by the paragraph just before it (`` Write `hello/Package.swift`: ``),
    /// for the files of a walkthrough (never for a shell block).
    var path: String?

    var description: String { "\(file):\(line)" }

    /// The blocks of `markdown`.
    static func all(in markdown: String, file: String) -> [CodeBlock] {
        var blocks: [CodeBlock] = []
        var current: CodeBlock?
        var lastParagraphLine: String?
        for (index, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if var block = current {
                if line.hasPrefix("```") {
                    blocks.append(block)
                    current = nil
                } else {
                    block.lines.append(String(line))
                    current = block
                }
            } else if line.hasPrefix("```") {
                let language = String(line.dropFirst(3))
                // Shell blocks are commands, never files.
                let path = language == "sh" ? nil : lastParagraphLine.flatMap { $0.firstMatch(of: /`([\w.\/-]+)`:$/).map { String($0.output.1) } }
                current = CodeBlock(file: file, line: index + 1, language: language, lines: [], path: path)
            } else if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                lastParagraphLine = String(line)
            }
        }
        return blocks
    }
}

/// Every Swift snippet of the README and the DocC articles is compiled: it appears, line for
/// line (leading spaces aside), in the sources of `Docs/Snippets` or the tests, or it is a
/// file of the Getting Started walkthrough, which `GettingStartedTests` builds and runs.
@Suite struct DocumentationSnippetTests {
    static var documents: [URL] {
        let sources = Repository.root.appending(path: "Sources")
        let articles = (FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? [])
            .filter { $0.pathExtension == "md" && $0.path.contains(".docc/") }
        return [Repository.root.appending(path: "README.md")] + articles.sorted { $0.path < $1.path }
    }

    static func normalized(_ lines: [String]) -> [String] {
        lines.map { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            // A library target cannot hold `@main`: the snippet's type is the same without it.
            return trimmed.hasPrefix("@main") ? String(trimmed.dropFirst(5)).trimmingCharacters(in: .whitespaces) : trimmed
        }.filter { !$0.isEmpty }
    }

    /// The compiled lines the snippets may come from, one array per file.
    static func compiledSources() throws -> [[String]] {
        let folders = ["Docs/Snippets", "Tests/ProcrastinateTests/DayOne"].map { Repository.root.appending(path: $0) }
        var sources: [[String]] = []
        for folder in folders {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path()) where name.hasSuffix(".swift") {
                let text = try String(contentsOf: folder.appending(path: name), encoding: .utf8)
                sources.append(normalized(text.components(separatedBy: "\n")))
            }
        }
        return sources
    }

    /// The places where a fence does not close its block: a fence with text after it inside a
    /// block (CommonMark reads it as a line of code), or a block never closed.
    static func unbalancedFences(in markdown: String, file: String) -> [String] {
        var problems: [String] = []
        var opened: Int?
        for (index, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " }
            guard line.count - trimmed.count <= 3, trimmed.hasPrefix("```") else { continue }
            if let start = opened {
                if trimmed.drop(while: { $0 == "`" }).trimmingCharacters(in: .whitespaces).isEmpty {
                    opened = nil
                } else {
                    problems.append("\(file):\(index + 1): a fence with text after it cannot close the block opened at line \(start)")
                }
            } else {
                opened = index + 1
            }
        }
        if let start = opened { problems.append("\(file):\(start): a code fence never closed") }
        return problems
    }

    @Test func everyCodeFenceCloses() throws {
        let problems = try Self.documents.flatMap { url in
            Self.unbalancedFences(in: try String(contentsOf: url, encoding: .utf8), file: url.lastPathComponent)
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(Self.unbalancedFences(in: "```swift\nlet a = 1\n``` and prose\n", file: "t.md").count == 2)
    }

    @Test func gettingStartedShowsWhereCodeDefersAndTheTypesItNeeds() throws {
        let docc = Repository.root.appending(path: "Sources/Procrastinate/Procrastinate.docc")
        let article = try String(contentsOf: docc.appending(path: "GettingStarted.md"), encoding: .utf8)
        // The closure's parameter has a type a reader can name, in a function of their own…
        #expect(article.contains("func makeApp(connector: PostgresConnector) throws -> App"))
        #expect(article.contains("await ProcrastinateCommand.main(app: makeApp)"))
        // …and deferring from code happens with the app open, outside that closure.
        #expect(article.contains("try await app.run {\n    try await app.defer(Tasks.greet, Greeting(name: \"Grace\"))"))
        let periodic = try String(contentsOf: docc.appending(path: "PeriodicTasks.md"), encoding: .utf8)
        #expect(periodic.contains("yours to declare") && periodic.contains("struct Tick: Codable, Sendable {\n    var timestamp: Int\n}"))
    }

    @Test func theDocsNameTimeZonesWithoutCrashingOnATypo() throws {
        for url in Self.documents {
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(!text.contains("TimeZone(identifier:"), "\(url.lastPathComponent) teaches TimeZone(identifier:)!, which crashes on a typo")
        }
        #expect(throws: UnknownTimeZone(name: "Europe/Pariss")) { try TimeZone(named: "Europe/Pariss") }
        #expect(UnknownTimeZone(name: "Europe/Pariss").description == "unknown time zone 'Europe/Pariss' (expected an IANA name such as Europe/Paris)")
        #expect(try TimeZone(named: "Europe/Paris").identifier == "Europe/Paris")
    }

    @Test func everySwiftSnippetIsCompiled() throws {
        let blocks = try Self.documents.flatMap { document in
            let name = document.path.replacingOccurrences(of: Repository.root.path, with: "")
            return CodeBlock.all(in: try String(contentsOf: document, encoding: .utf8), file: name).filter { $0.language == "swift" }
        }
        // The files of the walkthrough, which GettingStartedTests builds: the README quotes them.
        let walkthrough = blocks.filter { $0.file.hasSuffix("GettingStarted.md") && $0.path != nil }
        #expect(walkthrough.count == 2)
        let sources = try Self.compiledSources() + walkthrough.map { Self.normalized($0.lines) }
        var checked = 0
        for block in blocks where !(block.file.hasSuffix("GettingStarted.md") && block.path != nil) {
            let lines = Self.normalized(block.lines)
            checked += 1
            let found = sources.contains { source in
                source.count >= lines.count && (0...(source.count - lines.count)).contains { Array(source[$0..<$0 + lines.count]) == lines }
            }
            #expect(found, "\(block) is not in Docs/Snippets (or the tests) as it is shown:\n\(block.lines.joined(separator: "\n"))")
        }
        #expect(checked >= 25)
    }

    @Test func everyArticleIsListedAndEveryLinkResolves() throws {
        let catalogue = Repository.root.appending(path: "Sources/Procrastinate/Procrastinate.docc")
        let articles = try FileManager.default.contentsOfDirectory(atPath: catalogue.path()).filter { $0.hasSuffix(".md") && $0 != "Procrastinate.md" }
        let names = Set(articles.map { String($0.dropLast(3)) })
        #expect(names.isSuperset(of: [
            "GettingStarted", "Deferring", "WorkersAndDeployment", "Locks", "Retries", "PeriodicTasks", "TestingYourTasks",
            "Migrations", "Monitoring", "SharingADatabaseWithPython",
        ]))
        let root = try String(contentsOf: catalogue.appending(path: "Procrastinate.md"), encoding: .utf8)
        for name in names {
            #expect(root.contains("<doc:\(name)>"), "\(name) is not in the catalogue's topics")
        }
        for article in articles {
            let text = try String(contentsOf: catalogue.appending(path: article), encoding: .utf8)
            for link in text.matches(of: /<doc:(\w+)>/) {
                #expect(names.contains(String(link.output.1)), "\(article) links to a missing article \(link.output.1)")
            }
        }
    }
}
