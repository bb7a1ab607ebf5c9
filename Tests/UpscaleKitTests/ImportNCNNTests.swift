// `upscale import` of ncnn models against PyTorch: tools/make_import_fixtures.py writes tiny
// random-weight SRVGGNetCompact x4, waifu2x upconv_7 x2 and vgg_7 models as ncnn files (fp32 and
// fp16 weights) and, by its own reading of those files in PyTorch, the reference outputs.
import Foundation
import Testing
@testable import UpscaleKit

enum ImportFixtures {
    static func path(_ name: String) throws -> String {
        let folder = try #require(Bundle.module.path(forResource: "Fixtures", ofType: nil), "Fixtures not bundled")
        return folder + "/import/" + name
    }

    /// An F32 tensor of a fixture's `.io.safetensors`.
    static func tensor(_ fixture: String, _ name: String) throws -> Tensor {
        let parts = FileParts([UInt8](try Data(contentsOf: URL(fileURLWithPath: try path(fixture + ".io.safetensors")))))
        let entry = parts.tensor(name)
        let shape = try #require(entry["shape"] as? [Int], "\(fixture): no tensor \(name)")
        let offsets = try #require(entry["data_offsets"] as? [Int])
        let values = stride(from: offsets[0], to: offsets[1], by: 4).map { p in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(parts.data[p + $1]) << (8 * UInt32($1)) })
        }
        return Tensor(shape: shape, data: values)
    }

    static func ncnn(_ fixture: String, _ precision: String) throws -> Model {
        try ModelImport.ncnn(paramPath: try path("\(fixture)_\(precision).param"))
    }
}

/// One imported network: the fixture, the weight precision, what it must be recognised as.
struct ImportCase: CustomStringConvertible, Sendable {
    var fixture: String, precision: String, architecture: String, scale: Int, inputPadding: Int
    var description: String { "\(fixture)_\(precision)" }
}

let importCases: [ImportCase] = ["f32", "f16"].flatMap { precision in [
    ImportCase(fixture: "srvgg_x4", precision: precision, architecture: "SRVGGNetCompact", scale: 4, inputPadding: 0),
    ImportCase(fixture: "upconv7_x2", precision: precision, architecture: "upconv_7", scale: 2, inputPadding: 7),
    ImportCase(fixture: "vgg7_x1", precision: precision, architecture: "vgg_7", scale: 1, inputPadding: 7),
] }

@Suite struct ImportNCNNTests {
    /// The float stack plus residual (unclamped) equals PyTorch's reading of the ncnn graph within
    /// 1e-4 for every tile size, and the clamped image path equals the clamped reference.
    @Test(arguments: importCases)
    func importedModelMatchesPyTorch(_ c: ImportCase) throws {
        let model = try ImportFixtures.ncnn(c.fixture, c.precision)
        #expect(model.scale == c.scale && model.inputPadding == c.inputPadding && model.channels == .rgb, "\(c)")
        #expect(model.metadata["architecture"] == c.architecture, "\(c): \(model.metadata)")
        #expect(model.metadata["source"] == "\(c)" + ".param, \(c).bin")
        let input = try ImportFixtures.tensor(c.fixture, "input")
        let expected = try ImportFixtures.tensor(c.fixture, "output_" + c.precision)
        let (h, w) = (input.shape[2], input.shape[3])
        for tileSize in [1, 2, 3, 5, 8, 256] {
            var options = RunOptions()
            options.tileSize = tileSize
            options.threads = 2
            var got = try model.stackOutput(input, options: options)
            if model.residual == .nearest {   // the stack's output plus the nearest upscale of its input
                got = Tensor(shape: got.shape, data: zip(got.data, Resize.nearestUpscale(input, factor: model.scale).data).map(+))
            }
            #expect(got.shape == expected.shape, "\(c) tile \(tileSize)")
            let check = allClose(got.data, expected.data, rtol: 0, atol: 1e-4)
            #expect(check.ok, "\(c) input \(h)×\(w) tile \(tileSize): max |diff| \(check.maxDiff) against PyTorch")
            let image = try model.upscale(color: input, alpha: nil, options: options).color
            let clamped = allClose(image.data, expected.data.map { min(max($0, 0), 1) }, rtol: 0, atol: 1e-4)
            #expect(clamped.ok, "\(c) tile \(tileSize) (image path, clamped): max |diff| \(clamped.maxDiff)")
        }
    }

    /// The streaming path gives the whole-image floats bit for bit with the new geometry (input
    /// padding, nearest residual, folded pixel shuffle), for bands and tiles that cut the image anywhere.
    @Test(arguments: [("srvgg_x4", 2, 3), ("upconv7_x2", 1, 4), ("upconv7_x2", 4, 3), ("vgg7_x1", 3, 2)])
    func streamingIsBitIdenticalToTheWholeImage(fixture: String, bandRows: Int, tileSize: Int) throws {
        let model = try ImportFixtures.ncnn(fixture, "f16")
        let input = try ImportFixtures.tensor(fixture, "input")
        var run = RunOptions()
        run.tileSize = tileSize
        run.threads = 2
        let gray = Tensor(shape: [1, 1, input.shape[2], input.shape[3]], data: Array(input.data[0..<(input.shape[2] * input.shape[3])]))
        for color in [input, gray] {
            let alpha = Tensor(shape: gray.shape, data: gray.data.reversed())
            let whole = try model.upscale(color: color, alpha: alpha, options: run)
            var options = StreamOptions()
            options.run = run
            options.bandRows = bandRows
            let writer = CollectingWriter()
            try model.upscale(from: TensorRows(color: color, alpha: alpha), to: writer,
                              options: options)
            let streamed = writer.image(channels: color.shape[1], width: model.scale * color.shape[3])
            #expect(streamed.data.elementsEqual(whole.color.data) { $0.bitPattern == $1.bitPattern },
                    "\(fixture) C=\(color.shape[1]) band \(bandRows) tile \(tileSize): max |Δ| \(allClose(streamed.data, whole.color.data).maxDiff)")
            #expect(writer.alphaImage.elementsEqual(whole.alpha!.data) { $0.bitPattern == $1.bitPattern })
        }
    }
}
