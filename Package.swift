// swift-tools-version:6.1
import PackageDescription

/// One settings array for every target (STYLE.md §3).
let settings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // Release builds let the optimizer inline and specialize across our modules (GatewayCore's types in
    // Execution, ControlServer and BrokerPaper): one client's `fast` ack p50 116-121 µs against 121-129
    // µs without it, three pairs of gateway-bench (docs/performance.md). Debug builds are unchanged.
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let nio = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let nioHTTP = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let nioWebSocket = Target.Dependency.product(name: "NIOWebSocket", package: "swift-nio")
let wsClient = Target.Dependency.product(name: "WSClient", package: "swift-websocket")
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let sqlite = Target.Dependency.product(name: "GRDBSQLite", package: "GRDB.swift")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let signals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let hashTrees = Target.Dependency.product(name: "HashTreeCollections", package: "swift-collections")

// The allowed imports of DESIGN.md are these dependency lists; `scripts/check-imports` fails CI when a
// source file imports a module that its target does not list here.
let package = Package(
    name: "ExecutionGateway",
    products: [
        .executable(name: "gatewayd", targets: ["gatewayd"]),
        .executable(name: "gatewayctl", targets: ["gatewayctl"]),
        .executable(name: "gateway-bench", targets: ["gateway-bench"]),
        .executable(name: "fix-echo", targets: ["fix-echo"]),
        .executable(name: "fix-client", targets: ["fix-client"]),
        .executable(name: "risk-bench", targets: ["risk-bench"]),
        .executable(name: "journal-bench", targets: ["journal-bench"]),
        .executable(name: "state-copy-bench", targets: ["state-copy-bench"]),
        .executable(name: "fix-bench", targets: ["fix-bench"]),
        .executable(name: "alert-bench", targets: ["alert-bench"]),
        .executable(name: "text-bench", targets: ["text-bench"]),
        .executable(name: "wake-bench", targets: ["wake-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/ordo-one/malloc-interposer.git", from: "1.6.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        .target(name: "GatewayCore", swiftSettings: settings),
        .target(name: "FIXCodec", swiftSettings: settings),
        .target(name: "FIXSession", dependencies: ["FIXCodec"], swiftSettings: settings),
        .target(
            name: "FIXTransport", dependencies: ["FIXCodec", "FIXSession", nio, nioPosix, nioSSL, logging],
            swiftSettings: settings),
        .target(name: "BrokerAPI", dependencies: ["GatewayCore"], swiftSettings: settings),
        .target(name: "BrokerPaper", dependencies: ["GatewayCore", "BrokerAPI"], swiftSettings: settings),
        .target(
            name: "Journal", dependencies: ["GatewayCore", "FIXSession", grdb, sqlite, crypto], swiftSettings: settings),
        .target(
            name: "Execution",
            dependencies: ["GatewayCore", "BrokerAPI", "Journal", logging, lifecycle, metrics, hashTrees],
            swiftSettings: settings
        ),
        .target(name: "SystemdIntegration", dependencies: [logging], swiftSettings: settings),
        .target(
            name: "BrokerAlpaca", dependencies: ["GatewayCore", "BrokerAPI", logging, wsClient, nio],
            swiftSettings: settings),
        .target(
            name: "Alerts", dependencies: ["GatewayCore", "ControlProtocol", crypto, logging, lifecycle],
            swiftSettings: settings),
        .target(name: "ControlProtocol", dependencies: ["GatewayCore"], swiftSettings: settings),
        .target(
            name: "ControlServer",
            dependencies: [
                "ControlProtocol", "Execution", "GatewayCore", nio, nioPosix, nioHTTP, logging, lifecycle, metrics,
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GatewayTesting",
            dependencies: [
                "GatewayCore", "BrokerAPI", "Journal", "Execution", "ControlProtocol", "FIXCodec", logging, lifecycle,
                nio,
                nioPosix, nioHTTP, nioWebSocket,
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "gatewayd",
            dependencies: [
                "GatewayCore", "BrokerAPI", "BrokerPaper", "BrokerAlpaca", "Journal", "Execution", "ControlServer",
                "ControlProtocol", "Alerts", "SystemdIntegration", logging, lifecycle, signals, argumentParser, yams,
                metrics, prometheus,
                nio, nioPosix,
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "fix-echo",
            dependencies: ["FIXCodec", "FIXSession", "FIXTransport", argumentParser, logging],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "fix-client",
            dependencies: ["FIXCodec", "FIXSession", "FIXTransport", argumentParser, logging],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "gatewayctl",
            dependencies: ["ControlProtocol", argumentParser],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "gateway-bench",
            dependencies: [
                "ControlProtocol", argumentParser, grdb, .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/gateway-bench",
            swiftSettings: settings
        ),
        .target(name: "BenchSupport", path: "Benchmarks/bench-support", swiftSettings: settings),
        .executableTarget(
            name: "risk-bench",
            dependencies: [
                "GatewayCore", "BenchSupport", argumentParser,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            path: "Benchmarks/risk-bench",
            swiftSettings: settings
        ),
        .executableTarget(
            name: "fix-bench",
            dependencies: [
                "FIXCodec", "FIXSession", "FIXTransport", "BenchSupport", argumentParser, logging,
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            path: "Benchmarks/fix-bench",
            swiftSettings: settings
        ),
        .executableTarget(
            name: "journal-bench",
            dependencies: [
                "GatewayCore", "BrokerPaper", "Journal", "Execution", grdb, logging, lifecycle, argumentParser, nio,
                nioPosix,
            ],
            path: "Benchmarks/journal-bench",
            swiftSettings: settings
        ),
        .executableTarget(
            name: "text-bench", dependencies: ["GatewayCore", "ControlProtocol", argumentParser],
            path: "Benchmarks/text-bench",
            swiftSettings: settings),
        .executableTarget(
            name: "wake-bench", dependencies: [argumentParser], path: "Benchmarks/wake-bench", swiftSettings: settings),
        .executableTarget(
            name: "state-copy-bench", dependencies: [hashTrees, argumentParser], path: "Benchmarks/state-copy-bench",
            swiftSettings: settings),
        .executableTarget(
            name: "alert-bench",
            dependencies: [
                "Alerts", "GatewayCore", argumentParser, logging,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/alert-bench",
            swiftSettings: settings
        ),
        .testTarget(
            name: "GatewayCoreTests",
            dependencies: ["GatewayCore", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: settings
        ),
        .testTarget(name: "FIXCodecTests", dependencies: ["FIXCodec"], swiftSettings: settings),
        .testTarget(name: "FIXSessionTests", dependencies: ["FIXSession", "FIXCodec"], swiftSettings: settings),
        .testTarget(
            name: "FIXTransportTests", dependencies: ["FIXTransport", "FIXSession", "FIXCodec", "GatewayTesting"],
            exclude: ["Fixtures"], swiftSettings: settings),
        .testTarget(
            name: "BrokerPaperTests", dependencies: ["BrokerPaper", "BrokerAPI", "GatewayCore", "GatewayTesting"],
            swiftSettings: settings
        ),
        .testTarget(
            name: "JournalTests",
            dependencies: ["Journal", "GatewayCore", "FIXSession", "FIXCodec", "GatewayTesting", grdb],
            swiftSettings: settings),
        .testTarget(
            name: "ExecutionTests",
            dependencies: [
                "Execution", "GatewayTesting", "BrokerAPI", "Journal", "GatewayCore", "BrokerPaper", grdb, logging,
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "AlertsTests",
            dependencies: ["Alerts", "ControlProtocol", "GatewayCore", "GatewayTesting", logging, lifecycle],
            swiftSettings: settings
        ),
        .testTarget(
            name: "ControlProtocolTests", dependencies: ["ControlProtocol", "GatewayCore"], swiftSettings: settings),
        .testTarget(
            name: "ControlServerTests",
            dependencies: [
                "ControlServer", "ControlProtocol", "GatewayCore", nio,
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "BrokerAlpacaTests", dependencies: ["BrokerAlpaca", "BrokerAPI", "GatewayCore", "GatewayTesting"],
            swiftSettings: settings),
        .testTarget(
            name: "SystemdIntegrationTests", dependencies: ["SystemdIntegration", "GatewayTesting", logging],
            swiftSettings: settings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ControlProtocol", "GatewayCore", "GatewayTesting", grdb, crypto],
            swiftSettings: settings
        ),
    ]
)
