import MimicCore
import Testing

@testable import MimicDialogs

/// One thing that happens to a dialog in a scripted exchange.
enum Step {
    case server(String)
    case serverBytes([UInt8])
    case tls
    case dataOpened
    case closed

    static func lines(_ lines: String...) -> Step { .server(lines.map { $0 + "\r\n" }.joined()) }
}

/// How server bytes are cut into segments.
enum Chunking: CustomStringConvertible {
    case whole
    case split(Int)
    case byteByByte

    func segments(_ bytes: [UInt8]) -> [[UInt8]] {
        switch self {
        case .whole: return [bytes]
        case .split(let offset):
            guard offset > 0, offset < bytes.count else { return [bytes] }
            return [Array(bytes[..<offset]), Array(bytes[offset...])]
        case .byteByByte: return bytes.map { [$0] }
        }
    }

    var description: String {
        switch self {
        case .whole: "whole"
        case .split(let n): "split at \(n)"
        case .byteByByte: "byte by byte"
        }
    }
}

func run(_ dialog: some ClientDialog, _ steps: [Step], chunking: Chunking = .whole) -> [DialogAction] {
    var dialog = dialog
    var actions = dialog.start()
    for step in steps {
        switch step {
        case .server(let text):
            for segment in chunking.segments(Array(text.utf8)) { actions += dialog.received(segment) }
        case .serverBytes(let bytes):
            for segment in chunking.segments(bytes) { actions += dialog.received(segment) }
        case .tls: actions += dialog.tlsEstablished()
        case .dataOpened: actions += dialog.dataChannelOpened()
        case .closed: actions += dialog.closed()
        }
    }
    return actions
}

/// Runs a script whole, byte by byte, and split at every offset of every server step; all must agree.
/// Returns the actions of the whole run.
@discardableResult
func runStable(
    _ make: @autoclosure () -> some ClientDialog,
    _ steps: [Step],
    sourceLocation: SourceLocation = #_sourceLocation
) -> [DialogAction] {
    let reference = run(make(), steps)
    let longest =
        steps.map { step -> Int in
            switch step {
            case .server(let text): text.utf8.count
            case .serverBytes(let bytes): bytes.count
            default: 0
            }
        }.max() ?? 0
    var chunkings: [Chunking] = [.byteByByte]
    chunkings += (1..<max(longest, 1)).map { .split($0) }
    for chunking in chunkings {
        let actions = run(make(), steps, chunking: chunking)
        #expect(actions == reference, "differs when fed \(chunking)", sourceLocation: sourceLocation)
        if actions != reference { break }
    }
    return reference
}

extension [DialogAction] {
    /// Everything sent, as text.
    var sent: [String] {
        compactMap {
            if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) }
            return nil
        }
    }

    var sentBytes: [[UInt8]] {
        compactMap {
            if case .send(let bytes) = $0 { return bytes }
            return nil
        }
    }

    var failure: DialogFailure? {
        for case .failed(let failure) in self { return failure }
        return nil
    }

    var summary: DialogSummary? {
        for case .completed(let summary) in self { return summary }
        return nil
    }

    var findings: [Finding] {
        compactMap {
            if case .finding(let finding) = $0 { return finding }
            return nil
        }
    }

    var startsTLS: Bool { contains(.startTLS(leftover: [])) }

    var dataChannel: (host: String?, port: Int)? {
        for case .openDataChannel(let host, let port) in self { return (host, port) }
        return nil
    }
}

func options(_ mode: TLSMode = .startTLS, tryAnyway: Bool = false) -> DialogOptions {
    DialogOptions(mode: mode, tryStartTLSAnyway: tryAnyway)
}
