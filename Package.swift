// swift-tools-version:6.2
import PackageDescription
import Foundation

// Release kernels are compiled for the build machine's CPU (its AVX2 or AVX-512, FMA) unless
// UPSCALE_PORTABLE=1 is set in the environment of `swift build`: see README, "Portable builds".
let portable = ProcessInfo.processInfo.environment["UPSCALE_PORTABLE"] == "1"
let cpuFlags: [String] = portable ? [] : ["-target-cpu", "native"]

// The engine is always optimised, also in debug builds: `swift test` exercises the same
// SIMD kernels users run, and unoptimised generic SIMD code is ~100x slower.
// These are `unsafeFlags`. SwiftPM 6.2 and later accept them in a dependency of any kind when the
// manifest says tools version 6.2 or later (the first line), which is why it does; older SwiftPM
// refused a version-pinned dependency that had them. README, "Using UpscaleKit from another package".
let engineSettings: [SwiftSetting] = [.unsafeFlags(["-O"] + cpuFlags)]

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "upscale",
    products: [
        .library(name: "UpscaleKit", targets: ["UpscaleKit"]),
        .library(name: "UpscaleModels", targets: ["UpscaleModels"]),
        .executable(name: "upscale", targets: ["upscale"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CWebP", pkgConfig: "libwebp", providers: [.apt(["libwebp-dev"])]),
        // The engine: no argument parsing and no particular weights.
        .target(
            name: "UpscaleKit",
            dependencies: ["CPNG", "CJPEG", "CWebP"],
            swiftSettings: engineSettings
        ),
        // The built-in models: models/*.bin compiled in by `#embed` (tools/embed_models.sh lists
        // them in CBuiltinModels), read through UpscaleModels' `BuiltinModels`.
        .target(name: "CBuiltinModels"),
        .target(name: "UpscaleModels", dependencies: ["CBuiltinModels"]),
        .executableTarget(
            name: "upscale",
            dependencies: ["UpscaleKit", "UpscaleModels", argumentParser],
            swiftSettings: engineSettings
        ),
        // Micro-benchmarks (benchmarks/README.md). Not a product: `swift build` builds it with the
        // package, `swift build -c release --product upscale-bench` alone.
        .executableTarget(
            name: "upscale-bench",
            dependencies: ["UpscaleKit", "UpscaleModels", argumentParser],
            swiftSettings: engineSettings
        ),
        .testTarget(
            name: "UpscaleKitTests",
            dependencies: ["UpscaleKit", "UpscaleModels"],
            resources: [.copy("Fixtures")]
        ),
        // Runs the `upscale` binary; the dependency makes `swift test` build it first.
        .testTarget(
            name: "UpscaleCLITests",
            dependencies: ["UpscaleKit", "UpscaleModels", "upscale"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
