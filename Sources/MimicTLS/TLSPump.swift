import MimicCore

/// Moves bytes between two engines in memory, with no sockets, until both finish their handshakes, one fails, or nothing moves.
///
/// `chunk` bounds how many bytes are delivered per `receivedFromNetwork` call: 1 delivers every record one
/// byte at a time, which is how the engines prove they buffer partial records correctly.
public struct TLSPump: Sendable {
    public struct Outcome: Sendable {
        public var client: TLSStep
        public var server: TLSStep
        public var rounds: Int
    }

    public var chunk: Int
    /// Bound on rounds, so that a wedged pair ends the test instead of hanging it.
    public var maxRounds: Int

    public init(chunk: Int = .max, maxRounds: Int = 100_000) {
        self.chunk = chunk
        self.maxRounds = maxRounds
    }

    public func handshake(client: any TLSEngine, server: any TLSEngine) -> Outcome {
        var clientStep = client.handshake()
        var serverStep = TLSStep.incomplete
        var rounds = 0
        while rounds < maxRounds {
            rounds += 1
            let toServer = client.takeNetworkOutput()
            let toClient = server.takeNetworkOutput()
            if toServer.isEmpty && toClient.isEmpty { break }
            // Step the handshake after every chunk: with chunk 1 the engine sees each record byte by byte.
            if toServer.isEmpty { serverStep = server.handshake() }
            for piece in pieces(toServer) {
                server.receivedFromNetwork(piece)
                serverStep = server.handshake()
            }
            if toClient.isEmpty { clientStep = client.handshake() }
            for piece in pieces(toClient) {
                client.receivedFromNetwork(piece)
                clientStep = client.handshake()
            }
            if case .failed = clientStep, case .failed = serverStep { break }
        }
        // Flush what a failing side still had to say (its alert), so the other side can report it.
        let lastToServer = client.takeNetworkOutput()
        if !lastToServer.isEmpty {
            deliver(lastToServer, to: server)
            if case .incomplete = serverStep { serverStep = server.handshake() }
        }
        let lastToClient = server.takeNetworkOutput()
        if !lastToClient.isEmpty {
            deliver(lastToClient, to: client)
            if case .incomplete = clientStep { clientStep = client.handshake() }
        }
        return Outcome(client: clientStep, server: serverStep, rounds: rounds)
    }

    /// Sends `bytes` from one engine to the other as application data and returns what the receiver read.
    public func transfer(_ bytes: [UInt8], from sender: any TLSEngine, to receiver: any TLSEngine) throws -> [UInt8] {
        try sender.write(plaintext: bytes)
        deliver(sender.takeNetworkOutput(), to: receiver)
        var received: [UInt8] = []
        var rounds = 0
        while received.count < bytes.count && rounds < maxRounds {
            rounds += 1
            switch receiver.readPlaintext() {
            case .data(let data): received += data
            case .wouldBlock, .closed: return received
            case .failed(let failure): throw failure
            }
            // Post-handshake messages (TLS 1.3 tickets) may make the receiver answer.
            deliver(receiver.takeNetworkOutput(), to: sender)
        }
        return received
    }

    public func deliver(_ bytes: [UInt8], to engine: any TLSEngine) {
        for piece in pieces(bytes) { engine.receivedFromNetwork(piece) }
    }

    func pieces(_ bytes: [UInt8]) -> [[UInt8]] {
        let size = max(min(chunk, bytes.count), 1)
        return stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }
}

extension TLSStep {
    public var isComplete: Bool { if case .complete = self { true } else { false } }
    public var failure: TLSFailure? { if case .failed(let failure) = self { failure } else { nil } }
}
