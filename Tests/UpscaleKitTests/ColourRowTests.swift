// The fused colour pass (Stream/ColourRow.swift) against its per-pixel formulas written out here in
// scalar code, over a seeded table of model kinds, alpha, widths (tails of 0 ... 7 pixels) and
// sample layouts: every float bit and every packed byte.
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
                    for width in [1, 5, 8, 13, 16, 23] {
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
            let (m, b) = (ColorSpace.inverse, ColorSpace.offset)
            let p = [Double(model(0)) - b[0], Double(cb[i]) - b[1], Double(cr[i]) - b[2]]
            colour = (0..<3).map { k in clamp(Float(0 + m[k][0] * p[0] + m[k][1] * p[1] + m[k][2] * p[2])) }
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
