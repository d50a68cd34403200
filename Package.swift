// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A program of `examples/`: the library, logging, and what else it names.
func example(_ name: String, _ dependencies: Target.Dependency...) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["Procrastinate", .product(name: "Logging", package: "swift-log")] + dependencies,
        path: "examples/\(name)", swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "procrastinate-swift",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Cron", targets: ["Cron"]),
        .library(name: "Procrastinate", targets: ["Procrastinate"]),
        .library(name: "ProcrastinateTesting", targets: ["ProcrastinateTesting"]),
        .library(name: "ProcrastinateCLI", targets: ["ProcrastinateCLI"]),
        .library(name: "ProcrastinateDashboard", targets: ["ProcrastinateDashboard"]),
        .executable(name: "procrastinate", targets: ["ProcrastinateTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.90.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        .target(name: "Cron", swiftSettings: swiftSettings),
        .target(
            name: "Procrastinate",
            dependencies: [
                "Cron",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedSQLPlugin"]
        ),
        .target(name: "ProcrastinateTesting", dependencies: ["Procrastinate"], swiftSettings: swiftSettings),
        .target(
            name: "ProcrastinateDashboard",
            dependencies: [
                "Procrastinate", "Cron",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProcrastinateCLI",
            dependencies: [
                "Procrastinate",
                "ProcrastinateDashboard",
                "Cron",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "ProcrastinateTool", dependencies: ["ProcrastinateCLI"], swiftSettings: swiftSettings),

        // Build-time embedding of `sql/*.sql` into the `Procrastinate` module.
        .executableTarget(name: "EmbedSQL", swiftSettings: swiftSettings),
        .plugin(
            name: "EmbedSQLPlugin", capability: .buildTool(), dependencies: ["EmbedSQL"],
            path: "Sources/EmbedSQLPlugin"
        ),

        example("Quickstart"),
        example("Periodic", "Cron"),
        example("Locks"),
        example("Retries"),
        example(
            "HTTPService",
            "ProcrastinateDashboard",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "PostgresNIO", package: "postgres-nio")
        ),
        .executableTarget(
            name: "QueueBenchmark",
            dependencies: ["Procrastinate", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/QueueBenchmark", swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "DashboardBenchmark",
            dependencies: [
                "Procrastinate", "ProcrastinateDashboard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/DashboardBenchmark", swiftSettings: swiftSettings
        ),
        .executableTarget(name: "CronBenchmark", dependencies: ["Cron"], path: "Benchmarks/CronBenchmark", swiftSettings: swiftSettings),

        // The code of the documentation's snippets (README and DocC articles), compiled with
        // the package so that no snippet goes stale; a test checks each snippet is here.
        .target(
            name: "DocSnippets",
            dependencies: [
                "Procrastinate", "ProcrastinateCLI", "ProcrastinateDashboard", "Cron",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Docs/Snippets", exclude: ["README.md"], swiftSettings: swiftSettings
        ),

        // A worker process for the tests that need several (not a product).
        .executableTarget(
            name: "TestWorker",
            dependencies: [
                "Procrastinate", "ProcrastinateCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestWorker", swiftSettings: swiftSettings
        ),

        .testTarget(name: "CronTests", dependencies: ["Cron"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProcrastinateTests",
            dependencies: [
                "Procrastinate", "ProcrastinateTesting", "ProcrastinateCLI", "ProcrastinateDashboard", "Cron",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            exclude: ["Python"],
            swiftSettings: swiftSettings
        ),
    ]
)
