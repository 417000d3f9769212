import MimicCore
import MimicDialogs

/// Plays the caller's side of a client dialog (the probe) against arbitrary server bytes: every TLS upgrade it asks
/// for succeeds at once, every data channel opens (or fails, as `dataChannelOpens` says), and the peer's bytes arrive
/// in the given segments, then the connection closes.
public enum ClientDialogDriver {
    @discardableResult
    public static func run(
        _ serviceProtocol: ServiceProtocol, mode: TLSMode, segments: [[UInt8]], dataChannelOpens: Bool
    ) -> Int {
        var dialog = ClientDialogs.make(for: serviceProtocol, options: DialogOptions(mode: mode))
        var pending = dialog.start()
        var ended = false
        var actions = 0
        func settle() {
            // Each reaction may ask for more: a TLS upgrade, a data channel. Bounded: every round needs an action
            // that only a new state produces.
            var rounds = 0
            while !pending.isEmpty, rounds < 1000 {
                rounds += 1
                let batch = pending
                pending = []
                for action in batch {
                    actions += 1
                    switch action {
                    case .send(let bytes): _ = bytes.count
                    case .startTLS: pending += dialog.tlsEstablished()
                    case .openDataChannel:
                        pending += dataChannelOpens ? dialog.dataChannelOpened() : dialog.dataChannelFailed("refused")
                    case .finding(let finding): _ = finding.evidence
                    case .completed(let summary): _ = summary; ended = true
                    case .failed(let failure): _ = failure.finding.evidence; ended = true
                    }
                }
            }
        }
        settle()
        for segment in segments where !ended {
            pending = dialog.received(segment)
            settle()
        }
        if !ended {
            pending = dialog.closed()
            settle()
        }
        _ = dialog.transcript.entries.map(\.description)
        return actions
    }
}

/// Plays the caller's side of a server dialog (the mock) against arbitrary client bytes: delays elapse at once,
/// every TLS upgrade succeeds, FTP data listeners open on a made-up port and transfers end as `transfer` says.
public enum ServerDialogDriver {
    @discardableResult
    public static func run(
        _ serviceProtocol: ServiceProtocol, configuration: ServerDialogConfiguration, segments: [[UInt8]],
        transfer: DataTransferOutcome
    ) -> Int {
        var dialog = ServerDialogs.make(for: serviceProtocol, configuration: configuration)
        var pending = dialog.start()
        var actions = 0
        func settle() {
            var rounds = 0
            while !pending.isEmpty, rounds < 1000 {
                rounds += 1
                let batch = pending
                pending = []
                for action in batch {
                    actions += 1
                    switch action {
                    case .send(let bytes): _ = bytes.count
                    case .delay: pending += dialog.delayElapsed()
                    case .enterPhase: break
                    case .startTLS: pending += dialog.tlsEstablished()
                    case .listenForData: pending += dialog.dataListenerReady(port: 20_021)
                    case .transferData: pending += dialog.dataTransferFinished(transfer)
                    case .closeDataListener: break
                    case .close: break
                    }
                }
            }
        }
        settle()
        for segment in segments where !dialog.isClosed {
            pending = dialog.received(segment)
            settle()
        }
        if !dialog.isClosed {
            pending = dialog.closed()
            settle()
        }
        _ = dialog.transcript.entries.map(\.description)
        _ = dialog.observation
        return actions
    }
}
