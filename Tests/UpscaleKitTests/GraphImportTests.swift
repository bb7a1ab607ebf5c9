// RRDBNet and SPAN state dicts (.pth and .safetensors) made by tools/make_graph_fixtures.py,
// imported and run against the PyTorch reference outputs of the script's own implementations,
// plus a graph file written by the script's own writer, and the refusals of other families.
import Foundation
import Testing
@testable import UpscaleKit

enum GraphFixtures {
    static func path(_ name: String) throws -> String {
        let folder = try #require(Bundle.module.path(forResource: "Fixtures", ofType: nil), "Fixtures not bundled")
        return folder + "/graph/" + name
    }

    /// An F32 tensor of a fixture's `.io.safetensors`.
    static func tensor(_ fixture: String, _ name: String) throws -> Tensor {
        let tensors = try ModelImport.safetensorsStateDict(path: try path(fixture + ".io.safetensors"))
        return try #require(tensors.first { $0.name == name }?.tensor, "\(fixture): no tensor \(name)")
    }

    static func graph(_ file: String) throws -> GraphModel {
        guard case .graph(let model) = try ModelImport.stateDictModel(path: try path(file), options: ImportOptions(name: "t")) else {
            throw ImportError(.graph, "\(file): imported as a stack, expected a graph")
        }
        return model
    }
}

@Suite struct GraphImportTests {
    struct Case: CustomStringConvertible, Sendable {
        var file: String, reference: String, architecture: String, scale: Int
        var description: String { file }
    }

    static let cases = [
        Case(file: "rrdb_x4_new.pth", reference: "rrdb_x4", architecture: "RRDBNet", scale: 4),
        Case(file: "rrdb_x4_old.pth", reference: "rrdb_x4", architecture: "RRDBNet", scale: 4),
        Case(file: "rrdb_x2.safetensors", reference: "rrdb_x2", architecture: "RRDBNet", scale: 2),
        Case(file: "rrdb_x1.pth", reference: "rrdb_x1", architecture: "RRDBNet", scale: 1),
        Case(file: "span_x4.pth", reference: "span_x4", architecture: "SPAN", scale: 4),
        Case(file: "span_x2.safetensors", reference: "span_x2", architecture: "SPAN", scale: 2),
    ]

    @Test(arguments: cases)
    func importedModelMatchesPyTorch(_ c: Case) throws {
        let model = try GraphFixtures.graph(c.file)
        #expect(model.scale == c.scale && model.metadata["architecture"] == c.architecture && model.metadata["source"] == c.file)
        let input = try GraphFixtures.tensor(c.reference, "input")
        let expected = try GraphFixtures.tensor(c.reference, "output")
        let got = try model.networkOutput(input, threads: 2)
        let check = allClose(got.data, expected.data, rtol: 0, atol: 1e-4)
        #expect(got.shape == expected.shape && check.ok, "\(c.file): max |diff| \(check.maxDiff) against PyTorch")
        // The written file reads back to the same network, bit for bit.
        let reread = try GraphModel(bytes: try model.serialized(), name: c.file)
        #expect(try reread.networkOutput(input, threads: 1) == got)
    }

    @Test func bothRRDBKeyStylesGiveTheSameGraph() throws {
        let new = try GraphFixtures.graph("rrdb_x4_new.pth"), old = try GraphFixtures.graph("rrdb_x4_old.pth")
        #expect(new.nodes.map(\.name) == old.nodes.map(\.name) && new.parameterCount == old.parameterCount)
        // 2 blocks · 3 dense blocks · (5 convs + 4 concats + 1 add) + per block 1 add, conv_first,
        // conv_body, trunk add, 2 folded upsampling convs, conv_hr, conv_last.
        #expect(new.nodes.count == 2 * (3 * 10 + 1) + 7)
        let up = try #require(new.nodes.first { $0.name == "conv_up1" })
        guard case .conv(let layer) = up.op else { Issue.record("conv_up1 is not a conv"); return }
        #expect(layer.kernel == (4, 4) && layer.stride == (2, 2) && layer.padding == (1, 1))
    }

    @Test func graphFileWrittenByPyTorchScriptRuns() throws {
        let model = try GraphModel.load(path: try GraphFixtures.path("every_op.graph.bin"))
        #expect(model.nodes.count == 15 && model.sizeMultiple == 2)
        let input = try GraphFixtures.tensor("every_op", "input")
        let expected = try GraphFixtures.tensor("every_op", "output")
        let got = try model.networkOutput(input, threads: 1)
        let check = allClose(got.data, expected.data, rtol: 0, atol: 1e-5)
        #expect(got.shape == expected.shape && check.ok, "max |diff| \(check.maxDiff)")
    }

