// Output size requests: the target for an input size, --resize geometry, the smallest model scale
// that reaches a target, and the checks made before a run. Expected values worked out by hand.
import Testing
@testable import UpscaleKit

@Test(arguments: [
    (OutputSize.factor(1.5), 30, 20, 45, 30),
    (.factor(0.01), 30, 20, 1, 1),            // every side at least 1
    (.factor(2.5), 3, 3, 8, 8),               // 7.5 rounds half away from zero
    (.width(50), 30, 20, 50, 33),             // 33.33
    (.width(45), 30, 20, 45, 30),
    (.height(70), 30, 20, 105, 70),
    (.exact(width: 7, height: 900), 30, 20, 7, 900),
    (.fit(width: 60, height: 100), 30, 20, 60, 40),
    (.fit(width: 100, height: 30), 30, 20, 45, 30),
])
func outputSizeTargets(_ size: OutputSize, _ w: Int, _ h: Int, _ tw: Int, _ th: Int) {
    let target = size.target(width: w, height: h)
    #expect(target.width == tw && target.height == th, "\(size) of \(w)×\(h): \(target)")
}

@Test func resizeGeometryParsesImageMagicksForms() {
    #expect(OutputSize(resize: "3000x") == .width(3000))
    #expect(OutputSize(resize: "x2000") == .height(2000))
    #expect(OutputSize(resize: "3000X2000") == .fit(width: 3000, height: 2000))
    #expect(OutputSize(resize: "3000x2000!") == .exact(width: 3000, height: 2000))
    #expect(OutputSize(resize: "150%") == .factor(1.5))
    for bad in ["", "x", "3000", "3000x!", "0x", "x-5", "12y", "1.5x", "axb", "%", "-50%", "3000x2000x1", "３０x"] {
        #expect(OutputSize(resize: bad) == nil, "'\(bad)' parsed")
    }
}

@Test func theSmallestScaleReachingTheTargetIsPicked() {
    let scales = [4, 2, 3]
    #expect(OutputSize.smallestScale(reaching: (60, 40), width: 30, height: 20, among: scales) == 2)
    #expect(OutputSize.smallestScale(reaching: (61, 40), width: 30, height: 20, among: scales) == 3)
    #expect(OutputSize.smallestScale(reaching: (60, 41), width: 30, height: 20, among: scales) == 3)
    #expect(OutputSize.smallestScale(reaching: (120, 80), width: 30, height: 20, among: scales) == 4)
    #expect(OutputSize.smallestScale(reaching: (121, 80), width: 30, height: 20, among: scales) == nil)
    #expect(OutputSize.smallestScale(reaching: (10, 10), width: 30, height: 20, among: [2, 4]) == 2)
    #expect(OutputSize.exact(width: 40, height: 40).aspectChange(width: 30, height: 20) > 0.33)
    #expect(OutputSize.width(40).aspectChange(width: 30, height: 20) == 0)
}

@Test func targetsAreCheckedBeforeTheRun() throws {
    #expect(throws: Never.self) {
        try OutputSize.check(target: (60, 40), scale: 2, input: (30, 20), format: .png, maxPixels: 2400, path: "a")
    }
    func kind(_ body: () throws -> Void) -> ImageIOError.Kind? {
        do { try body(); return nil } catch { return (error as? ImageIOError)?.kind }
    }
    #expect(kind { try OutputSize.check(target: (61, 40), scale: 2, input: (30, 20), format: .png, maxPixels: 1 << 30, path: "a") } == .unsupported)
    #expect(kind { try OutputSize.check(target: (60, 40), scale: 2, input: (30, 20), format: .png, maxPixels: 2399, path: "a") } == .overPixelLimit)
    #expect(kind { try OutputSize.check(target: (16384, 8), scale: 4, input: (4096, 2), format: .webp, maxPixels: 1 << 30, path: "a") } == .unsupported)
    #expect(kind { try OutputSize.check(target: (16384, 8), scale: 4, input: (4096, 2), format: .png, maxPixels: 1 << 30, path: "a") } == nil)
}
