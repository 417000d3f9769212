#if canImport(Glibc)
import Glibc
#endif

/// Where `hotDataStart`'s bracket ends: `Tools/probe.order` names it after the zeroed data a probe writes.
nonisolated(unsafe) var hotDataEnd: UInt8 = 0

/// The zeroed data a probe writes, given its pages writable at once, before any other thread runs.
///
/// A probe's first read of a page of zeroed data (a metadata cache, a once-token) maps the kernel's shared zero
/// page; its first write then copies it, and the kernel must flush the old mapping from every core that runs one of
/// the process's threads, by an interrupt it waits for. A probe did that about 75 times (the
/// `exceptions:page_fault_user` tracepoint: read, then write, on the same page), most of them while the event
/// loops ran on the other core. `Tools/probe-order.py` finds the data a probe touches, and `make release` lays it
/// out between `hotDataStart` and `hotDataEnd` (lld's `--symbol-ordering-file`, which orders data sections as it
/// orders code); `populate()` asks the kernel for those pages, written, in one call. Pages a probe does not touch
/// would only cost memory and the time to clear them: populating all of the 290 pages of zeroed data made no
/// difference; the 98 a probe touches, where they lay, 0.37 ms faster on a quiet machine; laid out together (76
/// pages), 0.48 ms (150 interleaved pairs each, 2026-12-05).
///
/// Layout only, as the order file is: without lld, or with markers the link did not bracket as expected (the
/// range is then backwards or implausibly large; side by side, one page), nothing more is populated and
/// everything behaves the same.
enum HotData {
    /// More than this between the markers means they do not bracket what the order file names.
    static let largest = 1 << 20

    /// The page-aligned range to populate for markers at `start` and `end`, nil when there is none to trust.
    static func pages(start: UInt, end: UInt, pageSize: UInt) -> Range<UInt>? {
        guard pageSize > 0, pageSize & (pageSize - 1) == 0, end > start, end - start <= UInt(largest) else {
            return nil
        }
        let first = start & ~(pageSize - 1)
        let last = (end + pageSize - 1) & ~(pageSize - 1)
        return first..<last
    }

    /// Populates the bracketed pages, written; quietly does nothing where the kernel cannot (before Linux 5.14) or
    /// the markers bracket nothing.
    static func populate() {
        #if os(Linux)
        let start = withUnsafeMutablePointer(to: &hotDataStart) { UInt(bitPattern: $0) }
        let end = withUnsafeMutablePointer(to: &hotDataEnd) { UInt(bitPattern: $0) }
        let pageSize = UInt(max(0, sysconf(Int32(_SC_PAGESIZE))))
        guard let range = pages(start: start, end: end, pageSize: pageSize) else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: range.lowerBound), Int(range.count), MADV_POPULATE_WRITE)
        #endif
    }
}
