// The graph model file, `upscale.graph/1` (docs/model-format.md): the same safetensors container
// as a stack, with `__metadata__.nodes` (a JSON array of node objects in topological order) in
// place of `layers`, and tensors `nodes.{i}.weight`, `nodes.{i}.bias`, `nodes.{i}.prelu`.
//
//   {"name": "conv_first", "op": "conv_transpose2d", "inputs": ["input"], "padding": [1, 1], "activation": "none"}
//   {"name": "rdb1.out", "op": "add", "inputs": ["rdb1.conv5", "conv_first"], "scales": [0.2, 1]}
//
// As for a stack, every header entry is checked (names, dtypes, shapes, offsets) before any
// tensor is decoded; nodes are read in one loop over the array (no recursion on its contents).

import Foundation

extension GraphModel {
    /// Reads a graph model file, as `Model.load(path:)` reads every model file (the same size
    /// limit and checks); a stack's file is refused.
    /// - Throws: `ModelError` naming the file, the node or tensor, and the problem.
    public static func load(path: String, threads: Int = 1) throws -> GraphModel {
        guard let graph = try Model.load(path: path, threads: threads).graph else {
            throw ModelError("\(path): a layer stack (\(Model.formatName)), not a graph model (\(formatName))", path: path)
        }
        return graph
    }

    /// Reads a graph model from the bytes of a file; `name` stands for the file in error messages.
    /// `threads` workers build its plans.
    public convenience init(bytes: [UInt8], name: String, threads: Int = 1) throws {
        let file = try GraphFile(bytes: bytes, name: name)
        try self.init(nodes: file.nodes, scale: file.scale, channels: file.channels, residual: file.residual,
                      metadata: file.metadata, source: name, threads: threads)
    }

    /// The model as a graph file, with tensors stored as `dtype`.
    /// - Throws: `ModelError` when a value does not fit `dtype`.
    public func serialized(dtype: ModelTensorType = .f32) throws -> [UInt8] {
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        var specs: [[String: Any]] = []
        func name(_ v: Int) -> String { v == GraphNode.image ? "input" : nodes[v].name }
        for (i, node) in nodes.enumerated() {
            var spec: [String: Any] = ["name": node.name, "op": node.op.kind, "inputs": node.inputs.map(name)]
            switch node.op {
            case .conv(let layer):
                guard layer.hasWeight else {
                    throw ModelError("\(metadata["name"] ?? "<model>"): node \(i) (\(node.name)): the weights as loaded were dropped for a run (GraphModel.withoutSourceWeights); write the model as loaded")
                }
                spec.merge(LayerSpec.json(layer)) { a, _ in a }
                tensors.append(("nodes.\(i).weight", layer.weight.shape, layer.weight.data))
                if let bias = layer.bias { tensors.append(("nodes.\(i).bias", bias.shape, bias.data)) }
                if case .prelu(let slopes) = layer.activation { tensors.append(("nodes.\(i).prelu", [slopes.count], slopes)) }
            case .add(let scales): spec["scales"] = scales.map(jsonNumber)
            case .affine(let shift, let scale):
                spec["shift"] = shift.map(jsonNumber)
                spec["scale"] = scale.map(jsonNumber)
            case .leakyReLU(let slope): spec["slope"] = jsonNumber(slope)
            case .prelu(let slopes): tensors.append(("nodes.\(i).prelu", [slopes.count], slopes))
            case .pixelShuffle(let r), .pixelUnshuffle(let r), .upsampleNearest(let r): spec["factor"] = r
            case .mul, .sigmoid, .silu, .concat: break
            }
            specs.append(spec)
        }
        let source = metadata["name"] ?? "<model>"
        let nodesJSON = try JSONSerialization.data(withJSONObject: specs, options: [.sortedKeys])
        var meta = ModelFileHeader.metadata(metadata, format: GraphModel.formatName, scale: scale, channels: channels,
                                            residual: residual)
        meta["nodes"] = String(decoding: nodesJSON, as: UTF8.self)
        return try safetensorsBytes(tensors: tensors, metadata: meta, dtype: dtype, source: source)
    }
}

