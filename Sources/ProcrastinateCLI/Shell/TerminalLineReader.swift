#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the shell's lines from a terminal with line editing and history (``LineEditor``),
/// switching the terminal to raw mode only while a line is typed.
struct TerminalLineReader {
    private let prompt: String
    private var editor = LineEditor()
    private var decoder = KeyDecoder()

    /// A reader showing `prompt`.
    init(prompt: String) {
        self.prompt = prompt
    }

    /// The next line, or nil at the end of the input.
    mutating func readLine() -> String? {
        var original = termios()
        guard tcgetattr(STDIN_FILENO, &original) == 0 else { return Swift.readLine() }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            emit("\r\n")
        }

        redraw()
        var byte: UInt8 = 0
        while read(STDIN_FILENO, &byte, 1) == 1 {
            guard let key = decoder.feed(byte) else { continue }
            switch editor.handle(key) {
            case .redraw: redraw()
            case .submit(let line): return line
            case .finish: return nil
            case .ignore: emit("\u{07}")
            }
        }
        return nil
    }

    /// Shows the prompt and the line, and puts the cursor where the editor has it.
    private func redraw() {
        var output = "\r" + prompt + String(editor.text) + "\u{1B}[K"
        let back = editor.text.count - editor.cursor
        if back > 0 { output += "\u{1B}[\(back)D" }
        emit(output)
    }

    private func emit(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
