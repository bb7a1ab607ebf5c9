// `upscale import` of ESRGAN/RRDBNet and SPAN state dicts, then `upscale IMAGE -m OUT.bin`, end to
// end through the binary: tools/make_graph_fixtures.py wrote the random-weight checkpoints, an
// 8-bit input PNG and its own PyTorch network's float output on it; every output pixel must be
// within 1/255 of that, with the same bytes at --tile 37, the default and one thread.
import Foundation
import Testing
import UpscaleKit

@Suite struct GraphCLITests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("UpscaleKitTests/Fixtures/graph").path

    @Test(arguments: [("rrdb_x4_new.pth", "rrdb_x4", "RRDBNet x4"), ("rrdb_x4_old.pth", "rrdb_x4", "RRDBNet x4"),
                      ("span_x2.safetensors", "span_x2", "SPAN x2"),
                      ("rrdb_ncnn_x4_f16.param", "rrdb_ncnn_x4", "RRDBNet (ncnn graph) x4")])
    func importedGraphRunsWithin1Of255(file: String, reference: String, summary: String) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let weights = dir + "/imported.bin"
        let imported = try CLI.run(["import", "\(Self.fixtures)/\(file)", "-o", weights])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdoutText.contains(summary) && imported.stdoutText.contains("nodes"), "\(imported.stdoutText)")
        // The reference: PyTorch's float output (io file), to compare with 8-bit output.
        let io = try ModelImport.stateDictModelTensors(path: "\(Self.fixtures)/\(reference).cli.io.safetensors")
        let expected = try #require(io.first { $0.name == "output" }?.tensor)
        var outputs: [Data] = []
        for options in [["--tile", "37"], [], ["-j", "1", "--tile", "16"]] {
            let out = dir + "/out\(outputs.count).png"
            let run = try CLI.run(["\(Self.fixtures)/\(reference).cli.png", "-m", weights, "-o", out, "--quiet"] + options)
            #expect(run.status == 0, "\(options): \(run.stderr)")
            let got = try ImageCodec.decode(path: out)
            #expect(got.color.shape == expected.shape, "\(options)")
            let worst = zip(got.color.data, expected.data).map { abs($0 - min(max($1, 0), 1)) * 255 }.max() ?? .infinity
            #expect(worst <= 1.0, "\(file) \(options): worst pixel differs by \(worst)/255 from PyTorch")
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
        }
        #expect(Set(outputs).count == 1, "\(file): the output bytes depend on the tile or thread settings")
        let info = try CLI.run(["info", weights])
        #expect(info.status == 0 && info.stdoutText.contains("nodes") && info.stdoutText.contains("conv_transpose2d"), "\(info.stdoutText)")
    }

    @Test func unsupportedFamilyIsRefusedByTheCLI() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A safetensors file with a SwinIR key layout (tiny tensors: only the names matter).
        var header = "{\"conv_first.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        header += "\"layers.0.residual_group.blocks.0.attn.relative_position_bias_table\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
        var bytes = [UInt8]()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: 8)
        let path = dir + "/swinir.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try CLI.run(["import", path, "-o", dir + "/x.bin"])
        #expect(result.status == 1 && result.stderr.contains("SwinIR") && result.stderr.contains("RRDBNet"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.bin"))
    }

    /// A stack with Winograd layers (3×3, 32 channels) runs streamed as its chain: `--verbose` says
    /// so with work 1.00, the bytes are the same at any tile and thread setting, `info` names the kernel.
    @Test func winogradStackStreamsAsItsChain() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var seed: UInt64 = 7
        func weights(_ n: Int, _ scale: Float) -> [Float] {
            (0..<n).map { _ in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return (Float(seed >> 40) / Float(1 << 24) - 0.5) * 2 * scale
            }
        }
        func layer(_ cIn: Int, _ cOut: Int, k: Int = 3, stride: Int = 1, _ activation: Activation) -> ModelLayer {
            ModelLayer(weight: Tensor(shape: [cIn, cOut, k, k], data: weights(cIn * cOut * k * k, 1.5 / Float(cIn * k * k).squareRoot())),
                       bias: Tensor(shape: [cOut], data: weights(cOut, 0.1)), stride: (stride, stride), padding: (1, 1),
                       activation: activation)
        }
        let model = try Model(layers: [layer(3, 32, .relu), layer(32, 32, .leakyReLU(0.1)), layer(32, 32, .relu),
                                       layer(32, 3, k: 4, stride: 2, .none)],
                              scale: 2, channels: .rgb, residual: .none, metadata: ["name": "winograd-stack"])
        let weightsPath = dir + "/wide.bin"
        try model.write(to: weightsPath)
        let input = "\(Self.fixtures)/rrdb_x4.cli.png"
        var outputs: [Data] = []
        for options in [["--verbose"], ["--tile", "16", "-j", "1"], ["--tile", "37"]] {
            let out = dir + "/out\(outputs.count).png"
            let run = try CLI.run([input, "-m", weightsPath, "-o", out] + options)
            #expect(run.status == 0, "\(options): \(run.stderr)")
            if options == ["--verbose"] {
                #expect(run.stderr.contains("streamed run, work 1.000×"), "\(run.stderr)")
            }
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
        }
        #expect(Set(outputs).count == 1, "the output bytes depend on the tile or thread settings")
        let info = try CLI.run(["info", weightsPath])
        #expect(info.stdoutText.split(separator: "\n").filter { $0.hasSuffix("winograd") }.count == 2, "\(info.stdoutText)")
    }
}
