import Foundation
import Testing
@testable import UpscaleKit

/// Models exported by training/export.py --make-fixtures from random PyTorch stacks (Conv2d converted,
/// ConvTranspose2d with stride/groups/dilation, PReLU, LeakyReLU, Tanh, SiLU, Sigmoid, ReLU), with
/// PyTorch's forward output on a random input. `thin_collapsible_x3` is a training-form ThinSR
/// (collapsible blocks with their 1×1 expansions and identity skips, conv + PixelShuffle last): its
/// file holds the collapsed layers and its output is the over-parameterised graph's, so matching it
/// proves the collapse and the pixel-shuffle fold exact.
@Suite struct ModelPyTorchTests {
    static func fixture(_ name: String) throws -> String {
        let folder = try #require(Bundle.module.path(forResource: "Fixtures", ofType: nil), "Fixtures not bundled")
        return folder + "/model/" + name
    }

    /// The `input` and `output` F32 tensors of a `.io.safetensors` file.
    static func io(_ path: String) throws -> (input: Tensor, output: Tensor) {
        let parts = FileParts([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        func tensor(_ name: String) throws -> Tensor {
            let entry = parts.tensor(name)
            let shape = try #require(entry["shape"] as? [Int])
            let offsets = try #require(entry["data_offsets"] as? [Int])
            let values = stride(from: offsets[0], to: offsets[1], by: 4).map { p in
                Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(parts.data[p + $1]) << (8 * UInt32($1)) })
            }
            return Tensor(shape: shape, data: values)
        }
        return (try tensor("input"), try tensor("output"))
    }

    @Test(arguments: ["mixed_rgb_x2_f32", "mixed_y_x3_f16", "thin_collapsible_x3"])
    func stackOutputMatchesPyTorch(name: String) throws {
        let model = try Model.load(path: try Self.fixture(name + ".bin"))
        let (input, expected) = try Self.io(try Self.fixture(name + ".io.safetensors"))
        #expect(model.metadata["name"] == name)
        for tileSize in [2, 256] {
            var options = RunOptions()
            options.tileSize = tileSize
            options.threads = 2
            let got = try model.stackOutput(input, options: options)
            #expect(got.shape == expected.shape)
            let check = allClose(got.data, expected.data, rtol: 1e-4, atol: 1e-4)
            #expect(check.ok, "\(name) tile \(tileSize): max |diff| \(check.maxDiff)")
        }
    }

    @Test func fixturesHaveTheDtypesAndLayersTheyClaim() throws {
        let f32 = FileParts([UInt8](try Data(contentsOf: URL(fileURLWithPath: try Self.fixture("mixed_rgb_x2_f32.bin")))))
        let f16 = FileParts([UInt8](try Data(contentsOf: URL(fileURLWithPath: try Self.fixture("mixed_y_x3_f16.bin")))))
        #expect(f32.tensor("layers.0.weight")["dtype"] as? String == "F32")
        #expect(f16.tensor("layers.0.weight")["dtype"] as? String == "F16")
        let model = try Model.load(path: try Self.fixture("mixed_rgb_x2_f32.bin"))
        #expect(model.layers.map(\.groups) == [1, 2, 3, 1, 1])
        #expect(model.layers[1].dilation == (2, 2) && model.layers[3].stride == (2, 2))
        #expect(model.layers[1].activation == .leakyReLU(0.2))
    }

    @Test func collapsedThinStackIsPlainLayers() throws {
        let model = try Model.load(path: try Self.fixture("thin_collapsible_x3.bin"))
        // 5×5 1→6, three 3×3 6→6, then the 3×3 6→9 conv + PixelShuffle(3) as one 9×9 stride-3 layer.
        #expect(model.layers.map(\.weight.shape) == [[1, 6, 5, 5], [6, 6, 3, 3], [6, 6, 3, 3], [6, 6, 3, 3], [6, 1, 9, 9]])
        let last = try #require(model.layers.last)
        #expect(last.stride == (3, 3) && last.padding == (3, 3))
        #expect(last.activation == Activation.none)
        #expect(model.layers.dropLast().allSatisfy { if case .prelu(let slopes) = $0.activation { slopes.count == 6 } else { false } })
    }
}
