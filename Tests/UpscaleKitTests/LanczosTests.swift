// Lanczos-3 resize: the reference against Pillow's resize (Fixtures/lanczos/cases.json, made by
// tools/make_resize_webp_fixtures.py, checked there against a from-scratch NumPy implementation),
// and the streaming writer against the reference over a seeded table of sizes, band heights and
// thread counts, bit for bit equal across those settings.
import Foundation
import Testing
@testable import UpscaleKit

/// One case of Fixtures/lanczos/cases.json.
struct LanczosCase: Decodable, CustomStringConvertible {
    let name: String
    let inWidth: Int, inHeight: Int, outWidth: Int, outHeight: Int, channels: Int
    let color: String, alpha: String?, outColor: String, outAlpha: String?

    var description: String { "\(name): \(inWidth)×\(inHeight) → \(outWidth)×\(outHeight), C=\(channels), alpha \(alpha != nil)" }

    static func floats(_ base64: String) -> [Float] {
        let data = Data(base64Encoded: base64) ?? Data()
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    var input: ImageBand {
        ImageBand(color: Tensor(shape: [1, channels, inHeight, inWidth], data: Self.floats(color)),
                  alpha: alpha.map { Tensor(shape: [1, 1, inHeight, inWidth], data: Self.floats($0)) })
    }

    static let all: [LanczosCase] = {
        guard let folder = Bundle.module.path(forResource: "Fixtures", ofType: nil),
              let data = FileManager.default.contents(atPath: "\(folder)/lanczos/cases.json"),
              let file = try? JSONDecoder().decode(File.self, from: data) else { return [] }
        return file.cases
    }()

    private struct File: Decodable { let cases: [LanczosCase] }
}

/// A band writer that keeps what it is given (the resampler's inner writer in the tests).
final class ResizedRows: ImageRowWriter {
    let width: Int, height: Int
    var color: [[Float]]
    var alpha: [Float] = []
    private(set) var rowsWritten = 0
    var finished = false, aborted = false

    init(width: Int, height: Int, channels: Int) {
        self.width = width
        self.height = height
        color = Array(repeating: [], count: channels)
    }

    func write(_ band: ImageBand) throws {
        let plane = band.rows * width
        for c in color.indices { color[c] += band.color.data[(c * plane)..<((c + 1) * plane)] }
        if let a = band.alpha { alpha += a.data }
        rowsWritten += band.rows
    }

