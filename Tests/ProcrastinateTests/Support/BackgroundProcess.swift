import Foundation
import Synchronization
import Testing

/// A process started by a test, its output gathered as it comes.
final class BackgroundProcess: Sendable {
    /// Bytes appended by a pipe's reader, until the pipe's end.
    final class Buffer: Sendable {
        private let state = Mutex((data: Data(), ended: false))
        func append(_ bytes: Data) { state.withLock { $0.data.append(bytes) } }
        func end() { state.withLock { $0.ended = true } }
        var text: String { String(decoding: state.withLock { $0.data }, as: UTF8.self) }
        /// Whether the pipe's end was read: nothing more will come.
        var ended: Bool { state.withLock { $0.ended } }
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
        try process.run()
        Self.read(standardOutput.fileHandleForReading, into: output)
        Self.read(standardError.fileHandleForReading, into: errors)
    }

    /// Reads `handle` until its end, on a thread of its own (the reads block).
    private static func read(_ handle: FileHandle, into buffer: Buffer) {
        Thread {
            while case let bytes = handle.availableData, !bytes.isEmpty {
                buffer.append(bytes)
            }
            buffer.end()
        }.start()
    }

    /// Everything printed so far, by line.
    var lines: [String] {
        output.text.split(separator: "\n").map(String.init)
    }

    /// What it printed on standard error.
    var errorOutput: String {
        errors.text
    }

    /// The process's id.
    var pid: Int32 { process.processIdentifier }

    /// Whether it still runs.
    var isRunning: Bool { process.isRunning }

    /// Sends `signal` (SIGTERM, SIGKILL, …).
    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits until it exited and its output was read; returns its status.
    @discardableResult
    func exited(within timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await within(timeout, waitingFor: "process \(process.processIdentifier) to exit") { [process, output, errors] in
            while process.isRunning {
                try await Task.sleep(for: .milliseconds(20))
            }
            // What it printed last may still be in the pipes: wait (a little) for their ends.
            let deadline = ContinuousClock.now + .seconds(2)
            while !(output.ended && errors.ended), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            return process.terminationStatus
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
