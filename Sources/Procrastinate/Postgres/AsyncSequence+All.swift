extension AsyncSequence {
    /// Every element, gathered in an array.
    func all() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self {
            elements.append(element)
        }
        return elements
    }
}
