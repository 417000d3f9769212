/// Columns aligned for a terminal; cells may hold several lines.
public struct TextTable: Sendable {
    public var header: [String]
    public var rows: [[String]] = []

    public init(header: [String]) {
        self.header = header
    }

    public mutating func add(_ row: [String]) {
        rows.append(row)
    }

    public func render(separator: String = "  ") -> String {
        let all = [header] + rows
        let columns = all.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in all {
            for (index, cell) in row.enumerated() {
                for line in cell.split(separator: "\n", omittingEmptySubsequences: false) {
                    widths[index] = max(widths[index], line.count)
                }
            }
        }
        var out: [String] = []
        for (rowIndex, row) in all.enumerated() {
            let cells = row.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            let height = cells.map(\.count).max() ?? 1
            for lineIndex in 0..<height {
                var parts: [String] = []
                for column in 0..<columns {
                    let lines = column < cells.count ? cells[column] : []
                    let text = lineIndex < lines.count ? lines[lineIndex] : ""
                    parts.append(column == columns - 1 ? text : text.padding(to: widths[column]))
                }
                out.append(parts.joined(separator: separator).trimmingTrailingSpaces())
            }
            if rowIndex == 0 {
                out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: separator))
            }
        }
        return out.joined(separator: "\n")
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
