import MimicTLS

/// The engine tests pump engines against each other with the library's own in-memory link.
typealias Pump = TLSPump
