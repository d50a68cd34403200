import ArgumentParser
import Foundation
import Procrastinate

/// `procrastinate defer TASK [JSON_ARGS]`: create a job for a worker.
struct DeferCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "defer",
            abstract: "Create a job from the given task, to be executed by a worker.",
            discussion: """
                Exit status 1 when the queueing lock is taken, unless --ignore-already-enqueued. Options \
                also come from PROCRASTINATE_DEFER_<OPTION> (PROCRASTINATE_DEFER_QUEUE, …).

                \(examples(#"defer sum '{"a": 3, "b": 5}'"#, #"defer send_email '{"to": "a@b.c"}' --queue emails --in 60 --unknown"#))
                """
        )
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The task's name.")
    var task: String

    @Argument(help: "The task's arguments: a JSON object.")
    var jsonArguments: String?

    @Option(help: "The queue (default: the task's).")
    var queue: String?

    @Option(help: "Jobs sharing a lock run one at a time.")
    var lock: String?

    @Option(help: "Fail if a job with this queueing lock is already waiting.")
    var queueingLock: String?

    @Flag(name: [.customShort("i"), .long], inversion: .prefixedNo, help: "Exit with status 0 when the queueing lock is taken (the error is still shown).")
    var ignoreAlreadyEnqueued: Bool?

    @Option(help: "Not before this ISO 8601 time (without an offset: UTC).")
    var at: String?

    @Option(name: .customLong("in"), parsing: .unconditional, help: "Not before this many seconds from now.")
    var inSeconds: Int?

    @Option(parsing: .unconditional, help: "Priority: higher runs first (default: the task's).")
    var priority: Int?

    @Flag(inversion: .prefixedNo, help: "Allow a task this program does not know.")
    var unknown: Bool?

    func run() async throws {
        let env = EnvironmentOptions(prefix: "PROCRASTINATE_DEFER_", environment: ProcessInfo.processInfo.environment)
        let json = jsonArguments ?? env.string("JSON_ARGS")
        let arguments: [String: JSONValue]
        do {
            arguments = try json.map { try JSONDecoder().decode([String: JSONValue].self, from: Data($0.utf8)) } ?? [:]
        } catch {
            throw CommandError("incorrect JSON_ARGS value '\(json ?? "")': expected a JSON object such as '{\"a\": 1}'")
        }
        let atText = at ?? env.string("AT")
        let delay = try inSeconds ?? env.int("IN")
        if let delay, delay < 0 { throw CommandError("--in must be 0 or more seconds, not \(delay)") }
        if atText != nil && delay != nil { throw CommandError("give --at or --in, not both") }
        let scheduleAt = try atText.map { try parseTime($0, option: "--at", zone: TimeZone(identifier: "UTC")!) }
        let ignore = try ignoreAlreadyEnqueued ?? env.bool("IGNORE_ALREADY_ENQUEUED") ?? false
        let allowUnknown = try unknown ?? env.bool("UNKNOWN") ?? false

        try await global.withApp { app in
            let options = JobOptions(
                queue: queue ?? env.string("QUEUE"), priority: try priority ?? env.int("PRIORITY"), lock: lock ?? env.string("LOCK"),
                queueingLock: queueingLock ?? env.string("QUEUEING_LOCK"), scheduleAt: scheduleAt, scheduleIn: delay.map { .seconds($0) }
            )
            let deferrer = try app.configureTask(name: task, allowUnknown: allowUnknown, options)
            let rendered = arguments.keys.sorted().map { key in
                "\(key)=\(PythonRepr.render(json: String(decoding: try! JSONEncoder().encode(arguments[key]!), as: UTF8.self)))"
            }
            do {
                let id = try await deferrer.defer(arguments)
                printError("Launched a job: \(task)(\(rendered.joined(separator: ", ")))")
                print(id)
            } catch let error as AlreadyEnqueued where ignore {
                printError("\(error) (ignored)")
            }
        }
    }
}

/// Prints a line on standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
