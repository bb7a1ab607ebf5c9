// Every way an imported file can be refused: each case edits a good fixture in one place and
// expects the error kind and the words the message must contain (the file, the layer, what is
// supported). A failure prints the whole case and the message.
import Foundation
import Testing
@testable import UpscaleKit

/// One edited ncnn model and what its refusal must say.
struct NCNNRefusal: CustomStringConvertible, Sendable {
    var label: String
    var fixture = "srvgg_x4_f32"
    var replace: [(String, String)] = []       // in the .param text
    var editBin: (@Sendable ([UInt8]) -> [UInt8])? = nil
    var noBin = false
    var kind: ImportError.Kind
    var words: [String]
    var description: String { label }
}

let ncnnRefusals: [NCNNRefusal] = [
    NCNNRefusal(label: "unknown layer type", replace: [("PReLU            PRelu_2", "Swish            PRelu_2")],
                kind: .unsupported, words: ["PRelu_2", "Swish", "supported: Input, Split"]),
    NCNNRefusal(label: "convolution stride 2", replace: [("1=3 11=3 2=1 12=1 3=1 13=1 4=1 14=1 15=1 16=1 5=1 6=576", "1=3 11=3 2=1 12=1 3=2 13=1 4=1 14=1 15=1 16=1 5=1 6=576")],
                kind: .unsupported, words: ["Conv_3", "stride_w", "supported: 1"]),
    NCNNRefusal(label: "int8 convolution", replace: [("5=1 6=216", "5=1 6=216 8=1")], kind: .unsupported, words: ["Conv_1", "int8"]),
    NCNNRefusal(label: "unknown parameter", replace: [("5=1 6=216", "5=1 6=216 33=1")], kind: .unsupported, words: ["Conv_1", "parameter 33"]),
    NCNNRefusal(label: "fused mish", fixture: "upconv7_x2_f16", replace: [("9=2 -23310=1,1.000000e-01", "9=5")],
                kind: .unsupported, words: ["Convolution1", "fused activation type 5", "2 (leaky ReLU)"]),
    NCNNRefusal(label: "asymmetric padding", replace: [("4=1 14=1 15=1 16=1 5=1 6=216", "4=1 14=1 15=0 16=1 5=1 6=216")],
                kind: .unsupported, words: ["Conv_1", "asymmetric"]),
    NCNNRefusal(label: "bilinear interp", replace: [("0=1 1=4.000000e+00", "0=2 1=4.000000e+00")], kind: .unsupported, words: ["Resize", "nearest"]),
    NCNNRefusal(label: "pixel shuffle mode 1", replace: [("DepthToSpace             1 1 b7 shuffled 0=4", "DepthToSpace             1 1 b7 shuffled 0=4 1=1")],
                kind: .unsupported, words: ["DepthToSpace", "mode 1"]),
    NCNNRefusal(label: "weight count not a multiple", replace: [("6=216", "6=215")], kind: .blobSize, words: ["Conv_1", "weight_data_size"]),
    NCNNRefusal(label: "weights past the end", replace: [("0=8 1=3 11=3 2=1 12=1 3=1 13=1 4=1 14=1 15=1 16=1 5=1 6=216", "0=8 1=3 11=3 2=1 12=1 3=1 13=1 4=1 14=1 15=1 16=1 5=1 6=288000")],
                kind: .blobSize, words: ["Conv_1", "truncated"]),
    NCNNRefusal(label: "truncated bin", editBin: { Array($0.dropLast(10)) }, kind: .blobSize, words: ["srvgg_x4_f32.bin", "truncated"]),
    NCNNRefusal(label: "bytes left over", editBin: { $0 + [0, 0, 0, 0] }, kind: .blobSize, words: ["4 bytes are left"]),
    NCNNRefusal(label: "int8 weight tag", editBin: { var b = $0; b[0] = 0x38; b[1] = 0x4B; b[2] = 0x0D; return b },
                kind: .unsupported, words: ["Conv_1", "int8", "fp16 (tag 0x01306B47)"]),
    NCNNRefusal(label: "unknown weight tag", editBin: { var b = $0; b[0] = 0x12; return b }, kind: .unsupported, words: ["Conv_1", "storage tag 0x12"]),
    NCNNRefusal(label: "bad magic", replace: [("7767517", "7767518")], kind: .syntax, words: ["magic number"]),
    NCNNRefusal(label: "layer count", replace: [("12 13", "13 13")], kind: .syntax, words: ["announces 13 layers"]),
    NCNNRefusal(label: "not key=value", replace: [("2=3", "2:3")], kind: .syntax, words: ["input", "\"2:3\" is not key=value"]),
    NCNNRefusal(label: "not a number", replace: [("6=216", "6=abc")], kind: .syntax, words: ["Conv_1", "not a number"]),
    NCNNRefusal(label: "branch reads a blob twice", replace: [("1 1 b2 b3", "1 1 b1 b3")], kind: .graph, words: ["Conv_3", "second time", "one chain"]),
    NCNNRefusal(label: "unknown blob", replace: [("1 1 b2 b3", "1 1 zz b3")], kind: .graph, words: ["Conv_3", "zz"]),
    NCNNRefusal(label: "add of two chain blobs", replace: [("2 1 shuffled base output", "2 1 shuffled shuffled output")],
                kind: .graph, words: ["Add", "second time"]),
    NCNNRefusal(label: "split of a chain blob", replace: [("Split            splitncnn_input0         1 2 data data_0 data_1",
                                                           "Split            splitncnn_input0         1 2 data data_0 data_1"),
                                                          ("PReLU            PRelu_2                  1 1 b1 b2 0=8",
                                                           "Split            sp                       1 2 b1 b2 b2x")],
                kind: .graph, words: ["sp", "other than the input"]),
    NCNNRefusal(label: "unused residual", replace: [("BinaryOp         Add                      2 1 shuffled base output 0=0",
                                                     "ReLU             Add                      1 1 shuffled output")],
                kind: .graph, words: ["never added"]),
    NCNNRefusal(label: "geometry without a padding", fixture: "upconv7_x2_f32", replace: [("3=2 4=3", "3=2 4=2")],
                kind: .graph, words: ["2·n − 26", "no border padding"]),
    NCNNRefusal(label: "missing bin", noBin: true, kind: .unreadable, words: ["srvgg_x4_f32.bin", "cannot read"]),
]

