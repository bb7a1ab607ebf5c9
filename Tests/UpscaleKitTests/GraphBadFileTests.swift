// Hostile and broken graph files: each is refused with a ModelError naming the node or tensor and
// the problem, before anything the file sizes is allocated.
import Foundation
import Testing
@testable import UpscaleKit

/// A graph file from a nodes list (JSON objects) and tensors, written without the model's checks.
func graphFileBytes(nodes: [[String: Any]], tensors: [(name: String, shape: [Int], values: [Float])] = [],
                    metadata: [String: String] = [:]) throws -> [UInt8] {
    var meta = ["format": GraphModel.formatName, "scale": "1", "channels": "rgb"]
    meta["nodes"] = String(decoding: try JSONSerialization.data(withJSONObject: nodes, options: [.sortedKeys]), as: UTF8.self)
    meta.merge(metadata) { _, new in new }
    return try safetensorsBytes(tensors: tensors, metadata: meta, dtype: .f32, source: "test")
}

/// A 3→3 1×1 conv node reading `input` and its tensors at node index `i`.
func convNode(_ name: String, _ input: String, index i: Int, cIn: Int = 3, cOut: Int = 3) -> ([String: Any], [(name: String, shape: [Int], values: [Float])]) {
    (["name": name, "op": "conv_transpose2d", "inputs": [input]],
     [("nodes.\(i).weight", [cIn, cOut, 1, 1], [Float](repeating: 0.1, count: cIn * cOut))])
}

@Suite struct GraphBadFileTests {
    struct Case: CustomStringConvertible, Sendable {
        var description: String
        var expected: String
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        let (conv0, t0) = convNode("c0", "input", index: 0)
        switch name {
        case "unknown op":
            return try graphFileBytes(nodes: [["name": "a", "op": "softmax", "inputs": ["input"]]])
        case "later input":
            let (conv1, t1) = convNode("c1", "c0", index: 1)
            return try graphFileBytes(nodes: [["name": "a", "op": "add", "inputs": ["input", "c1"]], conv1, conv0], tensors: t1 + [("nodes.2.weight", [3, 3, 1, 1], [Float](repeating: 0, count: 9))])
        case "self input":
            return try graphFileBytes(nodes: [["name": "a", "op": "sigmoid", "inputs": ["a"]]])
        case "duplicate name":
            return try graphFileBytes(nodes: [conv0, ["name": "c0", "op": "sigmoid", "inputs": ["c0"]]], tensors: t0)
        case "bad name":
            return try graphFileBytes(nodes: [["name": "a\u{1b}[2J", "op": "sigmoid", "inputs": ["input"]]])
        case "add shapes":
            let (conv1, t1) = convNode("c1", "input", index: 1, cOut: 6)
            return try graphFileBytes(nodes: [conv0, conv1, ["name": "s", "op": "add", "inputs": ["c0", "c1"]]], tensors: t0 + t1)
        case "add scales":
            return try graphFileBytes(nodes: [["name": "s", "op": "add", "inputs": ["input", "input"], "scales": [1]]])
        case "huge scale":
            return try graphFileBytes(nodes: [["name": "s", "op": "add", "inputs": ["input", "input"], "scales": [1, 1e39]]])
        case "shuffle channels":
            return try graphFileBytes(nodes: [["name": "p", "op": "pixel_shuffle", "inputs": ["input"], "factor": 2]])
        case "factor zero":
            return try graphFileBytes(nodes: [["name": "p", "op": "upsample_nearest", "inputs": ["input"], "factor": 0]])
        case "factor huge":
            return try graphFileBytes(nodes: [["name": "p", "op": "upsample_nearest", "inputs": ["input"], "factor": 1_000_000]])
        case "wrong scale":
            return try graphFileBytes(nodes: [["name": "p", "op": "upsample_nearest", "inputs": ["input"], "factor": 2]])
        case "wrong channels":
            let (conv1, t1) = convNode("c1", "input", index: 0, cOut: 6)
            return try graphFileBytes(nodes: [conv1], tensors: t1)
        case "conv channels":
            let (conv1, t1) = convNode("c1", "input", index: 0, cIn: 4)
            return try graphFileBytes(nodes: [conv1], tensors: t1)
        case "valid conv":
            var node = conv0
            node["padding"] = 1
            return try graphFileBytes(nodes: [node], tensors: t0)
        case "missing weight":
            return try graphFileBytes(nodes: [conv0])
        case "unused tensor":
            return try graphFileBytes(nodes: [["name": "s", "op": "sigmoid", "inputs": ["input"]]],
                                      tensors: [("nodes.0.bias", [3], [0, 0, 0])])
        case "tensor of no node":
            return try graphFileBytes(nodes: [conv0], tensors: t0 + [("nodes.5.weight", [3, 3, 1, 1], [Float](repeating: 0, count: 9))])
        case "stack tensor":
            return try graphFileBytes(nodes: [conv0], tensors: t0 + [("layers.0.weight", [3, 3, 1, 1], [Float](repeating: 0, count: 9))])
        case "stack key":
            return try graphFileBytes(nodes: [conv0], tensors: t0, metadata: ["layers": "[]"])
        case "unknown key":
            return try graphFileBytes(nodes: [["name": "s", "op": "sigmoid", "inputs": ["input"], "slope": 1]])
        case "too many nodes":
            return try graphFileBytes(nodes: [[String: Any]](repeating: [:], count: GraphLimits.maxNodes + 1))
        case "too many inputs":
            return try graphFileBytes(nodes: [["name": "c", "op": "concat", "inputs": [String](repeating: "input", count: 65)]])
        case "concat too wide":
            // 2048 inputs of 3 channels: refused by the input count before the channel count.
            return try graphFileBytes(nodes: [["name": "c", "op": "concat", "inputs": [String](repeating: "input", count: 2048)]])
        case "inputs not a list":
            return try graphFileBytes(nodes: [["name": "s", "op": "sigmoid", "inputs": "input"]])
        case "prelu slopes":
            return try graphFileBytes(nodes: [["name": "p", "op": "prelu", "inputs": ["input"]]], tensors: [("nodes.0.prelu", [2], [0.1, 0.2])])
        case "affine count":
            return try graphFileBytes(nodes: [["name": "a", "op": "affine", "inputs": ["input"], "shift": [1, 2]]])
        case "stack format":
            var meta = ["format": Model.formatName, "scale": "1", "channels": "rgb", "layers": "[{}]"]
            meta["nodes"] = "[]"
            return try safetensorsBytes(tensors: [], metadata: meta, dtype: .f32, source: "test")
        case "empty":
            return try graphFileBytes(nodes: [])
        default:
            preconditionFailure(name)
        }
    }

