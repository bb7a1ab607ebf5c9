// runWindow into a strided output (ConvTranspose2D+Layout.swift): every kernel must store each
// element at its layout's offset, the same value as into a dense buffer, and touch nothing else.
import Foundation
import Testing
@testable import UpscaleKit

/// One layer per kernel (the choice that takes it, checked), and an unfused activation.
struct OutputLayoutCase: CustomStringConvertible, Sendable {
    var name: String
    var kernel: ConvTranspose2DKernelChoice
    var algorithm: ConvTranspose2DAlgorithm
    var cIn: Int, cOut: Int
    var size: Int, stride: Int, padding: Int
    var epilogue: Activation

    var description: String {
        "\(name): \(cIn)→\(cOut) \(size)×\(size) stride \(stride) padding \(padding) \(epilogue) on \(algorithm)"
    }

    /// The case's plan on seeded weights, checked to run on its algorithm, a seeded input map
    /// (1, Cin, 13, 75), the map's size and its whole output's.
    func layer(seed: UInt64) throws -> (plan: ConvTranspose2DPlan, input: [Float], size: (Int, Int), outputSize: (Int, Int)) {
        var rng = SeededRandom(seed: seed)
        let (h, w) = (13, 75)
        let weight = Tensor(shape: [cIn, cOut, size, size], data: rng.floats(cIn * cOut * size * size, -0.3...0.3))
        let bias = Tensor(shape: [cOut], data: rng.floats(cOut))
        let plan = try ConvTranspose2DPlan(weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding),
                                           epilogue: epilogue, kernel: kernel)
        #expect(plan.algorithm == algorithm, "\(self): the plan runs \(plan.algorithm)")
        let input = rng.floats(cIn * h * w)
        return (plan, input, (h, w), (stride * (h - 1) + size - 2 * padding, stride * (w - 1) + size - 2 * padding))
    }

    static let all: [OutputLayoutCase] = [
        .init(name: "winograd", kernel: .winograd, algorithm: .winograd, cIn: 32, cOut: 40, size: 3, stride: 1, padding: 1,
              epilogue: .leakyReLU(0.1)),
        .init(name: "direct", kernel: .direct, algorithm: .direct, cIn: 32, cOut: 40, size: 3, stride: 1, padding: 1,
              epilogue: .prelu([0.25])),
        .init(name: "wide", kernel: .wide, algorithm: .wide, cIn: 16, cOut: 20, size: 3, stride: 1, padding: 1,
              epilogue: .relu),
        .init(name: "narrow", kernel: .narrow, algorithm: .narrow, cIn: 5, cOut: 6, size: 4, stride: 2, padding: 1,
              epilogue: .leakyReLU(0.1)),
        .init(name: "subpixel", kernel: .subpixel, algorithm: .subpixel, cIn: 16, cOut: 3, size: 4, stride: 2, padding: 1,
              epilogue: .none),
        .init(name: "unfused", kernel: .narrow, algorithm: .narrow, cIn: 4, cOut: 5, size: 3, stride: 1, padding: 1,
              epilogue: .sigmoid),
    ]
}

