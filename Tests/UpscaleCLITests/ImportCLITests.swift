// `upscale import` then `upscale IMAGE -m OUT.bin`, end to end through the binary: the issue's
// "done" check. tools/make_import_fixtures.py wrote random-weight SRVGGNetCompact x4 and waifu2x
// upconv_7 x2 models as ncnn fp16 files, a 17×20 input PNG, and PyTorch's output on it (its own
// reading of the ncnn files) rounded to 8 bits; every output pixel must be within 1/255 of it.
import Foundation
import Testing
import UpscaleKit

@Suite struct ImportCLITests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("UpscaleKitTests/Fixtures/import").path

    @Test(arguments: [("srvgg_x4", "SRVGGNetCompact x4"), ("upconv7_x2", "upconv_7 x2")])
    func importedFP16ModelMatchesPyTorchWithin1Of255(fixture: String, summary: String) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let weights = dir + "/imported.bin"
        let imported = try CLI.run(["import", "\(Self.fixtures)/\(fixture)_f16.param", "-o", weights, "--license", "test-only"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdoutText.contains(summary), "\(imported.stdoutText)")
        let reference = try ImageCodec.decode(path: "\(Self.fixtures)/\(fixture).cli_f16_reference.png")
        for (tile, threads) in [("16", "2"), ("17", "1"), ("256", "2")] {
            let out = dir + "/out-\(tile).png"
            let run = try CLI.run(["\(Self.fixtures)/\(fixture).cli.png", "-m", weights, "-o", out, "-t", tile, "-j", threads, "--quiet"])
            #expect(run.status == 0, "\(run.stderr)")
            let got = try ImageCodec.decode(path: out)
            #expect(got.color.shape == reference.color.shape, "\(fixture) tile \(tile)")
            // Both decode to k/255: a difference of one level is 1/255.
            let worst = zip(got.color.data, reference.color.data).map { abs($0 - $1) * 255 }.max() ?? .infinity
            #expect(worst <= 1.001, "\(fixture) tile \(tile) threads \(threads): worst pixel differs by \(worst)/255 from PyTorch")
        }
        let info = try CLI.run(["info", weights])
        #expect(info.stdoutText.contains("test-only") && info.stdoutText.contains("\(fixture)_f16.param, \(fixture)_f16.bin"))
    }

    @Test func pthImportWritesAModel() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try CLI.run(["import", "\(Self.fixtures)/vgg7_x1.pth", "--arch", "vgg7", "-o", dir + "/v.bin", "--name", "vgg"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText.contains("vgg_7 x1") && result.stdoutText.contains("input padding 7"), "\(result.stdoutText)")
        let again = try CLI.run(["import", "\(Self.fixtures)/vgg7_x1.pth", "--arch", "vgg7", "-o", dir + "/v.bin"])
        #expect(again.status == 1 && again.stderr.contains("already exists"), "\(again.stderr)")
    }

    @Test func theOutputCannotBeTheModelsOwnBin() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for ext in ["param", "bin"] {
            try FileManager.default.copyItem(atPath: "\(Self.fixtures)/vgg7_x1_f32.\(ext)", toPath: "\(dir)/m.\(ext)")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/m.bin"))
        let result = try CLI.run(["import", dir + "/m.param", "-o", dir + "/m.bin", "--overwrite"])
        #expect(result.status == 1 && result.stderr.contains("is the model file"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/m.bin")) == before)
    }

    @Test func badModelFileExits1NamingIt() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try CLI.run(["import", "\(Self.fixtures)/bad_global.pth", "--arch", "srvgg", "-o", dir + "/x.bin"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad_global.pth") && result.stderr.contains("os.system"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.bin"))
    }

    @Test(arguments: [
        (["import", "a.safetensors", "--arch", "srvgg", "-o", "x.bin"], "recognised from its keys"),
        (["import", "a.param", "--arch", "srvgg", "-o", "x.bin"], "--arch is for .pth files"),
        (["import", "a.onnx", "-o", "x.bin"], "ncnn .param file or a PyTorch .pth"),
        (["import", "a.pth", "b.bin", "--arch", "vgg7", "-o", "x.bin"], "do not pass a second file"),
        (["import", "a.pth", "--arch", "esrgan", "-o", "x.bin"], "esrgan"),
        (["import", "a.param"], "--output"),
    ])
    func badUsageExits64(arguments: [String], message: String) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
    }
}