    @Test func upsampleFoldEqualsUpsampleThenConv() throws {
        // The fold against the two steps it replaces, run by our own ops: equal within rounding.
        var rng = SeededRandom(seed: 31)
        let w = Tensor(shape: [3, 2, 3, 3], data: rng.floats(54))
        let x = Tensor(shape: [1, 2, 5, 4], data: rng.floats(40))
        let folded = try ConvTranspose2DPlan(weight: GraphBuilder.foldNearestUpsample(w), stride: (2, 2), padding: (1, 1)).run(x, threads: 1)
        var up = [Float]()
        for c in 0..<2 { for y in 0..<10 { for xx in 0..<8 { up.append(x.data[(c * 5 + y / 2) * 4 + xx / 2]) } } }
        let direct = try ConvTranspose2DPlan(weight: ImportedNetwork.convAsTransposed(w), padding: (1, 1))
            .run(Tensor(shape: [1, 2, 10, 8], data: up), threads: 1)
        let check = allClose(folded.data, direct.data, rtol: 0, atol: 1e-5)
        #expect(folded.shape == [1, 3, 10, 8] && check.ok, "max |diff| \(check.maxDiff)")
    }
}

@Suite struct GraphImportRefusalTests {
    /// Key layouts of families upscale does not run, as their published checkpoints name them.
    static let families: [(String, [String])] = [
        ("DAT", ["conv_first.weight", "before_RG.0.weight", "layers.0.blocks.0.attn.attns.0.pos.pos_proj.weight"]),
        ("HAT", ["conv_first.weight", "layers.0.residual_group.blocks.0.conv_block.cab.0.weight",
                 "layers.0.residual_group.overlap_attn.relative_position_bias_table"]),
        ("SwinIR", ["conv_first.weight", "layers.0.residual_group.blocks.0.attn.relative_position_bias_table", "conv_after_body.weight"]),
        ("OmniSR", ["input.weight", "input.bias", "residual_layer.0.residual_layer.0.layer.0.fn.0.weight", "up.0.weight"]),
        ("RealPLKSR", ["feats.0.weight", "feats.1.channe_mixer.0.weight", "feats.1.lk.conv.weight"]),
    ]

    @Test(arguments: families.map(\.0))
    func unsupportedFamilyIsRefusedByName(family: String) throws {
        let names = try #require(Self.families.first { $0.0 == family }?.1)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graph-refusal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("\(family).safetensors").path
        let bytes = try safetensorsBytes(tensors: names.map { ($0, [1], [0.5]) }, metadata: [:], dtype: .f32, source: "t")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ModelImport.stateDictModel(path: path)
            Issue.record("\(family): imported")
        } catch let error as ImportError {
            #expect(error.kind == .unsupported, "\(error)")
            #expect(error.message.contains("a \(family)") && error.message.contains("SPAN") && error.message.contains("RRDBNet"), "\(error)")
        }
    }

    @Test func unknownLayoutNamesTheExpectedKeys() throws {
        #expect(ModelImport.family(of: ["encoder.weight", "decoder.weight"]) == .unknown)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graph-unknown-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("x.safetensors").path
        try Data(try safetensorsBytes(tensors: [("encoder.weight", [1], [1])], metadata: [:], dtype: .f32, source: "t"))
            .write(to: URL(fileURLWithPath: path))
        do {
            _ = try ModelImport.stateDictModel(path: path)
            Issue.record("imported")
        } catch let error as ImportError {
            #expect(error.kind == .architecture && error.message.contains("conv_first.weight, body.0.rdb1.conv1.weight"), "\(error)")
            #expect(error.message.contains("encoder.weight"))
        }
    }

    @Test func damagedRRDBIsRefusedNamingTheTensor() throws {
        // The x4 fixture's tensors with conv_hr dropped, or with one unexpected extra tensor.
        let tensors = try ModelImport.stateDict(path: try GraphFixtures.path("rrdb_x4_new.pth"))
        for (what, list) in [("missing", tensors.filter { !$0.name.hasPrefix("conv_hr.") }),
                             ("extra", tensors + [("conv_extra.weight", Tensor(shape: [1], data: [0]))])] {
            do {
                _ = try ModelImport.rrdbNet(StateDict(list, source: "x.pth", architecture: "RRDBNet"), metadata: [:])
                Issue.record("\(what): imported")
            } catch let error as ImportError {
                let expected = what == "missing" ? "tensor conv_hr.weight is missing" : "unexpected tensor conv_extra.weight"
                #expect(error.message.contains(expected), "\(error)")
            }
        }
    }
}
