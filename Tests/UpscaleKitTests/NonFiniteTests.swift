import Testing
@testable import UpscaleKit

/// `Model.allFinite`, the per-tile check for NaN/inf (issue 15, item 10), against `Float.isFinite`
/// for one bad value at every position of the SIMD body and the scalar tail.
@Test func allFiniteFindsEveryBadValueAtEveryPosition() {
    for count in [0, 1, 15, 16, 17, 40] {
        let clean = (0..<count).map { Float($0) * 1e37 - 2e38 }
        #expect(clean.withUnsafeBufferPointer(Model.allFinite) == clean.allSatisfy(\.isFinite), "count \(count)")
        for position in 0..<count {
            for bad in [Float.nan, .infinity, -.infinity] {
                var values = clean
                values[position] = bad
                #expect(values.withUnsafeBufferPointer(Model.allFinite) == false,
                        "count \(count), \(bad) at \(position)")
            }
        }
    }
}
