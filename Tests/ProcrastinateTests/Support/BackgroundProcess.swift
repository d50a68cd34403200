import Foundation
import Synchronization
import Testing

/// A process started by a test, its output gathered as it comes.
final class BackgroundProcess: Sendable {
    /// Bytes appended by a pipe's reader.
    final class Buffer: Sendable {
        private let data = Mutex(Data())
        func append(_ bytes: Data) { data.withLock { $0.append(bytes) } }
        var text: String { String(decoding: data.withLock { $0 }, as: UTF8.self) }
    }

    private let process: Process
    private let output = Buffer()
    private let errors = Buffer()

    /// Starts the executable `name` (built next to the test bundle) with `arguments`.
    convenience init(_ name: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let path = URL(filePath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: name).path()
        try self.init(path: path, arguments, environment: environment)
    }

    /// Starts the executable at `path` with `arguments`.
    init(path: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let process = Process()
        process.executableURL = URL(filePath: path)
        process.arguments = arguments
        process.environment = environment
        let standardOutput = Pipe()
        let standardError = Pipe()
        process.standardOutput = standardOutput
        process.standardError = standardError
        process.standardInput = FileHandle.nullDevice
        self.process = process
        standardOutput.fileHandleForReading.readabilityHandler = { [output] handle in output.append(handle.availableData) }
        standardError.fileHandleForReading.readabilityHandler = { [errors] handle in errors.append(handle.availableData) }
        try process.run()
    }

    /// Everything printed so far, by line.
    var lines: [String] {
        output.text.split(separator: "\n").map(String.init)
    }

    /// What it printed on standard error.
    var errorOutput: String {
        errors.text
    }

    /// Sends `signal` (SIGTERM, SIGKILL, …).
    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits until it exited; returns its status.
    @discardableResult
    func exited(within timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await within(timeout, waitingFor: "process \(process.processIdentifier) to exit") { [process] in
            while process.isRunning {
                try await Task.sleep(for: .milliseconds(20))
            }
            return process.terminationStatus
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
