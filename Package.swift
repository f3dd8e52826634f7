// swift-tools-version: 6.2
import PackageDescription

/// Our own targets treat every warning as an error: "no warnings" is checked by the compiler, not by review.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "ciclo",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ciclo", targets: ["ciclo"]),
        .library(name: "Postgres", targets: ["Postgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // The C shim over libpq. Only the Postgres module imports it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // A small, safe PostgreSQL client over libpq.
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Numbered SQL migrations from schema/, applied under an advisory lock.
        .target(
            name: "CicloSchema",
            dependencies: ["Postgres", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The send queue: its statements, and the operator views (depth, failed jobs).
        .target(
            name: "CicloQueue",
            dependencies: ["Postgres"],
            swiftSettings: strict
        ),
        // The worker process: claims, delivers through a JobHandler, records, heartbeats, reaps, drains.
        .target(
            name: "CicloWorker",
            dependencies: [
                "CicloQueue", "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Load generators behind `ciclo bench ...`: steady producer-plus-consumer runs for side-by-side comparisons.
        .target(
            name: "CicloBench",
            dependencies: [
                "CicloQueue", "CicloWorker", "CicloSchema", "Postgres",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The one executable: parses flags and wires the modules together.
        .executableTarget(
            name: "ciclo",
            dependencies: [
                "Postgres", "CicloSchema", "CicloQueue", "CicloWorker", "CicloBench",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks print figures beside a reference measured in the same run; they are not tests.
        .executableTarget(
            name: "ciclo-bench",
            dependencies: [
                "Postgres", "CicloQueue", "CicloWorker", "CicloSchema",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/ClientBench",
            swiftSettings: strict
        ),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres"], swiftSettings: strict),
        // Shared by the test targets: fresh migrated databases, ciclo as a real process.
        .target(
            name: "CicloTestSupport",
            dependencies: ["CicloSchema", "Postgres"],
            path: "Tests/CicloTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "CicloQueueTests",
            dependencies: ["CicloQueue", "CicloWorker", "CicloSchema", "Postgres", "CicloTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CicloSchemaTests", dependencies: ["CicloSchema", "Postgres", "CicloTestSupport"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
