// conv_transpose2d against golden outputs of PyTorch's own F.conv_transpose2d
// (Fixtures/convt/cases.json, written by tools/make_fixtures.py), and the combinations PyTorch refuses.
import Foundation
import Testing
@testable import UpscaleKit

/// One case of Fixtures/convt/cases.json. Tensors are base64 of little-endian float32.
struct ConvTransposeFixture: Decodable, CustomStringConvertible, Sendable {
    var name: String
    var input_shape: [Int]
    var weight_shape: [Int]
    var bias_shape: [Int]?
    var stride: [Int], padding: [Int], output_padding: [Int], dilation: [Int]
    var groups: Int
    var input: String, weight: String, bias: String?
    var output_shape: [Int]?
    var output: String?
    var torch_error: String?
    var parameter: String?

    var description: String { name }

    static let all: [ConvTransposeFixture] = {
        struct File: Decodable { var cases: [ConvTransposeFixture] }
        guard let url = Bundle.module.url(forResource: "cases", withExtension: "json", subdirectory: "Fixtures/convt"),
              let data = try? Data(contentsOf: url),
              let file = try? JSONDecoder().decode(File.self, from: data) else { return [] }
        return file.cases
    }()
    static var valid: [ConvTransposeFixture] { all.filter { $0.torch_error == nil } }
    static var refused: [ConvTransposeFixture] { all.filter { $0.torch_error != nil } }

    static func floats(_ base64: String) -> [Float] {
        guard let data = Data(base64Encoded: base64) else { return [] }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    var tensors: (input: Tensor, weight: Tensor, bias: Tensor?) {
        (Tensor(shape: input_shape, data: Self.floats(input)),
         Tensor(shape: weight_shape, data: Self.floats(weight)),
         bias.map { Tensor(shape: bias_shape ?? [], data: Self.floats($0)) })
    }

    func run(reference: Bool) throws -> Tensor {
        let t = tensors
        if reference {
            return try convTranspose2dReference(
                t.input, weight: t.weight, bias: t.bias, stride: (stride[0], stride[1]),
                padding: (padding[0], padding[1]), outputPadding: (output_padding[0], output_padding[1]),
                groups: groups, dilation: (dilation[0], dilation[1]))
        }
        return try convTranspose2d(
            t.input, weight: t.weight, bias: t.bias, stride: (stride[0], stride[1]),
            padding: (padding[0], padding[1]), outputPadding: (output_padding[0], output_padding[1]),
            groups: groups, dilation: (dilation[0], dilation[1]), threads: 2)
    }
}

@Test func fixtureFileHoldsTheCases() {
    #expect(ConvTransposeFixture.valid.count >= 30)
    #expect(ConvTransposeFixture.refused.count >= 10)
}

@Test(arguments: ConvTransposeFixture.valid)
func fastAndReferenceMatchPyTorch(_ fixture: ConvTransposeFixture) throws {
    let expected = ConvTransposeFixture.floats(fixture.output ?? "")
    for reference in [false, true] {
        let got = try fixture.run(reference: reference)
        #expect(got.shape == fixture.output_shape, "\(fixture.name) reference=\(reference)")
        let close = allClose(got.data, expected, rtol: 1e-5, atol: 1e-5)
        #expect(close.ok, "\(fixture.name) reference=\(reference): max diff \(close.maxDiff)")
    }
}

@Test(arguments: ConvTransposeFixture.refused)
func refusesWhatPyTorchRefuses(_ fixture: ConvTransposeFixture) throws {
    for reference in [false, true] {
        do {
            _ = try fixture.run(reference: reference)
            Issue.record("\(fixture.name): accepted, but PyTorch said: \(fixture.torch_error ?? "")")
        } catch let error as ConvTransposeError {
            #expect(error.message.contains(fixture.parameter ?? "?"),
                    "\(fixture.name): message \"\(error.message)\" does not name \(fixture.parameter ?? "?")")
        }
    }
}

@Test(arguments: ConvTransposeFixture.refused)
func planRefusesWhatPyTorchRefuses(_ fixture: ConvTransposeFixture) throws {
    // A plan checks the layer without an input; the input is checked by `run`. Either throws.
    let t = fixture.tensors
    #expect(throws: ConvTransposeError.self, "\(fixture.name)") {
        let plan = try ConvTranspose2DPlan(
            weight: t.weight, bias: t.bias, stride: (fixture.stride[0], fixture.stride[1]),
            padding: (fixture.padding[0], fixture.padding[1]),
            outputPadding: (fixture.output_padding[0], fixture.output_padding[1]),
            groups: fixture.groups, dilation: (fixture.dilation[0], fixture.dilation[1]))
        _ = try plan.run(t.input)
    }
}
