// `upscale import NET.pth --arch …`: the state dicts tools/make_import_fixtures.py saved with
// torch.save, run by our engine, against the PyTorch reference of the same (fp32) weights.
import Foundation
import Testing
@testable import UpscaleKit

@Suite struct ImportPTHTests {
    @Test(arguments: [("srvgg_x4", PTHArchitecture.srvgg, "SRVGGNetCompact"), ("upconv7_x2", .upconv7, "upconv_7"),
                      ("vgg7_x1", .vgg7, "vgg_7")])
    func stateDictMatchesPyTorch(fixture: String, arch: PTHArchitecture, published: String) throws {
        let model = try ModelImport.pth(path: try ImportFixtures.path(fixture + ".pth"), architecture: arch,
                                        options: ImportOptions(name: "test", license: "none"))
        #expect(model.metadata["architecture"] == published && model.metadata["source"] == fixture + ".pth")
        #expect(model.metadata["name"] == "test" && model.metadata["license"] == "none")
        let input = try ImportFixtures.tensor(fixture, "input")
        let expected = try ImportFixtures.tensor(fixture, "output_f32")
        for tileSize in [3, 256] {
            var options = RunOptions()
            options.tileSize = tileSize
            var got = try model.stackOutput(input, options: options)
            if model.residual == .nearest {   // the stack's output plus the nearest upscale of its input
                got = Tensor(shape: got.shape, data: zip(got.data, Resize.nearestUpscale(input, factor: model.scale).data).map(+))
            }
            let check = allClose(got.data, expected.data, rtol: 0, atol: 1e-4)
            #expect(got.shape == expected.shape && check.ok, "\(fixture).pth tile \(tileSize): max |diff| \(check.maxDiff)")
        }
    }

    @Test func stateDictReaderSeesTheTensorsInOrder() throws {
        let tensors = try ModelImport.stateDict(path: try ImportFixtures.path("srvgg_x4.pth"))
        #expect(tensors.map(\.name).prefix(4) == ["body.0.weight", "body.0.bias", "body.1.weight", "body.2.weight"])
        #expect(tensors[0].tensor.shape == [8, 3, 3, 3] && tensors[2].tensor.shape == [8])
        #expect(tensors.count == 11)
    }

    @Test func zipCRCMatchesTheKnownValue() {
        // The CRC-32 of "123456789" is 0xCBF43926 (the check value of the IEEE polynomial).
        #expect(ZipArchive.crc32(ArraySlice(Array("123456789".utf8))) == 0xCBF4_3926)
    }
}
