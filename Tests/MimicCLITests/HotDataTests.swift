import Foundation
import Testing

@testable import mimic

/// The zeroed data a probe writes is populated at start between two markers that the order file brackets it with
/// (`HotData`): the range is trusted only when the markers are in order and close, and populating leaves the data
/// as it was.
@Suite("mimic: the hot zeroed data")
struct HotDataTests {
    @Test("the range runs from the start marker's page to the end marker's page, both whole")
    func pageAligned() {
        #expect(HotData.pages(start: 0x10_0010, end: 0x10_3001, pageSize: 4096) == 0x10_0000..<0x10_4000)
        #expect(HotData.pages(start: 0x10_0000, end: 0x10_1000, pageSize: 4096) == 0x10_0000..<0x10_1000)
        #expect(HotData.pages(start: 0x10_0fff, end: 0x10_1000, pageSize: 4096) == 0x10_0000..<0x10_1000)
    }

    @Test("markers out of order, together or far apart bracket nothing")
    func untrusted() {
        #expect(HotData.pages(start: 0x10_1000, end: 0x10_0000, pageSize: 4096) == nil)
        #expect(HotData.pages(start: 0x10_0000, end: 0x10_0000, pageSize: 4096) == nil)
        #expect(HotData.pages(start: 0x10_0000, end: 0x10_0000 + UInt(HotData.largest) + 1, pageSize: 4096) == nil)
        #expect(HotData.pages(start: 0x10_0000, end: 0x10_1000, pageSize: 0) == nil)
        #expect(HotData.pages(start: 0x10_0000, end: 0x10_1000, pageSize: 3000) == nil)
    }

    @Test("populating leaves the data as it was")
    func harmless() {
        hotDataStart = 7
        HotData.populate()
        HotData.populate()
        #expect(hotDataStart == 7)
        #expect(hotDataEnd == 0)
        hotDataStart = 0
    }

    /// `Tools/probe.order` names the markers around the data, start first (Tools/probe-order.py writes them).
    @Test("the order file brackets the data with the two markers")
    func orderFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let lines = try String(contentsOf: root.appendingPathComponent("Tools/probe.order"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex(of: "$s5mimic12hotDataStarts5UInt8Vvp"))
        let end = try #require(lines.firstIndex(of: "$s5mimic10hotDataEnds5UInt8Vvp"))
        #expect(start < end - 1)
        #expect(end == lines.count - 1)
    }
}