    func finish() throws -> [WriterNote] { finished = true; return [] }
    func abort() { aborted = true }
    var planes: [Float] { color.flatMap { $0 } }
}

/// `band` through a LanczosRowWriter in bands of `bandRows`, on `threads` workers.
func streamResize(_ band: ImageBand, width: Int, height: Int, bandRows: Int, threads: Int) throws -> ResizedRows {
    let (c, h, w) = (band.color.shape[1], band.color.shape[2], band.color.shape[3])
    let sink = ResizedRows(width: width, height: height, channels: c)
    let writer = LanczosRowWriter(sink, sourceWidth: w, sourceHeight: h, width: width, height: height,
                                  colorChannels: c, hasAlpha: band.alpha != nil, threads: threads)
    let reader = TensorRows(color: band.color, alpha: band.alpha)
    while let part = try reader.readBand(maxRows: bandRows) { try writer.write(part) }
    _ = try writer.finish()
    #expect(sink.finished && sink.rowsWritten == height)
    return sink
}

@Test func lanczosFixturesAreThere() {
    #expect(LanczosCase.all.count >= 9)
}

@Test(arguments: LanczosCase.all)
func lanczosReferenceMatchesPillow(_ fixture: LanczosCase) {
    let out = Lanczos.referenceResize(fixture.input, width: fixture.outWidth, height: fixture.outHeight)
    let color = allClose(out.color.data, LanczosCase.floats(fixture.outColor), rtol: 0, atol: 2e-6)
    #expect(color.ok, "\(fixture): colour max diff \(color.maxDiff)")
    if let expected = fixture.outAlpha {
        let alpha = allClose(out.alpha?.data ?? [], LanczosCase.floats(expected), rtol: 0, atol: 2e-6)
        #expect(alpha.ok, "\(fixture): alpha max diff \(alpha.maxDiff)")
    }
}

@Test(arguments: LanczosCase.all)
func lanczosStreamMatchesPillow(_ fixture: LanczosCase) throws {
    let out = try streamResize(fixture.input, width: fixture.outWidth, height: fixture.outHeight, bandRows: 3, threads: 2)
    let color = allClose(out.planes, LanczosCase.floats(fixture.outColor), rtol: 0, atol: 1e-5)
    #expect(color.ok, "\(fixture): colour max diff \(color.maxDiff)")
    if let expected = fixture.outAlpha {
        let alpha = allClose(out.alpha, LanczosCase.floats(expected), rtol: 0, atol: 1e-5)
        #expect(alpha.ok, "\(fixture): alpha max diff \(alpha.maxDiff)")
    }
}

/// Seeded cases: (in W, in H, out W, out H, channels, alpha).
private let lanczosSeededCases: [(Int, Int, Int, Int, Int, Bool)] = [
    (37, 29, 60, 45, 3, false), (64, 50, 21, 17, 3, true), (40, 40, 40, 40, 1, false),
    (13, 70, 50, 30, 3, true), (90, 11, 30, 33, 1, true), (8, 8, 3, 29, 3, false),
]

@Test(arguments: lanczosSeededCases.indices)
func lanczosStreamMatchesReferenceAndIgnoresBandsAndThreads(_ k: Int) throws {
    let (iw, ih, ow, oh, c, hasAlpha) = lanczosSeededCases[k]
    var random = SeededRandom(seed: UInt64(100 + k))
    let band = ImageBand(color: Tensor(shape: [1, c, ih, iw], data: random.floats(c * ih * iw, 0...1)),
                         alpha: hasAlpha ? Tensor(shape: [1, 1, ih, iw], data: random.floats(ih * iw, 0...1)) : nil)
    let reference = Lanczos.referenceResize(band, width: ow, height: oh)
    let first = try streamResize(band, width: ow, height: oh, bandRows: ih, threads: 1)
    let close = allClose(first.planes + first.alpha, reference.color.data + (reference.alpha?.data ?? []), rtol: 0, atol: 1e-5)
    #expect(close.ok, "case \(lanczosSeededCases[k]): max diff from the reference \(close.maxDiff)")
    for (bandRows, threads) in [(1, 1), (2, 3), (7, 2), (ih - 1, 4)] where bandRows > 0 {
        let other = try streamResize(band, width: ow, height: oh, bandRows: bandRows, threads: threads)
        #expect(other.planes == first.planes && other.alpha == first.alpha,
                "case \(lanczosSeededCases[k]) in bands of \(bandRows) on \(threads) threads differs")
    }
}

@Test func lanczosKeepsTransparentColoursFromBleeding() throws {
    // Left half opaque red, right half fully transparent green: premultiplied, no green reaches
    // the visible pixels, and the transparent side's colour does not matter.
    let (h, w) = (4, 16)
    var color = [Float](repeating: 0, count: 3 * h * w), alpha = [Float](repeating: 0, count: h * w)
    for y in 0..<h {
        for x in 0..<w {
            if x < w / 2 { color[y * w + x] = 1; alpha[y * w + x] = 1 } else { color[h * w + y * w + x] = 1 }
        }
    }
    let band = ImageBand(color: Tensor(shape: [1, 3, h, w], data: color), alpha: Tensor(shape: [1, 1, h, w], data: alpha))
    let out = try streamResize(band, width: 11, height: 3, bandRows: 2, threads: 1)
    for k in 0..<(3 * 11) where out.alpha[k] > 0 {
        #expect(out.color[1][k] == 0, "green bled into pixel \(k): \(out.color[1][k])")
        #expect(out.color[0][k] == 1, "red weakened at pixel \(k): \(out.color[0][k])")
    }
}

@Test func lanczosTapsSumToOneAndStayInside() {
    for (inSize, outSize) in [(10, 3), (3, 10), (7, 7), (1, 5), (100, 1), (2000, 1999)] {
        let taps = Lanczos.Taps(inSize: inSize, outSize: outSize)
        for i in 0..<outSize {
            #expect(taps.start[i] >= 0 && taps.start[i] + taps.count[i] <= inSize)
            let sum = (0..<taps.count[i]).map { Double(taps.weights[i * taps.stride + $0]) }.reduce(0, +)
            #expect(abs(sum - 1) < 1e-6, "\(inSize) → \(outSize), pixel \(i): weights sum to \(sum)")
        }
    }
}
