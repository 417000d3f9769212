// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Mimic",
    // Synchronization.Mutex, the one lock of the package, needs macOS 15 (Linux: Swift 6).
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mimic", targets: ["mimic"]),
        .library(name: "MimicCore", targets: ["MimicCore"]),
        .library(name: "MimicTLS", targets: ["MimicTLS"]),
        .library(name: "MimicCerts", targets: ["MimicCerts"]),
        .library(name: "MimicScenarios", targets: ["MimicScenarios"]),
        // Mock servers inside a Swift test: `MockServer.with(.smtp, .startTLS, chain: .expiredLeaf) { mock in … }`.
        .library(name: "MimicTesting", targets: ["MimicTesting"]),
        // For the fuzz targets in Fuzz/, a package of their own that depends on this one by path.
        .library(name: "MimicDialogs", targets: ["MimicDialogs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
    ],
    targets: [
        // The shared vocabulary: plain Sendable values, no dependencies.
        .target(name: "MimicCore"),

        // System libraries: a module map and a shim header each, nothing else.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CGnuTLS",
            pkgConfig: "gnutls",
            providers: [.apt(["libgnutls28-dev"])]
        ),

        // Sans-I/O TLS engines: one protocol, two backends, client and server.
        .target(name: "MimicTLS", dependencies: ["MimicCore", "COpenSSL", "CGnuTLS"]),

        // Certificate factory and chain facts.
        .target(
            name: "MimicCerts",
            dependencies: [
                "MimicCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // Verdicts: raw library codes, handshake reports and chain facts into findings. Pure, below the network, so
        // the probe, `mimic verify`, the profile matrix and grading judge alike.
        .target(name: "MimicVerdict", dependencies: ["MimicCore", "MimicTLS", "MimicCerts"]),

        // Upper layers; filled in by the probe and mock-server work.
        .target(name: "MimicDialogs", dependencies: ["MimicCore"]),
        .target(
            name: "MimicNet",
            dependencies: [
                "MimicCore", "MimicTLS", "MimicCerts", "MimicDialogs", "MimicVerdict",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "MimicScenarios",
            dependencies: [
                "MimicCore", "MimicTLS", "MimicCerts", "MimicVerdict", "MimicNet",
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // Mock servers for other packages' tests: the built-in profiles and library compiled in, nothing on disk.
        .target(name: "MimicTesting", dependencies: ["MimicCore", "MimicCerts", "MimicNet", "MimicScenarios"]),

        .executableTarget(
            name: "mimic",
            dependencies: [
                "MimicScenarios",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // What the tests share: running real tools and servers with deadlines.
        .target(name: "MimicTestSupport", dependencies: ["MimicScenarios"], path: "Tests/MimicTestSupport"),

        .testTarget(name: "MimicCoreTests", dependencies: ["MimicCore"]),
        .testTarget(
            name: "MimicTLSTests",
            dependencies: [
                "MimicTLS", "MimicCerts", "MimicTestSupport",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]),
        .testTarget(
            name: "MimicCertsTests",
            dependencies: [
                "MimicCerts", "MimicTestSupport",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .testTarget(
            name: "MimicVerdictTests", dependencies: ["MimicVerdict", "MimicCerts", "MimicTLS", "MimicTestSupport"]),
        .testTarget(name: "MimicDialogsTests", dependencies: ["MimicDialogs", "MimicTestSupport"]),
        .testTarget(
            name: "MimicNetTests",
            dependencies: [
                "MimicNet", "MimicTLS", "MimicCerts", "MimicTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "MimicTestingTests", dependencies: ["MimicTesting", "MimicTestSupport"]),
        // The command line's own logic: the probe's quick reader held to Argument Parser's declarations.
        .testTarget(
            name: "MimicCLITests",
            dependencies: ["mimic", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(
            name: "MimicScenariosTests",
            dependencies: ["MimicScenarios", "MimicCerts", "MimicTLS", "MimicNet", "MimicCore", "MimicTestSupport"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
