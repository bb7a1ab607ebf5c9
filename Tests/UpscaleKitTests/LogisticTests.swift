// Logistic (Ops/Logistic.swift): the 16-lane e^t, sigmoid and SiLU against the exact values
// (computed in Double), at the range's ends and on special values, and an element's bits
// independent of the run it is computed in.
import Foundation
import Testing
@testable import UpscaleKit

@Suite struct LogisticTests {
    /// Float units in the last place between `got` and the exact `value`, in the binade of the exact value.
    func ulps(_ got: Float, _ value: Double) -> Double {
        abs(Double(got) - value) / Double(Float(value).ulp)
    }

    func run(_ f: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void, _ x: [Float]) -> [Float] {
        var out = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { f(src.baseAddress!, x.count, $0.baseAddress!) } }
        return out
    }

    /// Points over [lo, hi]: evenly spaced, plus seeded random ones.
    func points(_ lo: Float, _ hi: Float, count: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { lo + (hi - lo) * Float($0) / Float(count - 1) } + rng.floats(count, lo...hi)
    }

    @Test func expIsWithinTwoUlps() {
        let t = points(-86.6, 88.72, count: 100_003, seed: 1) + points(-1, 1, count: 10_001, seed: 2)
        var worst = 0.0
        for start in stride(from: 0, to: t.count, by: 16) {
            var v = Logistic.Vector()
            let n = min(16, t.count - start)
            for i in 0..<n { v[i] = t[start + i] }
            let y = Logistic.exp(v)
            for i in 0..<n { worst = max(worst, ulps(y[i], Foundation.exp(Double(t[start + i])))) }
        }
        #expect(worst <= 2, "e^t: \(worst) ulp at worst")
    }

    @Test func sigmoidAndSiluAreWithinThreeUlps() {
        let x = points(-80, 80, count: 200_001, seed: 3) + points(-4, 4, count: 20_001, seed: 4)
        let sig = run(Logistic.sigmoid, x), silu = run(Logistic.silu, x)
        var worst = (0.0, 0.0)
        for (i, v) in x.enumerated() {
            let s = 1 / (1 + Foundation.exp(-Double(v)))
            worst.0 = max(worst.0, ulps(sig[i], s))
            worst.1 = max(worst.1, ulps(silu[i], Double(v) * s))
        }
        #expect(worst.0 <= 3 && worst.1 <= 3, "sigmoid \(worst.0) ulp, silu \(worst.1) ulp at worst")
    }

    @Test func endsAndSpecialValuesAreTheScalarFormulas() {
        // Where e^−x overflows or underflows, and ±∞, NaN: what 1 / (1 + exp(−x)) and x / (1 + exp(−x)) give in libm.
        let x: [Float] = [-200, -104, -89, -88.8, 88.8, 104, 200, .infinity, -.infinity, 0, -0.0]
        let sig = run(Logistic.sigmoid, x), silu = run(Logistic.silu, x)
        for (i, v) in x.enumerated() {
            let e = Foundation.exp(-v)
            #expect(sig[i].bitPattern == (1 / (1 + e)).bitPattern, "sigmoid(\(v)) = \(sig[i])")
            #expect(silu[i].bitPattern == (v / (1 + e)).bitPattern || (silu[i].isNaN && (v / (1 + e)).isNaN), "silu(\(v)) = \(silu[i])")
        }
        let nan = run(Logistic.sigmoid, [.nan]) + run(Logistic.silu, [.nan])
        #expect(nan.allSatisfy { $0.isNaN })
    }

    @Test func anElementsBitsDoNotDependOnItsRun() {
        // A row, its columns split into slices of any length, one element at a time: the same bits
        // (the tail of a run goes through a padded vector with the same operations).
        var rng = SeededRandom(seed: 5)
        let x = rng.floats(77, -12...12)
        for f in [Logistic.sigmoid, Logistic.silu] as [(UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void] {
            let whole = run(f, x)
            for slice in [1, 5, 16, 17, 33] {
                var pieces: [Float] = []
                for start in stride(from: 0, to: x.count, by: slice) { pieces += run(f, Array(x[start..<min(x.count, start + slice)])) }
                #expect(pieces.map(\.bitPattern) == whole.map(\.bitPattern), "slices of \(slice)")
            }
            // In place, as Activation.apply runs it.
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { f(UnsafePointer($0.baseAddress!), x.count, $0.baseAddress!) }
            #expect(inPlace.map(\.bitPattern) == whole.map(\.bitPattern))
        }
    }

    @Test func activationsAndGraphOpsUseIt() {
        var rng = SeededRandom(seed: 6)
        let x = rng.floats(40, -6...6)
        for (activation, f) in [(Activation.sigmoid, Logistic.sigmoid), (.silu, Logistic.silu)]
            as [(Activation, (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void)] {
            var t = Tensor(shape: [1, 2, 4, 5], data: x)
            activation.apply(&t)
            #expect(t.data.map(\.bitPattern) == run(f, x).map(\.bitPattern), "Activation.\(activation)")
            let node = run({ ElementwiseOps.activation(activation, $0, count: $1, into: $2) }, x)
            #expect(node.map(\.bitPattern) == run(f, x).map(\.bitPattern), "graph node \(activation)")
        }
    }
}
