import Foundation
import Testing

/// A PostgreSQL cluster of a test's own, which it may restart, crash and stop without
/// disturbing the other tests: initdb in a temporary folder, listening on a free port of
/// 127.0.0.1. The server binaries come from `PG_BIN` (which `scripts/test` sets) or the usual
/// Debian folders; as root the server runs as the `postgres` user, as initdb requires.
final class PrivateCluster: Sendable {
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    let bin: String
    let directory: String
    let port: Int

    /// The folder holding `initdb` and `pg_ctl`, if any.
    static let binaries: String? = {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["PG_BIN"]].compactMap { $0 } + ["/usr/lib/postgresql/15/bin"]
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted().reversed()
                .map { "/usr/lib/postgresql/\($0)/bin" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl") }
    }()

    /// Whether clusters can be made here.
    static var isAvailable: Bool { binaries != nil }

    /// The database URL (the `postgres` database, holding the Procrastinate schema once the
    /// test applied it).
    var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

    /// Makes and starts a cluster; `settings` are server settings (`name=value`). Commits are
    /// synchronous, so that a crash keeps every acknowledged commit.
    init(settings: [String] = []) throws {
        guard let bin = Self.binaries else { throw Failed(description: "no PostgreSQL server binaries (set PG_BIN)") }
        self.bin = bin
        directory = FileManager.default.temporaryDirectory.appending(path: "procrastinate-chaos-\(UUID().uuidString.prefix(8))").path()
        port = try Self.freePort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if geteuid() == 0 {
            try Self.run("/bin/chown", ["postgres", directory])
        }
        try runAsOwner("\(bin)/initdb", ["-D", "\(directory)/data", "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        let options = ([
            "listen_addresses=127.0.0.1", "port=\(port)", "unix_socket_directories=\(directory)", "max_connections=200",
            "fsync=off", "full_page_writes=off",
        ] + settings).map { "-c \($0)" }.joined(separator: " ")
        try Data(options.utf8).write(to: URL(filePath: "\(directory)/options"))
        try start()
    }

    /// Starts the server (waiting until it accepts connections).
    func start() throws {
        let options = try String(contentsOfFile: "\(directory)/options", encoding: .utf8)
        try runAsOwner("\(bin)/pg_ctl", ["-D", "\(directory)/data", "-l", "\(directory)/server.log", "-o", options, "-w", "-t", "60", "start"])
    }

    /// Stops the server: `fast` (backends terminated, a clean shutdown) or `immediate` (a crash).
    func stop(_ mode: String) throws {
        try runAsOwner("\(bin)/pg_ctl", ["-D", "\(directory)/data", "-m", mode, "-w", "-t", "60", "stop"])
    }

    /// Restarts the server in `mode`.
    func restart(_ mode: String) throws {
        try stop(mode)
        try start()
    }

    /// Stops the server for good and deletes its folder.
    func destroy() {
        try? stop("immediate")
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func runAsOwner(_ executable: String, _ arguments: [String]) throws {
        if geteuid() == 0 {
            let command = ([executable] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
                .joined(separator: " ")
            try Self.run("/bin/su", ["postgres", "-s", "/bin/sh", "-c", command])
        } else {
            try Self.run(executable, arguments)
        }
    }

    /// Runs `executable` to its end, its output in a file. Not through Foundation's `Process`,
    /// which notices a child's end through a descriptor that the server pg_ctl starts inherits,
    /// so it would wait for the server to stop.
    private static func run(_ executable: String, _ arguments: [String]) throws {
        let log = FileManager.default.temporaryDirectory.appending(path: "procrastinate-chaos-\(UUID().uuidString.prefix(8)).log").path()
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failed(description: "cannot run \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // Exited normally with status 0 (the wait status's low byte 0, the exit code in the next).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failed(description: "\(executable) \(arguments.joined(separator: " ")) failed (wait status \(status)): \(text)")
        }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw Failed(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
