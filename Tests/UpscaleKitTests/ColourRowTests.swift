// The fused colour pass (Pipeline/ColourRow.swift) against its per-pixel formulas written out here in
// scalar code, over a seeded table of model kinds, alpha, widths (tails of 0 ... 7 pixels) and
// sample layouts: every float bit and every packed byte. Then the colour stage in Float (bicubic
// and YCbCr → RGB) against the Double formulas it replaced: every 8- and 16-bit sample within ±1.
import Testing
@testable import UpscaleKit

struct ColourRowCase: CustomStringConvertible, Sendable {
    var channels: ModelChannels
    var colorChannels: Int
    var residual: Bool
    var alpha: Bool
    var width: Int
    var sampleBits: Int
    var withAlpha: Bool
    var seed: UInt64
    var description: String {
        "\(channels) → \(colorChannels) channels, residual \(residual), alpha \(alpha), width \(width), "
            + "\(sampleBits)-bit, withAlpha \(withAlpha), seed \(seed)"
    }

    static let table: [ColourRowCase] = {
        var cases = [ColourRowCase]()
        var seed: UInt64 = 1
        for (channels, colorChannels) in [(ModelChannels.rgb, 3), (.rgb, 1), (.y, 3), (.y, 1)] {
            for residual in [false, true] {
                for alpha in [false, true] {
                    for width in [1, 5, 8, 13, 16, 23, 40] {
                        for sampleBits in [8, 16] {
                            cases.append(ColourRowCase(channels: channels, colorChannels: colorChannels, residual: residual,
                                                       alpha: alpha, width: width, sampleBits: sampleBits,
                                                       withAlpha: alpha && width % 2 == 1, seed: seed))
                            seed += 1
                        }
                    }
                }
            }
        }
        return cases
    }()
}

/// The colour stage's formulas, one pixel at a time: colour planes (colorChannels, count).
private func scalarColour(_ c: ColourRowCase, stack: [[Float]], residual: [[Float]], alpha: [Float]?,
                          cb: [Float], cr: [Float]) -> [[Float]] {
    func clamp(_ x: Float) -> Float { min(max(x, 0), 1) }
    var out = [[Float]](repeating: [Float](repeating: 0, count: c.width), count: c.colorChannels)
    for i in 0..<c.width {
        func model(_ m: Int) -> Float {
            let s = stack[m][i]
            if c.residual { return alpha.map { s * $0[i] + residual[m][i] } ?? s + residual[m][i] }
            guard let a = alpha?[i] else { return s }
            let black: Float = c.channels == .y ? 16 / 255 : 0
            return a == 1 ? s : black + a * (s - black)
        }
        var colour: [Float]
        switch (c.channels, c.colorChannels) {
        case (.rgb, 3): colour = [clamp(model(0)), clamp(model(1)), clamp(model(2))]
        case (.rgb, _): colour = [clamp((model(0) + model(1) + model(2)) / 3)]
        case (.y, 3):
            // In Float: m_k0·p0, then + m_k1·p1 and + m_k2·p2 each fused (ColorSpace.yCbCrToRGBClampedFloat).
            let m = ColorSpace.inverse.map { $0.map { Float($0) } }, b = ColorSpace.offset.map { Float($0) }
            let p = [model(0) - b[0], cb[i] - b[1], cr[i] - b[2]]
            colour = (0..<3).map { k in
                var v = p[0] * m[k][0]
                v.addProduct(p[1], m[k][1])
                v.addProduct(p[2], m[k][2])
                return clamp(v)
            }
        case (.y, _): colour = [clamp((model(0) - 16 / 255) * (255 / 219))]
        }
        if let a = alpha?[i] { colour = colour.map { p in a > 0 ? (p > a ? 1 : p / a) : 0 } }
        for k in 0..<c.colorChannels { out[k][i] = colour[k] }
    }
    return out
}

