extension String {
    /// Where `needle` first occurs, compared byte by byte in UTF-8; nil when it does not, or is empty. Neither
    /// Foundation's `range(of:)` (CoreFoundation's locale-aware search, which loads locale data at first use) nor
    /// the standard library's generic `firstRange(of:)` (whose types the runtime instantiates at first use across
    /// modules): the probe's start paid for both. A match starts and ends on Unicode scalar boundaries whenever
    /// `needle` starts and ends with ASCII, as every caller's does, so the range slices the string safely.
    public func utf8Range(of needle: String) -> Range<String.Index>? {
        let haystack = Array(utf8)
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty, pattern.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - pattern.count)
        where haystack[start] == pattern[0] && haystack[start..<start + pattern.count].elementsEqual(pattern) {
            let lower = utf8.index(utf8.startIndex, offsetBy: start)
            return lower..<utf8.index(lower, offsetBy: pattern.count)
        }
        return nil
    }
}
