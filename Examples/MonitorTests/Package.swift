// swift-tools-version: 6.0
// A tiny home-grown monitor and its tests against Mimic's mock servers: what a package that depends on Mimic does.
import PackageDescription

let package = Package(
    name: "MonitorTests",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Mimic", path: "../.."),
    ],
    targets: [
        .target(name: "TinyMonitor"),
        .testTarget(
            name: "TinyMonitorTests",
            dependencies: ["TinyMonitor", .product(name: "MimicTesting", package: "Mimic")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
