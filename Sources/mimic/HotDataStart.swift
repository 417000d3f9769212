/// The first of the writable zeroed data (`.bss`) a probe uses: `Tools/probe.order` names it before that data and
/// `hotDataEnd` after it, and lld lays them out in that order (`HotData`). Alone in its file, so that its section
/// holds nothing else.
nonisolated(unsafe) var hotDataStart: UInt8 = 0