/// The parsed contents of a graph file.
struct GraphFile {
    var scale = 1
    var channels = ModelChannels.rgb
    var residual = ModelResidual.none
    var metadata: [String: String] = [:]
    var nodes: [GraphNode] = []

    /// Keys a node object may have, besides the conv's layer keys.
    static let commonKeys: Set<String> = ["name", "op", "inputs"]
    static let opKeys: [String: Set<String>] = [
        "conv_transpose2d": LayerSpec.keys, "add": ["scales"], "mul": [], "affine": ["shift", "scale"],
        "sigmoid": [], "silu": [], "leaky_relu": ["slope"], "prelu": [], "concat": [],
        "pixel_shuffle": ["factor"], "pixel_unshuffle": ["factor"], "upsample_nearest": ["factor"],
    ]

    init(bytes: [UInt8], name: String) throws {
        func fail(_ what: String) -> ModelError { ModelError("\(name): \(what)", path: name) }
        let file = try ModelFileHeader(bytes, name: name, format: GraphModel.formatName,
                                       understood: "\"\(GraphModel.formatName)\"", fail: fail)
        let (header, dataStart, strings) = (file.header, file.dataStart, file.strings)
        (scale, channels, residual) = (file.scale, file.channels, file.residual)
        for key in ["layers", "input_padding"] where strings[key] != nil {
            throw fail("__metadata__ has \"\(key)\", an entry of a stack file (\(Model.formatName)), not of a graph")
        }
        guard let nodesText = strings["nodes"] else { throw fail("__metadata__ has no \"nodes\" entry") }
        let objects = try GraphFile.nodeObjects(nodesText, fail: fail)
        metadata = strings.filter { !GraphModel.structuralKeys.contains($0.key) }

        // Tensor entries: every one checked before any is decoded.
        let dataCount = bytes.count - dataStart
        var entries: [String: SafetensorsFile.Entry] = [:]
        for (tensorName, value) in header.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
        where tensorName != "__metadata__" {
            entries[tensorName] = try SafetensorsFile.entry(tensorName, value, layerCount: objects.count, dataCount: dataCount,
                                                            prefix: "nodes", fail: fail)
        }
        let sorted = entries.values.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var reach: SafetensorsFile.Entry? = nil
        for b in sorted where b.end > b.begin {
            if let a = reach, b.begin < a.end {
                throw fail("tensor \"\(b.name)\" (bytes \(b.begin)..<\(b.end)) overlaps tensor \"\(a.name)\" (bytes \(a.begin)..<\(a.end))")
            }
            if reach.map({ b.end > $0.end }) ?? true { reach = b }
        }

        var indexOfName: [String: Int] = ["input": GraphNode.image]
        var used: Set<String> = []
        func tensor(_ i: Int, _ part: String, rank: Int, required: Bool) throws -> Tensor? {
            let tensorName = "nodes.\(i).\(part)"
            guard let e = entries[tensorName] else {
                if required { throw fail("node \(i): tensor \"\(tensorName)\" is missing") }
                return nil
            }
            guard e.shape.count == rank else { throw fail("tensor \"\(tensorName)\" has shape \(e.shape), expected \(rank) dims") }
            used.insert(tensorName)
            return try SafetensorsFile.decode(e, bytes, dataStart, fail: fail)
        }
        for (i, object) in objects.enumerated() {
            func nodeFail(_ what: String) -> ModelError { fail("node \(i): \(what)") }
            guard let nodeName = object["name"] as? String else { throw nodeFail("no \"name\" string") }
            guard let op = object["op"] as? String, let keys = GraphFile.opKeys[op] else {
                throw nodeFail("\"op\" is missing or unknown (known: \(GraphFile.opKeys.keys.sorted().joined(separator: ", ")))")
            }
            for key in object.keys.sorted() where !GraphFile.commonKeys.contains(key) && !keys.contains(key) {
                throw nodeFail("unknown key \"\(key)\" for op \(op) (known: \((GraphFile.commonKeys.union(keys)).sorted().joined(separator: ", ")))")
            }
            guard let inputList = object["inputs"] as? [Any], inputList.count <= GraphLimits.maxInputs else {
                throw nodeFail("\"inputs\" must be a list of at most \(GraphLimits.maxInputs) names")
            }
            let inputs = try inputList.map { item -> Int in
                guard let s = item as? String, let v = indexOfName[s] else {
                    throw nodeFail("input \(item) is not \"input\" or the name of an earlier node")
                }
                return v
            }
            func number(_ value: Any?, _ what: String) throws -> Float {
                guard let value, type(of: value) != Bool.self, let d = (value as? NSNumber)?.doubleValue, d.isFinite,
                      abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                    throw nodeFail("\"\(what)\" must be a finite number")
                }
                return Float(d)
            }
            func numbers(_ key: String, default fallback: [Float]) throws -> [Float] {
                guard let value = object[key] else { return fallback }
                if let list = value as? [Any] {
                    guard list.count <= ModelLimits.maxChannels else { throw nodeFail("\"\(key)\" has more than \(ModelLimits.maxChannels) values") }
                    return try list.map { try number($0, key) }
                }
                return [try number(value, key)]
            }
            func factor() throws -> Int {
                guard let v = object["factor"].flatMap(jsonInt) else { throw nodeFail("\"factor\" must be an integer") }
                return v
            }
            let graphOp: GraphOp
            switch op {
            case "conv_transpose2d":
                let spec = try LayerSpec(object.filter { !GraphFile.commonKeys.contains($0.key) }, index: i, fail: fail)
                guard let weight = try tensor(i, "weight", rank: 4, required: true) else { throw nodeFail("no weight") }
                let bias = try tensor(i, "bias", rank: 1, required: false)
                var activation = spec.activation
                if case .prelu = spec.activation {
                    activation = .prelu(try tensor(i, "prelu", rank: 1, required: true)?.data ?? [])
                }
                graphOp = .conv(ModelLayer(weight: weight, bias: bias, stride: spec.stride, padding: spec.padding,
                                           outputPadding: spec.outputPadding, dilation: spec.dilation, groups: spec.groups,
                                           activation: activation))
            case "add": graphOp = .add(scales: try numbers("scales", default: [Float](repeating: 1, count: inputs.count)))
            case "mul": graphOp = .mul
            case "affine": graphOp = .affine(shift: try numbers("shift", default: [0]), scale: try numbers("scale", default: [1]))
            case "sigmoid": graphOp = .sigmoid
            case "silu": graphOp = .silu
            case "leaky_relu": graphOp = .leakyReLU(try number(object["slope"], "slope"))
            case "prelu": graphOp = .prelu(try tensor(i, "prelu", rank: 1, required: true)?.data ?? [])
            case "concat": graphOp = .concat
            case "pixel_shuffle": graphOp = .pixelShuffle(try factor())
            case "pixel_unshuffle": graphOp = .pixelUnshuffle(try factor())
            default: graphOp = .upsampleNearest(try factor())
            }
            // A name is known to later nodes only once its node is read; duplicates are refused by
            // the model's checks, but must not shadow here either.
            guard indexOfName[nodeName] == nil else { throw nodeFail("the name \"\(nodeName)\" is used twice (or is \"input\")") }
            indexOfName[nodeName] = i
            nodes.append(GraphNode(name: nodeName, op: graphOp, inputs: inputs))
        }
        for tensorName in entries.keys.sorted() where !used.contains(tensorName) {
            throw fail("tensor \"\(tensorName)\" is not used by its node (a weight and bias belong to conv_transpose2d nodes, prelu to prelu activations)")
        }
    }

    /// The `nodes` array's objects, checked for count before any is read.
    static func nodeObjects(_ text: String, fail: (String) -> ModelError) throws -> [[String: Any]] {
        let json = try? JSONSerialization.jsonObject(with: Data(text.utf8))
        guard let list = json as? [Any] else { throw fail("__metadata__ nodes is not a JSON array (one object per node)") }
        guard !list.isEmpty else { throw fail("__metadata__ nodes is empty: the model has no nodes") }
        guard list.count <= GraphLimits.maxNodes else {
            throw fail("__metadata__ nodes lists \(list.count) nodes, more than the limit of \(GraphLimits.maxNodes)")
        }
        return try list.enumerated().map { i, item in
            guard let object = item as? [String: Any] else { throw fail("node \(i): the nodes entry is not a JSON object") }
            return object
        }
    }
}
