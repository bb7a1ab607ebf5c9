// The widest SIMD float instruction set this CPU runs, read once at run time.
//
// Release builds compile the engine for the build machine (`-target-cpu native`, Package.swift), so
// SIMD16<Float> arithmetic is one AVX-512 register there, but two AVX2 registers on a CPU without
// AVX-512 (Zen 3), where a tile of 24 SIMD16 accumulators no longer fits the 16 registers. Kernels
// that size their register tiles by the vector width ask `VectorISA.current`. The choice changes
// which instructions run, never a result: every lane of a tile is a separate output element with
// its own fixed order of operations.
import Foundation

/// The widest vector float arithmetic of this CPU: what a register tile is sized for.
public enum VectorISA: String, Sendable {
    /// AVX-512 (32 registers of 16 floats): Zen 4, Ice Lake and later Xeons.
    case avx512 = "AVX-512"
    /// AVX2 with FMA (16 registers of 8 floats): Zen 1–3, Haswell and later.
    case avx2 = "AVX2"
    /// Anything else (ARM NEON, older x86): kernels size their tiles as for AVX2.
    case other = "other"

    /// Floats in one register of this instruction set (the SIMD width a tile is built of).
    public var lanes: Int { self == .avx512 ? 16 : 8 }

    /// This CPU's, from the flags Linux reports in /proc/cpuinfo (`avx512f`; `avx2` and `fma`).
    /// A machine whose /proc/cpuinfo cannot be read counts as `.other`.
    public static let current: VectorISA = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return .other }
        return parse(flags: flagsLine.split(separator: " ").map(String.init))
    }()

    /// The instruction set a CPU with these /proc/cpuinfo flags runs.
    static func parse(flags: [String]) -> VectorISA {
        let set = Set(flags)
        if set.contains("avx512f") { return .avx512 }
        if set.contains("avx2") && set.contains("fma") { return .avx2 }
        return .other
    }
}