@Test(arguments: OutputLayoutCase.all)
func runWindowStoresThroughTheOutputLayout(_ c: OutputLayoutCase) throws {
    let (plan, input, (h, w), (oH, oW)) = try c.layer(seed: 26)
    // Windows of the whole map's output: rows top ..< top + rows, columns left ..< left + columns,
    // from the whole input (every tap inside it), Winograd's tiles anchored at row 1.
    for (top, rows, left, columns) in [(0, oH, 0, oW), (5, 3, 7, 50), (2, 1, 0, oW), (oH - 4, 4, 16, oW - 16)] {
        func window(into y: UnsafeMutablePointer<Float>, _ layout: ConvTransposeMapLayout?) {
            input.withUnsafeBufferPointer { x in
                plan.runWindow(input: x.baseAddress!, inputOrigin: (0, 0), inputSize: (h, w), outputOrigin: (top, left),
                               outputSize: (rows, columns), output: y, outputLayout: layout, tilePhase: (1, 0), threads: 2)
            }
        }
        var dense = [Float](repeating: .nan, count: c.cOut * rows * columns)   // (Cout, rows, columns)
        dense.withUnsafeMutableBufferPointer { window(into: $0.baseAddress!, nil) }
        #expect(!dense.contains { $0.isNaN }, "\(c): the dense window has unwritten elements")
        // A ring of rows + 3 slots, 2 rows between channels, and 5 columns of margin each side or
        // none (rows one after another); the window's first row in slot `first`: its rows wrap past
        // the last slot, or lie one after another from a slot past the first.
        let sentinel: Float = -12345.5
        for (first, margin) in [(0, 5), (rows + 2, 5), (rows / 2 + 2, 5), (0, 0), (3, 0)] {
            let (slots, rowStride) = (rows + 3, columns + 2 * margin)
            let channelStride = (slots + 2) * rowStride
            let layout = ConvTransposeMapLayout(batchStride: c.cOut * channelStride, channelStride: channelStride,
                                                   rowStride: rowStride, firstSlot: first, slots: slots)
            var ring = [Float](repeating: sentinel, count: c.cOut * channelStride)
            ring.withUnsafeMutableBufferPointer { window(into: $0.baseAddress! + margin, layout) }
            var expected = [Float](repeating: sentinel, count: ring.count)
            for co in 0..<c.cOut {
                for i in 0..<rows {
                    let at = co * channelStride + (first + i) % slots * rowStride + margin
                    for j in 0..<columns { expected[at + j] = dense[(co * rows + i) * columns + j] }
                }
            }
            let wrong = zip(ring, expected).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
            #expect(wrong.isEmpty, "\(c): window rows \(top)..<\(top + rows) columns \(left)..<\(left + columns), first slot \(first): \(wrong.count) elements differ, first at \(wrong.first.map { ($0.offset, $0.element) } as Any)")
        }
    }
}

/// The input read through a layout: the map's rows in a ring of slots with margins of NaN between
/// rows and channels (a kernel reading outside its rows would carry a NaN into the output), row 0
/// in a late slot so that the rows wrap; each window the same bits as from the dense input.
@Test(arguments: OutputLayoutCase.all)
func runWindowReadsThroughTheInputLayout(_ c: OutputLayoutCase) throws {
    let (plan, input, (h, w), (oH, oW)) = try c.layer(seed: 27)
    let (slots, rowStride, margin) = (h + 3, w + 9, 4)
    let channelStride = (slots + 1) * rowStride
    for first in [0, h, 7] {
        let layout = ConvTransposeMapLayout(batchStride: c.cIn * channelStride, channelStride: channelStride,
                                            rowStride: rowStride, firstSlot: first, slots: slots)
        var ring = [Float](repeating: .nan, count: c.cIn * channelStride)
        for ci in 0..<c.cIn {
            for i in 0..<h {
                let at = ci * channelStride + (first + i) % slots * rowStride + margin
                for j in 0..<w { ring[at + j] = input[(ci * h + i) * w + j] }
            }
        }
        for (top, rows, left, columns) in [(0, oH, 0, oW), (5, 3, 7, 50), (oH - 4, 4, 16, oW - 16)] {
            func window(_ x: [Float], _ layout: ConvTransposeMapLayout?, offset: Int) -> [Float] {
                var y = [Float](repeating: .nan, count: c.cOut * rows * columns)   // (Cout, rows, columns)
                x.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { y in
                        plan.runWindow(input: x.baseAddress! + offset, inputOrigin: (0, 0), inputSize: (h, w), inputLayout: layout,
                                       outputOrigin: (top, left), outputSize: (rows, columns), output: y.baseAddress!,
                                       tilePhase: (1, 0), threads: 2)
                    }
                }
                return y
            }
            let dense = window(input, nil, offset: 0)
            #expect(!dense.contains { $0.isNaN }, "\(c): the dense window has unwritten elements")
            let got = window(ring, layout, offset: margin)
            #expect(got.map(\.bitPattern) == dense.map(\.bitPattern),
                    "\(c): window rows \(top)..<\(top + rows) columns \(left)..<\(left + columns), input row 0 in slot \(first)")
        }
    }
}