@Test(arguments: ColourRowCase.table)
func colourRowMatchesScalarFormulas(_ c: ColourRowCase) {
    var random = SeededRandom(seed: c.seed)
    let cm = c.channels == .y ? 1 : 3
    let stack = (0..<cm).map { _ in random.floats(c.width, -0.2...1.2) }
    let residual = (0..<cm).map { _ in random.floats(c.width, -0.2...1.0) }
    let (cb, cr) = (random.floats(c.width, 0...1), random.floats(c.width, 0...1))
    // Alpha with exact 0 and 1 among the values (the rules' special cases).
    let alpha: [Float]? = c.alpha ? random.floats(c.width, -0.5...1.5).map { min(max($0, 0), 1) } : nil
    let expected = scalarColour(c, stack: stack, residual: residual, alpha: alpha, cb: cb, cr: cr)

    var floats = [[Float]](repeating: [Float](repeating: -7, count: c.width), count: c.colorChannels)
    let channels = c.colorChannels + (c.withAlpha ? 1 : 0)
    let rowBytes = c.width * channels * c.sampleBits / 8
    var bytes = [UInt8](repeating: 0xA5, count: rowBytes + 4)  // 4 guard bytes after the row
    // The input rows, copied to memory that stays put while ColourRow reads it.
    let held = (stack + residual + [cb, cr] + (alpha.map { [$0] } ?? [])).map { row -> UnsafeMutablePointer<Float> in
        let p = UnsafeMutablePointer<Float>.allocate(capacity: row.count)
        p.initialize(from: row, count: row.count)
        return p
    }
    defer { held.forEach { $0.deallocate() } }
    func rows(_ first: Int) -> (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) {
        (UnsafePointer(held[first]), UnsafePointer(held[first + (cm == 3 ? 1 : 0)]), UnsafePointer(held[first + (cm == 3 ? 2 : 0)]))
    }
    let row = ColourRow(stack: rows(0), residual: c.residual ? rows(cm) : nil,
                        alpha: c.alpha ? UnsafePointer(held[2 * cm + 2]) : nil,
                        chroma: c.channels == .y && c.colorChannels == 3 ? (UnsafePointer(held[2 * cm]), UnsafePointer(held[2 * cm + 1])) : nil,
                        channels: c.channels, colorChannels: c.colorChannels, count: c.width)
    let out = (0..<c.colorChannels).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: c.width) }
    defer { out.forEach { $0.deallocate() } }
    row.write(into: out)
    for k in 0..<c.colorChannels { floats[k] = Array(UnsafeBufferPointer(start: out[k], count: c.width)) }
    #expect(floats.map { $0.map(\.bitPattern) } == expected.map { $0.map(\.bitPattern) }, "\(c)")

    bytes.withUnsafeMutableBufferPointer { row.pack(withAlpha: c.withAlpha, sampleBits: c.sampleBits, into: $0.baseAddress!) }
    var expectedBytes = [UInt8]()
    let maxValue: Float = c.sampleBits == 16 ? 65535 : 255
    for i in 0..<c.width {
        for k in 0..<channels {
            let value = k < c.colorChannels ? expected[k][i] : alpha![i]
            let sample = PixelPacking.quantize(value, maxValue: maxValue)
            if c.sampleBits == 16 { expectedBytes += [UInt8(sample >> 8), UInt8(sample & 0xFF)] } else { expectedBytes.append(UInt8(sample)) }
        }
    }
    #expect(Array(bytes[..<rowBytes]) == expectedBytes, "\(c)")
    #expect(bytes[rowBytes...].allSatisfy { $0 == 0xA5 }, "wrote past the row: \(c)")
}

/// YCbCr → RGB in Float against the Double formula (ColorSpace.inverse, Double sums): over a sweep
/// of every 8-bit Y level and Cb, Cr every third level (and each level ± a seeded fraction of a
/// step), every 8- and 16-bit sample of the clamped result within ±1 of the Double one's.
@Test func floatYCbCrIsWithinOneStepOfTheDoubleFormula() {
    var random = SeededRandom(seed: 28)
    let levels = (0...255).map { Float($0) / 255 }
    let chromaLevels = stride(from: 0, through: 255, by: 3).map { Float($0) / 255 }
    var (worst8, worst16) = (0, 0)
    var y = [Float](), cb = [Float](), cr = [Float]()
    for l in levels {
        for b in chromaLevels {
            for r in chromaLevels {
                y.append(l + Float.random(in: -0.002...0.002, using: &random))
                cb.append(b); cr.append(r)
            }
        }
    }
    let (m, o) = (ColorSpace.inverse, ColorSpace.offset)
    for i in stride(from: 0, to: y.count - 7, by: 8) {
        func v(_ x: [Float]) -> SIMD8<Float> { SIMD8(x[i..<(i + 8)]) }
        let (r, g, b) = ColorSpace.yCbCrToRGBClampedFloat(v(y), v(cb), v(cr))
        for k in 0..<8 {
            let p = [Double(y[i + k]) - o[0], Double(cb[i + k]) - o[1], Double(cr[i + k]) - o[2]]
            for (c, got) in [r[k], g[k], b[k]].enumerated() {
                let expected = min(max(Float(m[c][0] * p[0] + m[c][1] * p[1] + m[c][2] * p[2]), 0), 1)
                worst8 = max(worst8, abs(PixelPacking.quantize(got, maxValue: 255) - PixelPacking.quantize(expected, maxValue: 255)))
                worst16 = max(worst16, abs(PixelPacking.quantize(got, maxValue: 65535) - PixelPacking.quantize(expected, maxValue: 65535)))
            }
        }
    }
    #expect(worst8 <= 1 && worst16 <= 1, "8-bit off by \(worst8), 16-bit by \(worst16)")
}

