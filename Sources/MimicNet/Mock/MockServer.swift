import MimicCore
import MimicDialogs
import MimicTLS
import NIOCore
import NIOPosix

/// A misbehaving server on loopback: the scenario's dialog, TLS library, chain and faults.
///
/// Every accepted connection gets a pipeline of `NetworkFaultHandler` (closest to the socket, so faults shape
/// ciphertext too), the `TLSEngineHandler` when TLS is on (from the start for implicit TLS, inserted behind the
/// fault handler at the STARTTLS go-ahead otherwise), and a handler that drives the protocol's `ServerDialog`.
/// TLS contexts are made once per server and shared by its connections, so sessions resume across them (the
/// FTPS data channel resumes the control channel's).
public final class MockServer: Sendable {
    public let configuration: MockServerConfiguration
    /// The address bound: the configuration's.
    public var host: String { configuration.host }
    /// The port bound: the configuration's, or the ephemeral one the system picked for 0.
    public let port: Int

    private let serverChannel: any Channel
    private let registry: MockChannelRegistry

    init(configuration: MockServerConfiguration, port: Int, serverChannel: any Channel, registry: MockChannelRegistry) {
        self.configuration = configuration
        self.port = port
        self.serverChannel = serverChannel
        self.registry = registry
    }

    /// Binds `configuration.host`:`configuration.port` (0 for an ephemeral port) and starts serving.
    /// Throws when a TLS context cannot be made from the configuration or the address cannot be bound.
    public static func start(
        _ configuration: MockServerConfiguration,
        group: any EventLoopGroup = MimicEventLoops.shared
    ) async throws -> MockServer {
        let registry = MockChannelRegistry(
            maxConnections: configuration.limits.maxConnections,
            maxRefusals: configuration.limits.maxRefusals,
            closeAfterConnections: configuration.limits.closeAfterConnections
        )
        let setup = try MockConnectionSetup(configuration: configuration, registry: registry)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MockAdmissionHandler(registry: registry))
                }
            }
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                switch registry.takeAdmission(channel) {
                case .serve(let sequence):
                    return channel.eventLoop.makeCompletedFuture {
                        try MockConnectionHandler.install(on: channel, setup: setup, sequence: sequence)
                    }
                case .refuse:
                    // Over the limit: the protocol's "too many connections", then the close.
                    return channel.eventLoop.makeCompletedFuture {
                        try MockConnectionHandler.install(on: channel, setup: setup, refusing: true)
                    }
                case .drop:
                    // Stopping, or refusals flooding in: a failed initializer closes the connection on accept.
                    return channel.eventLoop.makeFailedFuture(MockServerError(description: "connection dropped"))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw MockServerError(description: "cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw MockServerError(description: "the listener has no local port")
        }
        return MockServer(configuration: configuration, port: port, serverChannel: channel, registry: registry)
    }

    /// Control connections open now (the FTP data channels and connections being refused not counted).
    public var openConnections: Int { registry.openConnections }
    /// Connections beyond `limits.maxConnections` being refused now.
    public var openRefusals: Int { registry.openRefusals }
    /// Channels of any kind open now: control connections, FTP data listeners and data connections.
    var openChannels: Int { registry.openChannels }

    /// Stops accepting, closes every connection (FTP data listeners and data connections too), and returns when
    /// all are closed (and each control connection's observation, if any, was handed to the observer).
    public func stop() async {
        try? await serverChannel.close()
        let channels = registry.stop()
        for channel in channels {
            channel.eventLoop.execute {
                // The first close waits behind writes a fault holds back; the second takes effect at once.
                channel.close(promise: nil)
                channel.close(promise: nil)
            }
        }
        for channel in channels {
            try? await channel.closeFuture.get()
        }
    }
}

/// On the listener's pipeline, ahead of the bootstrap's acceptor: decides each accepted connection's admission in
/// accept order, so the connection limit serves the first comers and refuses the later ones.
private final class MockAdmissionHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    private let registry: MockChannelRegistry

    init(registry: MockChannelRegistry) { self.registry = registry }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        registry.decideAdmission(unwrapInboundIn(data))
        context.fireChannelRead(data)
    }
}

public struct MockServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(description: String) { self.description = description }
}

/// What every connection of one server shares: the configuration as each connection applies it, the TLS
/// contexts (made once), the registry.
struct MockConnectionSetup: Sendable {
    let configuration: MockServerConfiguration
    /// The dialog's configuration: the server's mode, or implicit where a STARTTLS port hand-shakes at once.
    let dialogConfiguration: ServerDialogConfiguration
    /// The dialog of a connection beyond the limit: refuses with the protocol's "too many connections".
    let refusalDialogConfiguration: ServerDialogConfiguration
    /// Seconds of silence (both ways) after which a connection is closed.
    let idleTimeout: Double
    /// Seconds after which a served connection is closed whatever it does.
    let lifetime: Double
    /// Seconds after which a refused connection is closed, its refusal heard or not.
    let refusalLifetime: Double
    /// The control connection's context; nil without TLS.
    let controlTLS: (any TLSContext)?
    /// The FTP data channel's context: `dataChannelTLS`'s own, else the control one (so sessions resume).
    let dataTLS: (any TLSContext)?
    let registry: MockChannelRegistry
    /// TLS from the first byte: an implicit port (unless it speaks plaintext) or a STARTTLS port that speaks TLS.
    let tlsFirst: Bool

    init(configuration: MockServerConfiguration, registry: MockChannelRegistry) throws {
        self.configuration = configuration
        self.registry = registry
        var dialog = configuration.dialog
        switch configuration.mode {
        case .implicit: tlsFirst = !dialog.implicitSpeaksPlaintext
        case .startTLS: tlsFirst = dialog.startTLSSpeaksTLS
        case .none: tlsFirst = false
        }
        dialog.mode = configuration.mode == .startTLS && dialog.startTLSSpeaksTLS ? .implicit : configuration.mode
        dialogConfiguration = dialog
        // A refusal is the mock protecting itself, not the scenario's misbehaviour: no greeting delay, no custom
        // greeting, the protocol's own words.
        var refusal = dialog
        refusal.greeting = nil
        refusal.greetingDelay = .zero
        refusal.refuseGreeting = ServerDialogConfiguration.tooManyConnections(
            for: configuration.serviceProtocol,
            hostname: dialog.hostname
        )
        refusalDialogConfiguration = refusal
        let idle = configuration.limits.effectiveIdleTimeout(for: configuration.serviceProtocol)
        idleTimeout = idle
        lifetime = configuration.limits.connectionLifetime
        refusalLifetime = min(configuration.limits.refusalLifetime, idle)

        guard configuration.mode != .none else {
            controlTLS = nil
            dataTLS = nil
            return
        }
        do {
            var control = configuration.tls
            control.role = .server
            let controlContext = try TLSBackends.makeContext(configuration.backend, configuration: control)
            controlTLS = controlContext
            if var data = configuration.dataChannelTLS {
                data.role = .server
                dataTLS = try TLSBackends.makeContext(configuration.backend, configuration: data)
            } else {
                dataTLS = controlContext
            }
        } catch {
            throw MockServerError(description: "cannot make the \(configuration.backend) server context: \(error)")
        }
    }
}