    static let cases: [Case] = [
        Case(description: "unknown op", expected: "node 0: \"op\" is missing or unknown"),
        Case(description: "later input", expected: "node 0: input c1 is not \"input\" or the name of an earlier node"),
        Case(description: "self input", expected: "input a is not \"input\" or the name of an earlier node"),
        Case(description: "duplicate name", expected: "node 1: the name \"c0\" is used twice"),
        Case(description: "bad name", expected: "is not 1 to 128 characters"),
        Case(description: "add shapes", expected: "node 2 (s, add): input 1 is 6 channels"),
        Case(description: "add scales", expected: "has 1 scales for 2 inputs"),
        Case(description: "huge scale", expected: "\"scales\" must be a finite number"),
        Case(description: "shuffle channels", expected: "3 input channels is not a multiple of 4"),
        Case(description: "factor zero", expected: "factor 0 is not between 1 and 16"),
        Case(description: "factor huge", expected: "factor 1000000 is not between 1 and 16"),
        Case(description: "wrong scale", expected: "not (1·H, 1·W) (scale 1)"),
        Case(description: "wrong channels", expected: "writes 6 channels, but a \"rgb\" model writes 3"),
        Case(description: "conv channels", expected: "the weight reads 4 channels (weight dim 0), but its input has 3"),
        Case(description: "valid conv", expected: "graph convolutions must map n to stride·n exactly"),
        Case(description: "missing weight", expected: "node 0: tensor \"nodes.0.weight\" is missing"),
        Case(description: "unused tensor", expected: "tensor \"nodes.0.bias\" is not used by its node"),
        Case(description: "tensor of no node", expected: "tensor \"nodes.5.weight\" belongs to node 5, but the nodes list has only 1 nodes"),
        Case(description: "stack tensor", expected: "unexpected tensor \"layers.0.weight\" (expected nodes.{i}.weight"),
        Case(description: "stack key", expected: "__metadata__ has \"layers\", an entry of a stack file"),
        Case(description: "unknown key", expected: "node 0: unknown key \"slope\" for op sigmoid"),
        Case(description: "too many nodes", expected: "lists 8193 nodes, more than the limit of 8192"),
        Case(description: "too many inputs", expected: "\"inputs\" must be a list of at most 64 names"),
        Case(description: "concat too wide", expected: "\"inputs\" must be a list of at most 64 names"),
        Case(description: "inputs not a list", expected: "\"inputs\" must be a list"),
        Case(description: "prelu slopes", expected: "prelu has 2 values, expected 1 or 3"),
        Case(description: "affine count", expected: "shift has 2 values, expected 1 or 3"),
        Case(description: "stack format", expected: "unknown format \"upscale.convt-stack/1\""),
        Case(description: "empty", expected: "nodes is empty"),
    ]

    @Test(arguments: cases)
    func refused(_ c: Case) throws {
        let bytes = try Self.bytes(c.description)
        do {
            _ = try GraphModel(bytes: bytes, name: "bad.bin")
            Issue.record("\(c): loaded, expected a refusal containing \(c.expected)")
        } catch let error as ModelError {
            #expect(error.message.hasPrefix("bad.bin: ") && error.message.contains(c.expected),
                    "\(c): got \(error.message)")
        }
    }

    /// Every truncation and a sweep of single-byte changes of a valid file: a model or a
    /// ModelError, never a crash (the fuzzer of the CLI tests does the same to stack files).
    @Test func mutationsNeverCrash() throws {
        let good = try everyOpGraph(seed: 21).serialized()
        var rng = SeededRandom(seed: 22)
        var refused = 0, loaded = 0
        func attempt(_ bytes: [UInt8]) {
            do { _ = try GraphModel(bytes: bytes, name: "m"); loaded += 1 } catch is ModelError { refused += 1 } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        for cut in stride(from: 0, to: good.count, by: max(1, good.count / 97)) { attempt(Array(good[..<cut])) }
        for _ in 0..<400 {
            var bytes = good
            let p = Int.random(in: 0..<min(bytes.count, 8 + 4000), using: &rng)   // mostly the header
            bytes[p] = UInt8.random(in: 0...255, using: &rng)
            attempt(bytes)
        }
        #expect(refused > 100 && loaded > 0)
    }
}
