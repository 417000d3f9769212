/// Levenshtein distance, for "did you mean" suggestions on misspelt keys and values.
enum EditDistance {
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased())
        let b = Array(b.lowercased())
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The closest candidate when it is close enough to be a likely typo, else nil.
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        // An abbreviation (`crit`, `long_form`) is a likely typo however far it is by edits.
        let extensions = candidates.filter { word.count >= 3 && $0.lowercased().hasPrefix(word.lowercased()) }
        if extensions.count == 1 { return extensions[0] }
        // Three characters or fewer ("1.4", "tls") are too short for an edit distance to mean anything.
        guard word.count > 3 else { return nil }
        let threshold = max(2, word.count / 3)
        let scored = candidates.map { ($0, distance(word, $0)) }.filter { $0.1 <= threshold }
        return scored.min { $0.1 < $1.1 }?.0
    }
}
