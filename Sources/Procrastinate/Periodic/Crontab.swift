import Cron
public import Foundation

/// crontab files declaring periodic tasks: `crontabs/*.crontab`.
///
/// ```crontab
/// CRON_TZ=Europe/Paris
/// QUEUE=maintenance
/// # min hour dom mon dow [sec [year]]  task                  [--options]   [JSON kwargs]
/// 0     3    *   *   *                 app.tasks.vacuum      --lock=db
/// 30    2    1   *   *                 app.tasks.report      --id=fr       {"country": "fr"}
/// ```
///
/// Lines are blank, comments (`#` first), assignments (`CRON_TZ`/`TZ`, `QUEUE`, `PRIORITY`,
/// `DST`, applying to the following lines of the file) or entries: a schedule (5 to 7 fields
/// or a nickname), a task name, options (`--id`, `--queue`, `--lock`, `--queueing-lock`,
/// `--priority`) and a JSON object of task arguments. Loading is all or nothing: every
/// mistake of every file is reported, each at `file:line:column`.
public enum Crontab {
    /// The entries of one file's text, or every mistake in it.
    public static func parse(_ text: String, file: String) -> Result<[CrontabEntry], CrontabErrors> {
        let (entries, errors) = read(text, file: file)
        return errors.isEmpty ? .success(entries) : .failure(CrontabErrors(errors: errors))
    }

    /// The well-formed entries of one file's text, and every mistake in it.
    static func read(_ text: String, file: String) -> (entries: [CrontabEntry], errors: [CrontabError]) {
        var state = FileState()
        var entries: [CrontabEntry] = []
        var errors: [CrontabError] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            var parser = LineParser(line: line, location: CrontabLocation(file: file, line: index + 1, column: 1))
            do throws(CrontabError) {
                if let entry = try parser.parse(state: &state) {
                    entries.append(entry)
                }
            } catch {
                errors.append(error)
            }
        }
        return (entries, errors)
    }

    /// The entries of every `*.crontab` file of `directory` (in name order), or every mistake
    /// found in any of them, including `(task, --id)` pairs declared twice.
    public static func load(directory: URL) throws(CrontabErrors) -> [CrontabEntry] {
        let (entries, errors) = read(directory: directory)
        guard errors.isEmpty else { throw CrontabErrors(errors: errors) }
        return entries
    }

    /// Every well-formed entry of the `*.crontab` files of `directory` (in name order), and
    /// every mistake of every file: callers that check more (task names, arguments) report
    /// their findings with these in one pass.
    public static func read(directory: URL) -> (entries: [CrontabEntry], errors: [CrontabError]) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasSuffix(".crontab") }
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        } catch {
            return ([], [CrontabError(location: CrontabLocation(file: directory.path, line: 0, column: 0), message: unreadable(directory))])
        }
        var files: [(name: String, text: String)] = []
        var errors: [CrontabError] = []
        for name in names {
            let url = directory.appending(path: name)
            guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                errors.append(CrontabError(location: CrontabLocation(file: url.path, line: 0, column: 0), message: "cannot read the file as UTF-8"))
                continue
            }
            files.append((url.path, text))
        }
        let read = read(files: files)
        return (read.entries, errors + read.errors)
    }

    /// Why `directory` cannot be listed, in words.
    private static func unreadable(_ directory: URL) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            return "no such directory"
        }
        return isDirectory.boolValue ? "cannot read the directory (permission denied?)" : "not a directory"
    }

    /// Parses several files as one set: the entries, or every mistake of every file.
    public static func merge(files: [(name: String, text: String)]) throws(CrontabErrors) -> [CrontabEntry] {
        let (entries, errors) = read(files: files)
        guard errors.isEmpty else { throw CrontabErrors(errors: errors) }
        return entries
    }

    /// Parses several files as one set: the well-formed entries that are not duplicates, and
    /// every mistake of every file.
    public static func read(files: [(name: String, text: String)]) -> (entries: [CrontabEntry], errors: [CrontabError]) {
        var errors: [CrontabError] = []
        var parsed: [CrontabEntry] = []
        for file in files {
            let read = read(file.text, file: file.name)
            parsed += read.entries
            errors += read.errors
        }
        var seen: [String: CrontabLocation] = [:]
        var entries: [CrontabEntry] = []
        for entry in parsed {
            let key = "\(entry.taskName)\u{0}\(entry.periodicID)"
            if let first = seen[key] {
                errors.append(CrontabError(
                    location: entry.location,
                    message: "\(entry.taskName) with --id=\"\(entry.periodicID)\" is already scheduled at \(first); give each line of one task its own --id"
                ))
            } else {
                seen[key] = entry.location
                entries.append(entry)
            }
        }
        return (entries, errors.sorted())
    }

    /// The assignments in force while reading a file.
    struct FileState {
        var timeZone = CronSchedule.utc
        var queue: String?
        var priority: Int?
        var dst = CronSchedule.DSTPolicy.once
    }
}

