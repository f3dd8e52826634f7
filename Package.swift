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
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Only the reliability suite's fuzzing uses it.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
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
        // Rendering messages for each channel: templates, MIME email, SMS encoding, push and webhook payloads.
        // Pure domain: no database, no network.
        .target(
            name: "CicloChannels",
            dependencies: [
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // libcurl, with non-variadic wrappers for Swift. Only CicloTransports imports it.
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        // Handing rendered messages to providers: SMTP and HTTP through libcurl, and a file outbox.
        .target(
            name: "CicloTransports",
            dependencies: ["CCurl", "CicloChannels", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The worker's job handler for real channels: loads the customer and template, renders, delivers.
        .target(
            name: "CicloDelivery",
            dependencies: [
                "CicloChannels", "CicloTransports", "CicloQueue", "CicloWorker", "Postgres",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Campaigns as code: the campaign file, the segment language (compiled to parameterised SQL), cron
        // schedules, lifecycle stages and the contact policy. Pure domain: it builds SQL but never runs it.
        .target(
            name: "CicloCampaigns",
            dependencies: ["CicloChannels", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // Customers and events in: CSV and JSON Lines files loaded through COPY and upserted.
        .target(
            name: "CicloImport",
            dependencies: [
                "CicloCampaigns", "Postgres",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The scheduler process and the campaign store: eligibility in set-based SQL, the decision log, the
        // leader lock, event cursors, lifecycle rules, dry-run simulation.
        .target(
            name: "CicloScheduler",
            dependencies: [
                "CicloCampaigns", "CicloQueue", "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Partition upkeep for the raw tables: months created ahead, months past the retention dropped.
        .target(
            name: "CicloMaintenance",
            dependencies: ["Postgres"],
            swiftSettings: strict
        ),
        // The reporter's figures: the incremental fold into rollups, conversion attribution, the recount that
        // verifies it, the KPIs (uplift with its interval) and the report's rendering.
        .target(
            name: "CicloReports",
            dependencies: [
                "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The reporter's HTTP side: open pixel, click redirect, unsubscribe, provider webhooks, event ingestion,
        // /metrics and /healthz, over Hummingbird; it records responses and suppressions through Postgres.
        .target(
            name: "CicloReporter",
            dependencies: [
                "CicloChannels", "CicloImport", "Postgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The dashboard on the reporter's server: pages per programme, campaign and stage, server-rendered HTML
        // with inline SVG charts drawn from the rollups. Charts and pages are pure and tested without a database.
        .target(
            name: "CicloDashboard",
            dependencies: [
                "CicloReports", "CicloReporter", "Postgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
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
                "Postgres", "CicloSchema", "CicloQueue", "CicloWorker", "CicloBench", "CicloDelivery",
                "CicloCampaigns", "CicloImport", "CicloScheduler", "CicloMaintenance", "CicloReports", "CicloReporter",
                "CicloDashboard",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The messages `ciclo-bench render` times, shared with the profiling harness below.
        .target(
            name: "RenderSamples", dependencies: ["CicloChannels"], path: "Benchmarks/RenderSamples",
            swiftSettings: strict),
        // Renders one channel's samples synchronously, for callgrind (`make profile-render`).
        .executableTarget(
            name: "ciclo-render-profile", dependencies: ["RenderSamples"], path: "Benchmarks/RenderProfile",
            swiftSettings: strict),
        // Benchmarks print figures beside a reference measured in the same run; they are not tests.
        .executableTarget(
            name: "ciclo-bench",
            dependencies: [
                "Postgres", "CicloQueue", "CicloWorker", "CicloSchema", "CicloChannels", "CicloTestSupport", "CicloReports",
                "CicloDelivery", "RenderSamples",
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
            name: "CicloChannelsTests",
            dependencies: ["CicloChannels", "CicloTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        .testTarget(
            name: "CicloDashboardTests",
            dependencies: ["CicloDashboard", "CicloReports", "CicloTestSupport", "Postgres"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CicloTransportsTests",
            dependencies: ["CicloTransports", "CicloChannels", "CicloTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "CicloDeliveryTests", dependencies: ["CicloDelivery", "CicloChannels", "CicloQueue", "CicloTestSupport", "Postgres"], swiftSettings: strict),
        .testTarget(
            name: "CicloQueueTests",
            dependencies: ["CicloQueue", "CicloWorker", "CicloSchema", "Postgres", "CicloTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CicloCampaignsTests",
            dependencies: ["CicloCampaigns", "CicloScheduler", "CicloTestSupport", "Postgres"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CicloImportTests", dependencies: ["CicloImport", "CicloTestSupport", "Postgres"], swiftSettings: strict),
        .testTarget(
            name: "CicloSchedulerTests",
            dependencies: [
                "CicloScheduler", "CicloCampaigns", "CicloChannels", "CicloQueue", "CicloTestSupport", "Postgres",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CicloReportsTests",
            dependencies: ["CicloReports", "CicloTestSupport", "Postgres"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CicloReporterTests",
            dependencies: [
                "CicloReporter", "CicloChannels", "CicloQueue", "CicloTestSupport", "Postgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CicloSchemaTests", dependencies: ["CicloSchema", "Postgres", "CicloTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "CicloMaintenanceTests",
            dependencies: ["CicloMaintenance", "CicloSchema", "Postgres", "CicloTestSupport"],
            swiftSettings: strict
        ),
        // Database roles, TLS to PostgreSQL and secrets in logs: deploy/README.md's promises, against real servers.
        .testTarget(
            name: "CicloDeployTests", dependencies: ["CicloQueue", "Postgres", "CicloTestSupport"], swiftSettings: strict),
        // `make test-reliability`: chaos, a held snapshot, a soak, fuzzing and attacks against real processes. Its
        // suites run only with CICLO_RELIABILITY=1, so `make test` builds them but skips them.
        .testTarget(
            name: "CicloReliabilityTests",
            dependencies: [
                "CicloCampaigns", "CicloChannels", "CicloImport", "CicloQueue", "CicloTestSupport", "Postgres",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
