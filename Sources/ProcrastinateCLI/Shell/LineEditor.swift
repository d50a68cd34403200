/// The line being typed at the shell's prompt, and the lines typed before it.
///
/// Emacs-style keys, as readline offers them: arrows and Ctrl-B/F move, Home/End and
/// Ctrl-A/E jump, Backspace/Delete erase, Ctrl-K/U cut to the end/start, Up/Down (Ctrl-P/N)
/// walk the history, Ctrl-C drops the line, Ctrl-D on an empty line ends the input.
/// Terminal-free, so that its behaviour is tested key by key.
struct LineEditor {
    /// A key press, decoded from the terminal's bytes by ``KeyDecoder``.
    enum Key: Equatable {
        case character(Character)
        case backspace, delete, left, right, home, end, up, down
        case enter, killToEnd, killToStart, interrupt, endOfInput
    }

    /// What the terminal should do after a key.
    enum Outcome: Equatable {
        /// Show the line again (it or the cursor changed).
        case redraw
        /// The line was entered.
        case submit(String)
        /// The input ended (Ctrl-D on an empty line).
        case finish
        /// Nothing to do.
        case ignore
    }

    private(set) var text: [Character] = []
    private(set) var cursor = 0
    private var history: [String] = []
    /// Which history line is shown; `history.count` is the line being typed.
    private var historyPosition = 0
    /// The line being typed, kept while the history is walked.
    private var draft: [Character] = []

    /// Applies `key`.
    mutating func handle(_ key: Key) -> Outcome {
        switch key {
        case .character(let character):
            text.insert(character, at: cursor)
            cursor += 1
        case .backspace:
            guard cursor > 0 else { return .ignore }
            cursor -= 1
            text.remove(at: cursor)
        case .delete:
            guard cursor < text.count else { return .ignore }
            text.remove(at: cursor)
        case .left:
            guard cursor > 0 else { return .ignore }
            cursor -= 1
        case .right:
            guard cursor < text.count else { return .ignore }
            cursor += 1
        case .home:
            cursor = 0
        case .end:
            cursor = text.count
        case .killToEnd:
            text.removeSubrange(cursor...)
        case .killToStart:
            text.removeSubrange(..<cursor)
            cursor = 0
        case .up:
            guard historyPosition > 0 else { return .ignore }
            if historyPosition == history.count { draft = text }
            historyPosition -= 1
            show(Array(history[historyPosition]))
        case .down:
            guard historyPosition < history.count else { return .ignore }
            historyPosition += 1
            show(historyPosition == history.count ? draft : Array(history[historyPosition]))
        case .interrupt:
            show([])
            historyPosition = history.count
        case .endOfInput:
            return text.isEmpty ? .finish : handle(.delete)
        case .enter:
            let line = String(text)
            if !line.allSatisfy(\.isWhitespace) && history.last != line {
                history.append(line)
            }
            historyPosition = history.count
            show([])
            return .submit(line)
        }
        return .redraw
    }

    private mutating func show(_ line: [Character]) {
        text = line
        cursor = line.count
    }
}