/// The whole colour stage of the built-in y models (Float bicubic of the residual and chroma, Float
/// YCbCr → RGB) against the Double formulas on the same network output: the Double bicubic
/// (Resize.bicubicUpscale, MATLAB's) of Y, Cb and Cr, the Double inverse map, clamped; every 8-bit
/// sample within ±1, on seeded images of sizes with and without a vector interior.
@Test(arguments: ["x2", "x3", "x4"])
func colourStageIsWithinOneStepOfTheDoubleFormulas(model name: String) throws {
    let model = try streamTestModel(name)
    for (h, w, seed) in [(13, 29, UInt64(1)), (7, 5, 2)] {
        var random = SeededRandom(seed: seed)
        let color = Tensor(shape: [1, 3, h, w], data: random.floats(3 * h * w, 0...1))
        var run = RunOptions()
        run.threads = 2
        let got = try model.upscale(color: color, alpha: nil, options: run).color   // (1, 3, sH, sW)
        let ycc = ColorSpace.rgbToYCbCr(color, threads: 1)
        let plane = h * w
        let luma = Tensor(shape: [1, 1, h, w], data: Array(ycc.data[0..<plane]))
        let chroma = Resize.bicubicUpscale(Tensor(shape: [1, 2, h, w], data: Array(ycc.data[plane...])), factor: model.scale, threads: 1)
        let stack = try model.stackOutput(luma, options: run)
        let residual = Resize.bicubicUpscale(luma, factor: model.scale, threads: 1)
        let (m, o) = (ColorSpace.inverse, ColorSpace.offset)
        let outPlane = stack.count
        var worst = 0
        for i in 0..<outPlane {
            let p = [Double(stack.data[i] + residual.data[i]) - o[0], Double(chroma.data[i]) - o[1],
                     Double(chroma.data[outPlane + i]) - o[2]]
            for c in 0..<3 {
                let expected = min(max(Float(m[c][0] * p[0] + m[c][1] * p[1] + m[c][2] * p[2]), 0), 1)
                worst = max(worst, abs(PixelPacking.quantize(got.data[c * outPlane + i], maxValue: 255)
                                       - PixelPacking.quantize(expected, maxValue: 255)))
            }
        }
        #expect(worst <= 1, "\(name) \(h)×\(w): a sample off by \(worst)")
    }
}

/// The fused colour row of the usual case (a y model with its bicubic residual, 8-bit RGB) and its parts.
@Suite struct ColourRowFusedTests {
    /// `ColourRow.sample8` (the 8-bit quantizer with the clamp folded in) against
    /// `PixelPacking.quantize` (rounding half away from zero, 0 below, 255 above, NaN 0): every step k/255
    /// and every half step (k + ½)/255 with 3 Float neighbours either side, signed zeros, infinities, NaN,
    /// and a stride through all 2³² bit patterns.
    @Test func sample8IsQuantizeOfTheClampedValue() {
        var values: [Float] = [0, -0.0, 1, .infinity, -.infinity, .nan, -.nan, .leastNonzeroMagnitude,
                               -.leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e-30, 2, -1]
        for k in 0...255 {
            for center in [Float(k) / 255, (Float(k) + 0.5) / 255] {
                var (up, down) = (center, center)
                values.append(center)
                for _ in 0..<3 {
                    (up, down) = (up.nextUp, down.nextDown)
                    values += [up, down]
                }
            }
        }
        for bits in stride(from: UInt64(0), to: 1 << 32, by: 4099) { values.append(Float(bitPattern: UInt32(bits))) }
        let bad = values.filter { Int(ColourRow.sample8($0)) != PixelPacking.quantize($0, maxValue: 255) }
        #expect(bad.isEmpty, "\(bad.count) values differ, first \(bad.prefix(5).map { "\($0) (\($0.bitPattern))" })")
    }

