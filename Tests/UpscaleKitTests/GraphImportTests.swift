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
        // conv_body, trunk add, 2 × (nearest ×2 upsample, 3×3 conv), conv_hr, conv_last.
        #expect(new.nodes.count == 2 * (3 * 10 + 1) + 9)
        let up = try #require(new.nodes.firstIndex { $0.name == "conv_up1" })
        guard case .conv(let layer) = new.nodes[up].op, case .upsampleNearest(2) = new.nodes[up - 1].op,
              new.nodes[up].inputs == [up - 1] else { Issue.record("conv_up1 is not a conv after a nearest ×2"); return }
        #expect(layer.kernel == (3, 3) && layer.stride == (1, 1) && layer.padding == (1, 1))
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

@Suite struct GraphNCNNImportTests {
    @Test(arguments: ["f32", "f16"])
    func rrdbGraphInNCNNFormMatchesPyTorch(precision: String) throws {
        // Written by tools/make_graph_fixtures.py (Split, Concat, Eltwise with coefficients,
        // BinaryOp mul-by-scalar and add, nearest Interp, fused and standalone leaky ReLU) and
        // cross-checked there against ncnn's own run; the reference is PyTorch's on the same weights.
        let model = try ModelImport.ncnn(paramPath: try GraphFixtures.path("rrdb_ncnn_x4_\(precision).param"))
        let graph = try #require(model.graph, "imported as a stack")
        #expect(model.scale == 4 && model.metadata["architecture"] == "RRDBNet (ncnn graph)")
        #expect(graph.nodes.contains { if case .add(let s) = $0.op { return s == [0.2, 1] }; return false })
        let input = try GraphFixtures.tensor("rrdb_ncnn_x4", "input")
        let expected = try GraphFixtures.tensor("rrdb_ncnn_x4", "output_\(precision)")
        let got = try graph.networkOutput(input, threads: 2)
        let check = allClose(got.data, expected.data, rtol: 0, atol: 1e-4)
        #expect(got.shape == expected.shape && check.ok, "\(precision): max |diff| \(check.maxDiff)")
        for band in [1, 7] {
            #expect(try streamed(graph, input, band: band, threads: 2).0 == got, "band \(band)")
        }
    }

    @Test func bicubicInterpIsRefusedSayingWhy() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ncnn-bicubic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let param = """
        7767517
        4 4
        Input data 0 1 in 0=0 1=0 2=3
        Split s 1 2 in a b
        Concat c 2 1 a b ab 0=0
        Interp Resize_40 1 1 ab out 0=3 1=5.000000e-01 2=5.000000e-01
        """
        try param.write(to: folder.appendingPathComponent("m.param"), atomically: true, encoding: .utf8)
        try Data().write(to: folder.appendingPathComponent("m.bin"))
        do {
            _ = try ModelImport.ncnn(paramPath: folder.appendingPathComponent("m.param").path)
            Issue.record("imported")
        } catch let error as ImportError {
            #expect(error.kind == .unsupported && error.message.contains("Resize_40") && error.message.contains("bicubic")
                    && error.message.contains("import the x4 file"), "\(error)")
        }
    }

    @Test func mutatedGraphParamsNeverCrash() throws {
        // Seeded edits of the RRDB graph's .param (lines dropped, swapped, blob names and numbers
        // changed): each import ends in a model or an ImportError, never a crash.
        let text = try String(contentsOfFile: try GraphFixtures.path("rrdb_ncnn_x4_f32.param"), encoding: .utf8)
        let bin = try Data(contentsOf: URL(fileURLWithPath: try GraphFixtures.path("rrdb_ncnn_x4_f32.bin")))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ncnn-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try bin.write(to: folder.appendingPathComponent("m.bin"))
        var rng = SeededRandom(seed: 71)
        var refused = 0
        for _ in 0..<150 {
            var lines = text.split(separator: "\n").map(String.init)
            let i = Int.random(in: 2..<lines.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: lines.remove(at: i)
            case 1: lines.swapAt(i, Int.random(in: 2..<lines.count, using: &rng))
            case 2:
                var tokens = lines[i].split(separator: " ").map(String.init)
                let t = Int.random(in: 0..<tokens.count, using: &rng)
                tokens[t] = ["0", "-1", "99999", "in", "out", "feat", "0=7", "1=1", "-23301=1,0.5", "Concat"].randomElement(using: &rng)!
                lines[i] = tokens.joined(separator: " ")
            default: lines.insert(lines[i], at: i)
            }
            try lines.joined(separator: "\n").write(to: folder.appendingPathComponent("m.param"), atomically: true, encoding: .utf8)
            do { _ = try ModelImport.ncnn(paramPath: folder.appendingPathComponent("m.param").path) } catch is ImportError { refused += 1 }
        }
        #expect(refused > 100)
    }
}