@Suite struct ImportRefusalTests {
    /// Writes the edited fixture to a temporary folder and imports it.
    static func importEdited(_ c: NCNNRefusal) throws -> Result<Model, ImportError> {
        let folder = temporaryModelPath("refusal")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var text = try String(contentsOfFile: try ImportFixtures.path(c.fixture + ".param"), encoding: .utf8)
        for (from, to) in c.replace {
            #expect(text.contains(from), "\(c): the fixture has no \"\(from)\"")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let param = folder + "/" + c.fixture + ".param"
        try text.write(toFile: param, atomically: true, encoding: .utf8)
        if !c.noBin {
            let bin = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try ImportFixtures.path(c.fixture + ".bin"))))
            try Data(c.editBin?(bin) ?? bin).write(to: URL(fileURLWithPath: ModelImport.defaultBinPath(forParam: param)))
        }
        do {
            return .success(try ModelImport.ncnn(paramPath: param))
        } catch let error as ImportError {
            return .failure(error)
        }
    }

    @Test(arguments: ncnnRefusals)
    func ncnnFileIsRefused(_ c: NCNNRefusal) throws {
        switch try Self.importEdited(c) {
        case .success:
            Issue.record("\(c): imported, expected a \(c.kind) refusal")
        case .failure(let error):
            #expect(error.kind == c.kind, "\(c): kind \(error.kind), message: \(error.message)")
            for word in c.words { #expect(error.message.contains(word), "\(c): \"\(word)\" missing from: \(error.message)") }
        }
    }

    @Test func theUneditedFixtureImports() throws {
        #expect(throws: Never.self) { try Self.importEdited(NCNNRefusal(label: "unedited", kind: .graph, words: [])).get() }
    }

    @Test(arguments: [
        ("bad_global.pth", PTHArchitecture.srvgg, ImportError.Kind.unsupported, ["os.system", "not allowed", "never runs code"]),
        ("bad_deflated.pth", .srvgg, .unsupported, ["compressed", "stored entries"]),
        ("bad_legacy.pth", .srvgg, .syntax, ["not a zip archive", "PyTorch before 1.6"]),
        ("srvgg_x4.pth", .upconv7, .architecture, ["not a state dict of upconv_7", "body.1.weight should be a 3×3"]),
        ("upconv7_x2.pth", .srvgg, .architecture, ["SRVGGNetCompact", "PReLU"]),
        ("vgg7_x1.pth", .upconv7, .architecture, ["4×4 ConvTranspose2d"]),
    ])
    func pthFileIsRefused(file: String, arch: PTHArchitecture, kind: ImportError.Kind, words: [String]) throws {
        do {
            _ = try ModelImport.pth(path: try ImportFixtures.path(file), architecture: arch)
            Issue.record("\(file) as \(arch): imported, expected a \(kind) refusal")
        } catch let error as ImportError {
            #expect(error.kind == kind, "\(file) as \(arch): kind \(error.kind), message: \(error.message)")
            for word in words { #expect(error.message.contains(word), "\(file) as \(arch): \"\(word)\" missing from: \(error.message)") }
        }
    }

    /// Pickles the interpreter must refuse without running anything, built byte by byte.
    @Test(arguments: [
        ("deep nesting", [0x80, 2, 0x29] + [UInt8](repeating: 0x85, count: 100) + [0x2E], ImportError.Kind.unsupported, "nested more than 32"),
        ("a list changed inside another", [0x80, 2, 0x5D, 0x71, 0, 0x5D, 0x71, 1, 0x61, 0x68, 1, 0x4B, 2, 0x61, 0x2E],
         .unsupported, "a list changed after"),
        ("deep lists", [0x80, 2] + [UInt8](repeating: 0x5D, count: 40) + [UInt8](repeating: 0x61, count: 39) + [0x2E],
         .unsupported, "nested more than 32"),
        ("LONG4", [0x80, 2, 0x8B, 0, 0, 0, 0, 0x2E], .unsupported, "opcode 0x8B"),
        ("builtins.eval", [0x80, 2, 0x63] + Array("builtins\neval\n".utf8) + [0x2E], .unsupported, "global builtins.eval is not allowed"),
        ("STACK_GLOBAL of os.system", [0x80, 4, 0x8C, 2] + Array("os".utf8) + [0x8C, 6] + Array("system".utf8) + [0x93, 0x2E],
         .unsupported, "global os.system"),
        ("OrderedDict with arguments", [0x80, 2, 0x63] + Array("collections\nOrderedDict\n".utf8) + [0x4B, 1, 0x85, 0x52, 0x2E],
         .unsupported, "OrderedDict called with arguments"),
        ("calling a tuple", [0x80, 2, 0x29, 0x29, 0x52, 0x2E], .unsupported, "REDUCE of a tuple"),
        ("BUILD on a tuple", [0x80, 2, 0x29, 0x4E, 0x62, 0x2E], .unsupported, "BUILD"),
        ("a dict changed inside another", [0x80, 2, 0x7D, 0x71, 0, 0x4B, 1, 0x7D, 0x71, 1, 0x73, 0x68, 1, 0x4B, 2, 0x4B, 3, 0x73, 0x2E],
         .unsupported, "changed after"),
        ("truncated", [0x80], .syntax, "truncated"),
        ("no STOP", [0x80, 2, 0x4E], .syntax, "truncated"),
        ("memo read before write", [0x80, 2, 0x68, 5, 0x2E], .syntax, "memo entry 5"),
        ("persistent id of another kind", [0x80, 2, 0x4B, 1, 0x51, 0x2E], .unsupported, "persistent id"),
    ] as [(String, [UInt8], ImportError.Kind, String)])
    func hostilePickleIsRefused(label: String, bytes: [UInt8], kind: ImportError.Kind, words: String) throws {
        do {
            let value = try StateDictPickle.load(ArraySlice(bytes), source: "test.pth")
            Issue.record("\(label): the pickle loaded (\(value.describe)), expected a refusal")
        } catch let error as ImportError {
            #expect(error.kind == kind && error.message.contains(words), "\(label): \(error.kind) \(error.message)")
        }
    }

    /// Damaged copies of good files (truncated anywhere, one byte changed anywhere) are refused
    /// with an ImportError or, when the damage is harmless, imported; never a crash or another error.
    @Test(arguments: ["srvgg_x4.pth", "upconv7_x2_f16.param", "upconv7_x2_f16.bin"])
    func damagedFilesNeverCrash(file: String) throws {
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try ImportFixtures.path(file))))
        let folder = temporaryModelPath("damaged")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for other in ["upconv7_x2_f16.param", "upconv7_x2_f16.bin"] where other != file {
            try FileManager.default.copyItem(atPath: try ImportFixtures.path(other), toPath: folder + "/" + other)
        }
        var rng = SeededRandom(seed: 1717)
        for trial in 0..<120 {
            var bytes = good
            if trial % 2 == 0 {
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            } else {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            let path = folder + "/" + file
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                if file.hasSuffix(".pth") {
                    _ = try ModelImport.pth(path: path, architecture: .srvgg)
                } else {
                    _ = try ModelImport.ncnn(paramPath: folder + "/upconv7_x2_f16.param")
                }
            } catch is ImportError {
            } catch {
                Issue.record("\(file) trial \(trial): \(type(of: error)) \(error)")
            }
        }
    }
}