    /// The fused row of a y model on 8-bit RGB (`Resize.heightPassRowsFloat3` of Y, Cb and Cr, then
    /// `ColourRow.packBicubicYToRGB8`: their width pass per chunk, packed at once) against the Float
    /// bicubic's sums written out here from the taps (no vector pass) then the per-pixel formulas
    /// written out in `scalarColour` and `PixelPacking.quantize`: every byte, at factors 2, 3 and 4, every
    /// output row, widths with no vector interior, a short one, one chunk and several chunks with a
    /// part chunk and a scalar tail; values outside [0, 1] so the clamps act.
    @Test(arguments: [2, 3, 4])
    func fusedBicubicRowPacksTheBytesOfTheWrittenOutSums(factor: Int) {
        for (height, width, seed) in [(3, 9, UInt64(1)), (4, 17, 2), (3, 33, 3), (5, 64, 4), (3, 75, 5), (4, 301, 6)] {
            let bicubic = Resize.BicubicTaps(height: height, width: width, factor: factor)
            let taps = Resize.FloatBicubicTaps(bicubic)
            #expect(taps.uniformPhases, "×\(factor) W=\(width): no uniform phases, the fused row is never taken")
            guard taps.uniformPhases else { continue }
            var random = SeededRandom(seed: seed)
            let (outH, outW) = (factor * height, factor * width)
            // planes (3, H, W): the Y the residual upscales, Cb, Cr; stack (sH, sW): the model's rows.
            let planes = random.floats(3 * height * width, -0.1...1.1)
            let stack = random.floats(outH * outW, -0.3...0.3)
            let c = ColourRowCase(channels: .y, colorChannels: 3, residual: true, alpha: false, width: outW, sampleBits: 8,
                                  withAlpha: false, seed: seed)
            var worstRow: Int? = nil
            planes.withUnsafeBufferPointer { planes in
                stack.withUnsafeBufferPointer { stack in
                    taps.withPointers { t in
                        var short = [Float](repeating: 0, count: 3 * width)
                        var rows = [[Float]](repeating: [], count: 3)
                        var got = [UInt8](repeating: 0xA5, count: 3 * outW + 4)   // 4 guard bytes
                        for o in 0..<outH {
                            let plane = { (k: Int) in planes.baseAddress! + k * height * width }
                            // The Float bicubic's sums written out: fused multiply-adds from 0 in tap order, the
                            // row's nonzero taps, then the columns' used taps (those nonzero for some output).
                            let (rowTaps, colTaps) = (bicubic.rows, bicubic.cols)
                            for k in 0..<3 {
                                let column = (0..<width).map { x in
                                    var acc: Float = 0
                                    for j in 0..<rowTaps.taps where Float(rowTaps.weight[o * rowTaps.taps + j]) != 0 {
                                        let (weight, row) = (rowTaps.weight[o * rowTaps.taps + j], rowTaps.index[o * rowTaps.taps + j])
                                        acc.addProduct(Float(weight), plane(k)[row * width + x])
                                    }
                                    return acc
                                }
                                rows[k] = (0..<outW).map { x in
                                    var acc: Float = 0
                                    for j in taps.usedCols {
                                        acc.addProduct(Float(colTaps.weight[x * colTaps.taps + j]), column[colTaps.index[x * colTaps.taps + j]])
                                    }
                                    return acc
                                }
                            }
                            let y = Array(stack[(o * outW)..<((o + 1) * outW)])
                            let colour = scalarColour(c, stack: [y], residual: [rows[0]], alpha: nil, cb: rows[1], cr: rows[2])
                            let expected = (0..<outW).flatMap { i in (0..<3).map { UInt8(PixelPacking.quantize(colour[$0][i], maxValue: 255)) } }
                            short.withUnsafeMutableBufferPointer { short in
                                let s = short.baseAddress!
                                Resize.heightPassRowsFloat3(t, planes: (plane(0), plane(1), plane(2)), rowOrigin: 0, width: width,
                                                            output: o, into: (s, s + width, s + 2 * width))
                                got.withUnsafeMutableBufferPointer {
                                    ColourRow.packBicubicYToRGB8(stack: stack.baseAddress! + o * outW,
                                                                 short: (UnsafePointer(s), UnsafePointer(s + width), UnsafePointer(s + 2 * width)),
                                                                 taps: t, into: $0.baseAddress!)
                                }
                            }
                            if Array(got[..<(3 * outW)]) != expected || got[(3 * outW)...].contains(where: { $0 != 0xA5 }) {
                                worstRow = worstRow ?? o
                            }
                        }
                    }
                }
            }
            #expect(worstRow == nil, "×\(factor) \(height)×\(width): row \(worstRow ?? -1) differs from the written-out sums")
        }
    }

    /// The Float taps of the bicubic's integer factors have the same weights at every interior position
    /// of a phase (`uniformPhases`), at image widths up to 8K: the fused colour row is what runs.
    @Test func bicubicFloatTapsHaveUniformPhases() {
        for factor in 2...4 {
            for width in [9, 33, 640, 1080, 1920, 3840, 7680] {
                let taps = Resize.FloatBicubicTaps(Resize.BicubicTaps(height: 5, width: width, factor: factor))
                #expect(taps.uniformPhases, "×\(factor) W=\(width)")
            }
        }
    }
}
