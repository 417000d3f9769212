import MimicCore
import NIOCore
import NIOPosix

/// A misbehaving server on loopback: the scenario's dialog, TLS library, chain and faults.
public final class MockServer: Sendable {
    public let configuration: MockServerConfiguration
    /// The address actually bound (the ephemeral port resolved).
    public let host: String
    public let port: Int

    init(configuration: MockServerConfiguration, host: String, port: Int) {
        self.configuration = configuration
        self.host = host
        self.port = port
    }

    /// Binds and starts serving. Placeholder until the server lands.
    public static func start(
        _ configuration: MockServerConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> MockServer {
        throw MockServerError(description: "the mock server is not built yet")
    }

    /// Stops accepting, closes every connection, and returns when all are closed.
    public func stop() async {}
}

public struct MockServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(description: String) { self.description = description }
}
