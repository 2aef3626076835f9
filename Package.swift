// swift-tools-version: 6.2
import PackageDescription

/// Our own targets build in Swift 6 language mode with every warning an error.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]
/// The benchmark's C programs build with every warning an error too.
let strictC: [CSetting] = [.unsafeFlags(["-Wall", "-Wextra", "-Werror"])]

let package = Package(
    name: "fieldpoll",
    products: [
        .executable(name: "fieldpoll", targets: ["fieldpoll"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CModbus",
            pkgConfig: "libmodbus",
            providers: [.apt(["libmodbus-dev"])]
        ),
        .target(name: "ModbusProtocol", swiftSettings: strict),
        .target(
            name: "ModbusTransport",
            dependencies: ["CModbus", "ModbusProtocol"],
            swiftSettings: strict
        ),
        .target(name: "RegisterDecoding", swiftSettings: strict),
        .target(
            name: "DeviceMaps",
            dependencies: ["ModbusProtocol", "RegisterDecoding", "Yams"],
            swiftSettings: strict
        ),
        .target(
            name: "RequestPlanning",
            dependencies: ["ModbusProtocol", "DeviceMaps"],
            swiftSettings: strict
        ),
        .target(
            name: "PollScheduling",
            dependencies: [
                "ModbusProtocol", "RegisterDecoding", "DeviceMaps", "RequestPlanning",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "JSONLines",
            dependencies: ["ModbusProtocol", "RegisterDecoding", "PollScheduling", "DeviceSimulation"],
            swiftSettings: strict
        ),
        .target(
            name: "DeviceSimulation",
            dependencies: ["ModbusProtocol", "RegisterDecoding", "DeviceMaps", "Yams"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "fieldpoll",
            dependencies: [
                "ModbusProtocol", "ModbusTransport", "RegisterDecoding", "DeviceMaps",
                "RequestPlanning", "PollScheduling", "JSONLines", "DeviceSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "FuzzHarnesses",
            dependencies: ["DeviceMaps", "DeviceSimulation", "JSONLines", "ModbusProtocol", "RegisterDecoding", "RequestPlanning"],
            swiftSettings: strict
        ),
        .executableTarget(name: "fieldpoll-fuzz", dependencies: ["FuzzHarnesses"], swiftSettings: strict),
        // `make bench`: the measuring program, libmodbus's own client in a loop, a minimal C server.
        .executableTarget(
            name: "fieldpoll-bench",
            dependencies: ["TestSupport", "ModbusProtocol", "DeviceSimulation", "RegisterDecoding", "JSONLines", "PollScheduling", "RequestPlanning", "DeviceMaps"],
            swiftSettings: strict
        ),
        .executableTarget(name: "bench-read-loop", dependencies: ["CModbus"], cSettings: strictC),
        .executableTarget(name: "bench-modbus-server", dependencies: ["CModbus"], cSettings: strictC),
        .executableTarget(
            name: "fieldpoll-soak",
            dependencies: ["TestSupport", "DeviceSimulation"],
            swiftSettings: strict
        ),
        .target(
            name: "TestSupport",
            dependencies: ["ModbusProtocol", "ModbusTransport", "DeviceMaps", "DeviceSimulation"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "ModbusProtocolTests", dependencies: ["ModbusProtocol"], swiftSettings: strict),
        .testTarget(
            name: "ModbusTransportTests",
            dependencies: ["ModbusTransport", "ModbusProtocol", "DeviceSimulation", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "RegisterDecodingTests", dependencies: ["RegisterDecoding"], swiftSettings: strict),
        .testTarget(name: "DeviceMapsTests", dependencies: ["DeviceMaps", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "RequestPlanningTests",
            dependencies: ["RequestPlanning", "DeviceMaps", "RegisterDecoding"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PollSchedulingTests",
            dependencies: [
                "PollScheduling", "DeviceMaps", "RegisterDecoding", "ModbusProtocol", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "JSONLinesTests",
            dependencies: ["JSONLines", "ModbusProtocol", "PollScheduling", "RegisterDecoding"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DeviceSimulationTests",
            dependencies: ["DeviceSimulation", "ModbusProtocol", "RegisterDecoding"],
            swiftSettings: strict
        ),
        .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzHarnesses", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "PollScheduling", "ModbusTransport", "ModbusProtocol", "DeviceMaps", "DeviceSimulation",
                "RegisterDecoding", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["TestSupport", "DeviceMaps", "DeviceSimulation", "RegisterDecoding", "ModbusProtocol"],
            swiftSettings: strict
        ),
    ]
)