/// Reads one line of a crontab file.
private struct LineParser {
    let line: Substring
    let location: CrontabLocation
    private var index: Substring.Index

    init(line: Substring, location: CrontabLocation) {
        self.line = line
        self.location = location
        self.index = line.startIndex
    }

    private func error(_ message: String, at position: Substring.Index? = nil) -> CrontabError {
        var place = location
        place.column = line.distance(from: line.startIndex, to: position ?? index) + 1
        return CrontabError(location: place, message: message)
    }

    private static func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }

    private mutating func skipBlanks() {
        while index < line.endIndex, Self.isBlank(line[index]) { index = line.index(after: index) }
    }

    /// The next blank-separated token and where it starts.
    private mutating func token() -> (text: Substring, start: Substring.Index)? {
        skipBlanks()
        guard index < line.endIndex else { return nil }
        let start = index
        while index < line.endIndex, !Self.isBlank(line[index]) { index = line.index(after: index) }
        return (line[start..<index], start)
    }

    mutating func parse(state: inout Crontab.FileState) throws(CrontabError) -> CrontabEntry? {
        skipBlanks()
        guard index < line.endIndex, line[index] != "#" else { return nil }
        if try parseAssignment(state: &state) { return nil }
        return try parseEntry(state: state)
    }

    // MARK: Assignments

    private mutating func parseAssignment(state: inout Crontab.FileState) throws(CrontabError) -> Bool {
        let start = index
        let name = line[start...].prefix { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }
        guard let first = name.first, !first.isNumber else { return false }
        var cursor = name.endIndex
        while cursor < line.endIndex, Self.isBlank(line[cursor]) { cursor = line.index(after: cursor) }
        guard cursor < line.endIndex, line[cursor] == "=" else { return false }
        index = line.index(after: cursor)
        skipBlanks()
        let valueStart = index
        let value = try assignmentValue()

        switch name {
        case "CRON_TZ", "TZ":
            do {
                state.timeZone = try TimeZone(named: value)
            } catch {
                throw self.error("\(error)", at: valueStart)
            }
        case "QUEUE":
            guard !value.isEmpty else { throw error("QUEUE needs a queue name", at: valueStart) }
            state.queue = value
        case "PRIORITY":
            guard let priority = Int(value) else { throw error("PRIORITY must be an integer, not '\(value)'", at: valueStart) }
            state.priority = priority
        case "DST":
            switch value {
            case "once", "vixie": state.dst = .once
            case "croniter": state.dst = .croniter
            default: throw error("DST must be 'vixie' (alias 'once') or 'croniter', not '\(value)'", at: valueStart)
            }
        default:
            throw error("unknown setting \(name) (expected CRON_TZ, TZ, QUEUE, PRIORITY or DST)", at: start)
        }
        return true
    }

    private mutating func assignmentValue() throws(CrontabError) -> String {
        guard index < line.endIndex else { return "" }
        let quote = line[index]
        if quote == "\"" || quote == "'" {
            let open = index
            let content = line[line.index(after: open)...]
            guard let close = content.firstIndex(of: quote) else { throw error("unterminated quoted value", at: open) }
            index = line.index(after: close)
            skipBlanks()
            guard index == line.endIndex else { throw error("unexpected text after the quoted value") }
            return String(content[..<close])
        }
        let raw = line[index...]
        var value = raw
        while let last = value.last, Self.isBlank(last) { value = value.dropLast() }
        if let hash = value.firstIndex(of: "#"), hash > value.startIndex, Self.isBlank(value[value.index(before: hash)]) {
            throw error("a comment cannot follow a value on the same line; put it on its own line", at: hash)
        }
        index = line.endIndex
        return String(value)
    }

    // MARK: Entries

    private mutating func parseEntry(state: Crontab.FileState) throws(CrontabError) -> CrontabEntry {
        guard let first = token() else { throw error("empty entry") }
        var fields = [first.text]
        if first.text.hasPrefix("@") {
            if first.text.lowercased() == "@reboot" {
                throw error("@reboot is not meaningful for a task queue", at: first.start)
            }
            if first.text.lowercased() == "@every", let duration = token() {
                fields.append(duration.text)
            }
        } else {
            for _ in 0..<4 {
                guard let field = token() else { throw error("incomplete schedule: expected 5 fields, then a task name") }
                fields.append(field.text)
            }
            // A 6th and a 7th token belong to the schedule when they look like cron fields.
            for _ in 0..<2 {
                let saved = index
                guard let next = token(), Self.looksLikeField(next.text) else {
                    index = saved
                    break
                }
                fields.append(next.text)
            }
        }
        guard let task = token() else { throw error("missing task name after the schedule") }
        guard Self.isTaskName(task.text) else {
            throw error("'\(task.text)' is not a task name (letters, digits, '_', '.', ':' and '-')", at: task.start)
        }

        var options: [String: (value: String, start: Substring.Index)] = [:]
        var kwargs: [String: JSONValue] = [:]
        while true {
            skipBlanks()
            guard index < line.endIndex else { break }
            if line[index] == "{" {
                kwargs = try parseKwargs()
                break
            }
            let (name, value, start) = try parseOption()
            guard options[name] == nil else { throw error("--\(name) is given twice", at: start) }
            options[name] = (value, start)
        }

        let periodicID = options["id"]?.value ?? ""
        let scheduleText = fields.joined(separator: " ")
        let schedule: CronSchedule
        do {
            let options = PeriodicTask.cronOptions(taskName: String(task.text), periodicID: periodicID)
            let expression = try CronExpression(scheduleText, options: options)
            schedule = CronSchedule(expression, timeZone: state.timeZone, dst: state.dst)
        } catch {
            // Point at the field in the line: map the expression's column back onto the line.
            let field = error.field.map { "\($0) " } ?? ""
            throw self.error(
                "invalid schedule: \(field)'\(error.token)': \(error.reason)",
                at: Self.position(ofColumn: error.column, in: fields, line: line)
            )
        }
        var priority = state.priority
        if let given = options["priority"] {
            guard let value = Int(given.value) else { throw error("--priority must be an integer, not '\(given.value)'", at: given.start) }
            priority = value
        }
        let jobOptions = JobOptions(
            queue: options["queue"]?.value ?? state.queue, priority: priority, lock: options["lock"]?.value,
            queueingLock: options["queueing-lock"]?.value, extraArguments: kwargs
        )
        return CrontabEntry(schedule: schedule, taskName: String(task.text), periodicID: periodicID, options: jobOptions, location: location)
    }

    private static let optionNames: Set<String> = ["id", "queue", "lock", "queueing-lock", "priority"]

    /// `--name=value` or `--name="value with spaces"`.
    private mutating func parseOption() throws(CrontabError) -> (String, String, Substring.Index) {
        let start = index
        guard line[start...].hasPrefix("--"), let equals = line[start...].firstIndex(of: "=") else {
            let text = line[start...].prefix { !Self.isBlank($0) }
            throw error("unexpected '\(text)': expected --id, --queue, --lock, --queueing-lock, --priority or a JSON object", at: start)
        }
        let name = String(line[line.index(start, offsetBy: 2)..<equals])
        guard Self.optionNames.contains(name) else {
            throw error("unknown option --\(name) (expected --id, --queue, --lock, --queueing-lock or --priority)", at: start)
        }
        index = line.index(after: equals)
        if index < line.endIndex, line[index] == "\"" {
            let content = line[line.index(after: index)...]
            guard let close = content.firstIndex(of: "\"") else { throw error("unterminated quoted value", at: index) }
            index = line.index(after: close)
            return (name, String(content[..<close]), start)
        }
        let value = line[index...].prefix { !Self.isBlank($0) }
        index = value.endIndex
        guard !value.isEmpty else { throw error("--\(name) needs a value", at: start) }
        return (name, String(value), start)
    }

    /// The JSON object from here to the end of the line.
    private mutating func parseKwargs() throws(CrontabError) -> [String: JSONValue] {
        let start = index
        let text = String(line[start...])
        index = line.endIndex
        let value: JSONValue
        do {
            value = try ArgumentsCoding.decoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw self.error("the task arguments are not valid JSON (one JSON object, to the end of the line)", at: start)
        }
        guard case .object(let dictionary) = value else {
            throw error("the task arguments must be a JSON object", at: start)
        }
        guard dictionary["timestamp"] == nil else {
            throw error("'timestamp' is reserved: the tick's time is passed under that name", at: start)
        }
        return dictionary
    }

    /// `^[0-9*?,/-]+$` or an `H` form.
    private static func looksLikeField(_ text: Substring) -> Bool {
        if text.allSatisfy({ $0.isASCII && ($0.isNumber || "*?,/-".contains($0)) }) { return true }
        guard let first = text.first, first == "H" || first == "h" else { return false }
        return text.dropFirst().allSatisfy { $0.isASCII && ($0.isNumber || "()-/".contains($0)) }
    }

    private static func isTaskName(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.:-".contains($0)) }
    }

    /// The position in `line` of a column of the schedule text (its fields joined by single spaces).
    private static func position(ofColumn column: Int, in fields: [Substring], line: Substring) -> Substring.Index {
        var remaining = column - 1
        for field in fields {
            if remaining < field.count {
                return line.index(field.startIndex, offsetBy: remaining)
            }
            remaining -= field.count + 1
        }
        return fields.first?.startIndex ?? line.startIndex
    }
}
