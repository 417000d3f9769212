extension StringProtocol {
    /// Without leading and trailing white space (spaces, tabs, Unicode spaces), cheaply: Foundation's
    /// `trimmingCharacters(in: .whitespaces)` bridges every call through NSString.
    public func trimmingWhitespace() -> SubSequence {
        var end = endIndex
        while end > startIndex, self[index(before: end)].isWhitespace { end = index(before: end) }
        var start = startIndex
        while start < end, self[start].isWhitespace { start = index(after: start) }
        return self[start..<end]
    }
}
