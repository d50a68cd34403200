import Testing

@testable import ProcrastinateCLI

/// The shell's line editing, key by key and byte by byte.
@Suite struct LineEditorTests {
    /// Decodes `bytes` as a terminal sends them and applies every key; returns the outcomes.
    func type(_ bytes: String, into editor: inout LineEditor) -> [LineEditor.Outcome] {
        var decoder = KeyDecoder()
        return Array(bytes.utf8).compactMap { decoder.feed($0) }.map { editor.handle($0) }
    }

    @Test func decodesTextControlKeysAndEscapeSequences() {
        var decoder = KeyDecoder()
        let keys = Array("a€\u{1B}[D\u{1B}[C\u{1B}OH\u{1B}[F\u{1B}[3~\u{1B}[1;5C\u{7F}\u{01}\u{05}\u{0B}\u{15}\u{03}\u{04}\r".utf8)
            .compactMap { decoder.feed($0) }
        #expect(keys == [
            .character("a"), .character("€"), .left, .right, .home, .end, .delete,
            .backspace, .home, .end, .killToEnd, .killToStart, .interrupt, .endOfInput, .enter,
        ])
    }

    @Test func editsInTheMiddleOfTheLine() {
        var editor = LineEditor()
        // "list_jobs", back 4, erase "_", insert "X", end, add "!", enter.
        let outcomes = type("list_jobs\u{1B}[D\u{1B}[D\u{1B}[D\u{1B}[D\u{7F}X\u{05}!\r", into: &editor)
        #expect(outcomes.last == .submit("listXjobs!"))
        #expect(editor.text.isEmpty && editor.cursor == 0)
    }

    @Test func cutsToTheEndAndToTheStart() {
        var editor = LineEditor()
        _ = type("cancel 12 wrong\u{1B}[D\u{1B}[D\u{1B}[D\u{1B}[D\u{1B}[D\u{1B}[D\u{0B}", into: &editor)
        #expect(String(editor.text) == "cancel 12")
        _ = type("\u{1B}[D\u{1B}[D\u{15}", into: &editor)
        #expect(String(editor.text) == "12" && editor.cursor == 0)
        #expect(type("\u{1B}[D", into: &editor) == [.ignore])
    }

    @Test func walksTheHistoryAndKeepsTheDraft() {
        var editor = LineEditor()
        _ = type("list_queues\rlist_tasks\rlist_tasks\r   \rdraft", into: &editor)
        // Repeated and blank lines are not remembered.
        _ = type("\u{1B}[A", into: &editor)
        #expect(String(editor.text) == "list_tasks")
        _ = type("\u{10}", into: &editor)
        #expect(String(editor.text) == "list_queues")
        #expect(type("\u{1B}[A", into: &editor) == [.ignore])
        _ = type("\u{1B}[B\u{0E}", into: &editor)
        #expect(String(editor.text) == "draft" && editor.cursor == 5)
    }

    @Test func controlDEndsOnlyAnEmptyLine() {
        var editor = LineEditor()
        #expect(type("ab\u{01}\u{04}", into: &editor).last == .redraw)
        #expect(String(editor.text) == "b")
        #expect(type("\u{03}\u{04}", into: &editor) == [.redraw, .finish])
    }
}