@Suite struct NCNNReLUTests {
    /// The graph of an ncnn .param (and .bin) written to a temporary folder.
    func imported(_ param: String, bin: [UInt8]) throws -> GraphModel {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ncnn-relu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try param.write(to: folder.appendingPathComponent("m.param"), atomically: true, encoding: .utf8)
        try Data(bin).write(to: folder.appendingPathComponent("m.bin"))
        return try #require(try ModelImport.ncnn(paramPath: folder.appendingPathComponent("m.param").path).graph)
    }

    /// Every element's bits: max(x, 0) as ncnn and PyTorch give it, +0 (bit pattern 0) for x ≤ 0.
    func expectReLUBits(_ got: [Float], _ x: [Float], _ what: String) {
        let want = x.map { $0 > 0 ? $0 : Float(0) }
        let wrong = zip(got, want).filter { $0.bitPattern != $1.bitPattern }
        #expect(got.count == want.count && wrong.isEmpty, "\(what): \(wrong.count) elements differ, e.g. \(wrong.prefix(3))")
        #expect(x.contains { $0 < 0 }, "the input has negative values")
    }

    @Test func reluAfterAConvIsTheConvsFusedReLU() throws {
        // conv 1×1 3→3 with weights diag(1, −1, 1), no bias term that could round: outputs ±x exactly.
        var bin = [UInt8](repeating: 0, count: 4)   // fp32 tag
        let weights: [Float] = [1, 0, 0, 0, -1, 0, 0, 0, 1], bias: [Float] = [0, 0, 0]
        for v in weights + bias { withUnsafeBytes(of: v.bitPattern.littleEndian) { bin += $0 } }
        // Then a Split and a sum of the two copies (a graph, not a stack): r + r keeps the sign of zero.
        let graph = try imported("""
        7767517
        5 6
        Input data 0 1 in 0=0 1=0 2=3
        Convolution conv 1 1 in c 0=3 1=1 11=1 4=0 5=1 6=9
        ReLU relu 1 1 c r
        Split s 1 2 r a b
        Eltwise add 2 1 a b out 0=1
        """, bin: bin)
        #expect(graph.nodes.count == 2, "the ReLU fused into the conv: \(graph.nodes.map(\.name))")
        if case .conv(let layer) = graph.nodes[0].op { #expect(layer.activation == .relu) } else { Issue.record("no conv first") }
        var rng = SeededRandom(seed: 81)
        let input = Tensor(shape: [1, 3, 5, 6], data: rng.floats(90, -1...1))
        let got = try graph.networkOutput(input, threads: 1)
        let conv = (0..<90).map { i in i / 30 == 1 ? -input.data[i] : input.data[i] }
        expectReLUBits(got.data, conv.map { $0 + $0 }, "conv + ReLU, doubled")
    }

    @Test func reluAfterAnotherLayerGivesPositiveZero() throws {
        // A ReLU reading a BinaryOp (x·(−1)): no conv to fuse into; still +0, not leaky_relu(0)'s −0.
        let graph = try imported("""
        7767517
        3 3
        Input data 0 1 in 0=0 1=0 2=3
        BinaryOp neg 1 1 in n 0=2 1=1 2=-1.000000e+00
        ReLU relu 1 1 n out 0=0.000000e+00
        """, bin: [])
        var rng = SeededRandom(seed: 82)
        let input = Tensor(shape: [1, 3, 4, 7], data: rng.floats(84, -1...1) + [])
        let got = try graph.networkOutput(input, threads: 1)
        expectReLUBits(got.data, input.data.map { -$0 }, "BinaryOp + ReLU")
        let (streamedOut, _) = try streamed(graph, input, band: 3, threads: 2)
        #expect(streamedOut.data.map(\.bitPattern) == got.data.map(\.bitPattern), "the streamed run's bits")
    }
}
