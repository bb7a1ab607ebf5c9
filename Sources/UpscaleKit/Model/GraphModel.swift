// A model that is a directed acyclic graph of named nodes (format `upscale.graph/1`,
// docs/model-format.md): the networks people import (ESRGAN's RRDBNet, SPAN) are graphs, not
// stacks. A stack file (`upscale.convt-stack/1`) stays a `Model`; `GraphModel(stack:)` writes one
// as the chain it is.
//
// Values: value −1 (`GraphNode.image`) is the network's input (1, C, H, W); node k's output is
// value k. Nodes come in topological order: node k reads only values < k, so the order itself
// proves there is no cycle and nothing is ever walked recursively.
//
// Geometry: every value is (1, C, fH·H, fW·W) for the input's (H, W) and a rational factor f per
// axis (a "same" conv keeps f, a stride s multiplies it by s, pixel_shuffle and upsample_nearest
// by r, pixel_unshuffle divides it by r). The network's output factor is `scale` on both axes. The
// input must be a multiple of `sizeMultiple` (the least common multiple of the factors'
// denominators) on both axes; a run extends it at the bottom and right by reflection
// (PyTorch's `F.pad(mode="reflect")`, spandrel's rule for RRDBNet ×2 and ×1) and crops the output.
//
// The file is read by GraphModel+File.swift, the whole-image run is Pipeline/GraphModel+Reference.swift,
// the element-wise and shuffle ops are Ops/Graph/.

/// Limits past which a graph model is refused (before anything is allocated for it).
public enum GraphLimits {
    public static let maxNodes = 8192
    public static let maxInputs = 64
    public static let maxNameBytes = 128
    public static let maxFactor = 16          // pixel_shuffle, pixel_unshuffle, upsample_nearest
    public static let maxSizeRatio = 256      // numerator and denominator of a value's size factor
}

/// What a node computes. Element-wise ops are exact float32 formulas (docs/model-format.md).
public enum GraphOp: Sendable {
    /// conv_transpose2d then its activation, as one layer of a stack.
    case conv(ModelLayer)
    /// y = Σ scales[i]·x[i], summed in input order: acc = scales[0]·x[0]; acc = acc + scales[i]·x[i].
    case add(scales: [Float])
    /// y = x[0]·x[1].
    case mul
    /// y = (x + shift[c])·scale[c]; each list has 1 entry (all channels) or C.
    case affine(shift: [Float], scale: [Float])
    case sigmoid
    case silu
    case leakyReLU(Float)
    case prelu([Float])
    /// The inputs' channels one after another.
    case concat
    case pixelShuffle(Int)
    case pixelUnshuffle(Int)
    case upsampleNearest(Int)

    /// The op's name in the file.
    public var kind: String {
        switch self {
        case .conv: return "conv_transpose2d"
        case .add: return "add"
        case .mul: return "mul"
        case .affine: return "affine"
        case .sigmoid: return "sigmoid"
        case .silu: return "silu"
        case .leakyReLU: return "leaky_relu"
        case .prelu: return "prelu"
        case .concat: return "concat"
        case .pixelShuffle: return "pixel_shuffle"
        case .pixelUnshuffle: return "pixel_unshuffle"
        case .upsampleNearest: return "upsample_nearest"
        }
    }
}

/// One node: a name (unique, for messages and `upscale info`), the op, and the values it reads.
public struct GraphNode: Sendable {
    /// The value that stands for the network's input image.
    public static let image = -1

    public var name: String
    public var op: GraphOp
    /// Values read, in order: `GraphNode.image` or the index of an earlier node.
    public var inputs: [Int]

    public init(name: String, op: GraphOp, inputs: [Int]) {
        self.name = name
        self.op = op
        self.inputs = inputs
    }
}

/// A size factor along one axis: the value is `numerator/denominator` times the input's size.
public struct SizeRatio: Equatable, Sendable, CustomStringConvertible {
    public let numerator: Int, denominator: Int
    init(_ numerator: Int, _ denominator: Int) {
        let d = gcd(numerator, denominator)
        self.numerator = numerator / d
        self.denominator = denominator / d
    }
    public var description: String { denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)" }
    /// The size of a value for an input length `n` (a multiple of `denominator`).
    public func of(_ n: Int) -> Int { n / denominator * numerator }
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }   // depth ≤ log(min): bounded
func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }

/// The shape of one value: its channels and its size factor per axis.
public struct GraphValueShape: Equatable, Sendable {
    public var channels: Int
    public var rows: SizeRatio
    public var cols: SizeRatio
}

public final class GraphModel: Sendable {
    /// The value of `__metadata__.format` of a graph file.
    public static let formatName = "upscale.graph/1"

    public let scale: Int
    public let channels: ModelChannels
    public let residual: ModelResidual
    public let nodes: [GraphNode]
    public let metadata: [String: String]
    /// Each node's output shape (channels, size factors), in node order.
    public let shapes: [GraphValueShape]
    /// The input's height and width must be multiples of this; a run pads by reflection (see top).
    public let sizeMultiple: Int
    /// For each value, the last node that reads it (`nodes.count` for the output: read by the run).
    public let lastUse: [Int]
    /// Each node's inputs without repeats, in the order they first appear: what the schedule and
    /// the pipeline walk after every step (a Set built there each time was most of their allocations).
    let distinctInputs: [[Int]]
    /// One conv plan per conv node (nil for the others), weights repacked once.
    let plans: [ConvTranspose2DPlan?]
    /// Image rows the streamed run fetches per pass unless told (GraphPipeline, and the memory
    /// replays that size its rings): `sizeMultiple`, or for a stack's chain 16, so that each layer's
    /// weights (590 KB of Winograd weights for 64 → 64) serve 16 rows per call instead of 4. A chain
    /// holds a few rows per layer, so the larger passes cost 16 more rows a layer; graphs with long
    /// skip connections (RRDBNet) keep one, their rings being already deep.
    let streamFetchRows: Int
    /// For each node, the node whose rows it computes again (a recomputed copy that the streamed run
    /// adds, Pipeline/GraphModel+Recompute.swift), nil for the model's own nodes.
    let copyOf: [Int?]
    /// The graph the streamed run executes, when it differs from this one: these nodes with
    /// recomputed copies (GraphModel+Recompute.swift). Nil: this graph.
    private let recomputing: GraphModel?

    /// The graph the streamed run executes (GraphPipeline, and the replays that size its memory):
    /// this one, or this one with recomputed copies of cheap convolutions for far readers.
    public var streamedGraph: GraphModel { recomputing ?? self }

    /// Image rows a streamed run on a `width`-wide image fetches per pass unless told: at least
    /// `streamFetchRows`, and on narrow images enough rows that a pass gives each convolution about
    /// `passPixels` pixels (at most 16 rows). A pass of 4 rows of a 128-pixel-wide map is one row of 32
    /// Winograd tiles: one work item, so one thread, and the call's setup and weights serve few tiles;
    /// 16 rows make 4 tile rows, which the kernel splits over 2 threads. The rings grow with the
    /// rows of a pass, but on a narrow image they are small (rows × width): above `passPixels` / 2
    /// wide (1280 and 1920 included) the runs are as before.
    func fetchRows(forWidth width: Int) -> Int {
        let padded = GraphModel.roundUp(max(1, width), sizeMultiple)
        let rows = max(streamFetchRows, min(16, GraphModel.passPixels / padded))
        return GraphModel.roundUp(rows, sizeMultiple)
    }

    /// Pixels of a map's rows that a pass should hand a convolution at the least (`fetchRows(forWidth:)`).
    static let passPixels = 2048

    /// The kernel conv node k runs (ConvTranspose2DAlgorithm); nil for other nodes.
    public func algorithm(ofNode k: Int) -> ConvTranspose2DAlgorithm? { plans[k]?.algorithm }

    /// The least common multiple of the conv layers' output alignments (a Winograd layer's tile
    /// side; each layer's blocks start at its own phase, GraphModel+Stagger): the streamed run's
    /// passes are whole multiples of it (GraphRowSchedule.passRows), and the receptive reach
    /// repeats with it. 1 without Winograd layers.
    public var rowAlignment: Int {
        nodes.reduce(1) { alignment, node in
            guard case .conv(let layer) = node.op else { return alignment }
            return lcm(alignment, layer.rowGeometry.alignment)
        }
    }

    /// Builds a graph model, checking every node (see `validate`).
    /// - Throws: `ModelError` naming the node and the problem.
    public convenience init(nodes: [GraphNode], scale: Int, channels: ModelChannels, residual: ModelResidual,
                            metadata: [String: String]) throws {
        try self.init(nodes: nodes, scale: scale, channels: channels, residual: residual, metadata: metadata,
                      source: metadata["name"] ?? "<model>")
    }

    /// - Parameter plans: the conv nodes' plans when the caller has them (a stack's chain), else nil.
    /// - Parameter copyOf: for the streamed run's graph (`streamedGraph`), the node each copy
    ///   recomputes; nil for a model as loaded (its streamed graph is then derived from it).
    /// - Parameter threads: workers that build the plans when the caller has none.
    init(nodes: [GraphNode], scale: Int, channels: ModelChannels, residual: ModelResidual,
         metadata: [String: String], source: String, plans: [ConvTranspose2DPlan?]? = nil, streamFetchRows: Int? = nil,
         copyOf: [Int?]? = nil, threads: Int = 1) throws {
        let shapes = try GraphModel.validate(nodes: nodes, scale: scale, channels: channels, metadata: metadata,
                                             source: source)
        var multiple = 1
        for shape in shapes { multiple = lcm(lcm(multiple, shape.rows.denominator), shape.cols.denominator) }
        var lastUse = [Int](repeating: -1, count: nodes.count)
        for (k, node) in nodes.enumerated() {
            for i in node.inputs where i >= 0 { lastUse[i] = k }
        }
        lastUse[nodes.count - 1] = nodes.count
        let built: [ConvTranspose2DPlan?]
        do {
            built = try plans ?? ConvTranspose2DPlan.plans(of: nodes.map { node in
                guard case .conv(let layer) = node.op else { return nil }
                return layer
            }, threads: threads)
        } catch {
            throw ModelError("\(source): \(error)", path: source)
        }
        let staggered = GraphModel.staggered(nodes)
        let fetchRows = GraphModel.roundUp(max(1, streamFetchRows ?? multiple), multiple)
        let input = GraphValueShape(channels: channels.count, rows: SizeRatio(1, 1), cols: SizeRatio(1, 1))
        if copyOf == nil, let copies = GraphModel.recomputedCopies(staggered, shapes: shapes, input: input, sizeMultiple: multiple,
                                                                    plans: built) {
            self.recomputing = try GraphModel(nodes: copies.nodes, scale: scale, channels: channels, residual: residual,
                                              metadata: metadata, source: source, plans: copies.plans,
                                              streamFetchRows: fetchRows, copyOf: copies.copyOf)
        } else {
            self.recomputing = nil
        }
        self.copyOf = copyOf ?? [Int?](repeating: nil, count: nodes.count)
        self.plans = built
        self.nodes = staggered
        self.shapes = shapes
        self.sizeMultiple = multiple
        self.streamFetchRows = fetchRows
        self.lastUse = lastUse
        self.distinctInputs = staggered.map { node in
            node.inputs.enumerated().filter { i, v in !node.inputs[..<i].contains(v) }.map(\.element)
        }
        self.scale = scale
        self.channels = channels
        self.residual = residual
        self.metadata = metadata
    }

    /// A stack without input padding, as the chain of its layers (node `layers.{i}` reads node i − 1).
    /// - Throws: `ModelError` for a stack with input padding (the graph format has none).
    public convenience init(stack: Model) throws {
        let source = stack.metadata["name"] ?? "<model>"
        guard stack.inputPadding == 0 else {
            throw ModelError("\(source): a stack with input_padding \(stack.inputPadding) has no graph form (graphs read the image unpadded)")
        }
        try self.init(chainOf: stack.layers, plans: stack.plans, scale: stack.scale, channels: stack.channels,
                      residual: stack.residual, metadata: stack.metadata, source: source)
    }

    /// The chain of `layers` (node `layers.{i}` reads node i − 1), with their plans.
    convenience init(chainOf layers: [ModelLayer], plans: [ConvTranspose2DPlan], scale: Int, channels: ModelChannels,
                     residual: ModelResidual, metadata: [String: String], source: String) throws {
        try self.init(nodes: GraphModel.chainNodes(of: layers), scale: scale, channels: channels, residual: residual, metadata: metadata,
                      source: source, plans: plans.map { $0 }, streamFetchRows: 16)
    }

    /// The nodes of the chain of `layers`: node `layers.{i}` reads node i − 1, the first the image.
    static func chainNodes(of layers: [ModelLayer]) -> [GraphNode] {
        layers.enumerated().map { i, layer in
            GraphNode(name: "layers.\(i)", op: .conv(layer), inputs: [i == 0 ? GraphNode.image : i - 1])
        }
    }

    /// The input's shape: the model's channels at size factor 1.
    public var inputShape: GraphValueShape {
        GraphValueShape(channels: channels.count, rows: SizeRatio(1, 1), cols: SizeRatio(1, 1))
    }

    /// The shape of value `v` (`GraphNode.image` or a node index).
    public func shape(of v: Int) -> GraphValueShape { v == GraphNode.image ? inputShape : shapes[v] }

    /// Bytes of the weights in memory: as loaded (4 per learned value, less the conv weights a run
    /// has dropped: `withoutSourceWeights`) and as each conv plan holds them repacked for its kernel
    /// (ConvTranspose2DPlan.packedBytes).
    public var weightBytes: Int {
        let dropped = nodes.reduce(0) { total, node in
            guard case .conv(let layer) = node.op, !layer.hasWeight else { return total }
            return total + Tensor.elementCount(layer.weightShape)
        }
        return 4 * (parameterCount - dropped) + plans.reduce(0) { $0 + ($1?.packedBytes ?? 0) }
    }

    /// This model without its convolutions' weights as loaded, which their plans hold repacked
    /// (for RRDBNet 23 blocks, 67 MB of 348): what a run needs. The same nodes, plans and bits;
    /// `parameterCount` and the shapes stay. Writing it (`serialized`) throws, so the file writer,
    /// the importers and `info` use the model as loaded.
    public func withoutSourceWeights() throws -> GraphModel {
        let nodes = self.nodes.map { node -> GraphNode in
            guard case .conv(let layer) = node.op else { return node }
            var node = node
            node.op = .conv(layer.droppingWeight())
            return node
        }
        return try GraphModel(nodes: nodes, scale: scale, channels: channels, residual: residual, metadata: metadata,
                              source: metadata["name"] ?? "<model>", plans: plans, streamFetchRows: streamFetchRows)
    }

    /// Number of learned values (weights, biases, slopes, affine constants).
    public var parameterCount: Int {
        nodes.reduce(0) { total, node in
            switch node.op {
            case .conv(let layer):
                var n = Tensor.elementCount(layer.weightShape) + (layer.bias?.count ?? 0)
                if case .prelu(let slopes) = layer.activation { n += slopes.count }
                return total + n
            case .prelu(let slopes): return total + slopes.count
            case .affine(let shift, let scale): return total + shift.count + scale.count
            default: return total
            }
        }
    }

    /// Multiply-accumulates of the convolutions per output pixel (for large images; FLOPs = 2·MACs).
    public var macsPerOutputPixel: Double {
        var macs = 0.0
        for node in nodes {
            guard case .conv(let layer) = node.op else { continue }
            let input = shape(of: node.inputs[0])
            let pixels = Double(input.rows.numerator) / Double(input.rows.denominator)
                * Double(input.cols.numerator) / Double(input.cols.denominator)
            macs += pixels * Double(layer.inChannels * layer.weightShape[1] * layer.kernel.0 * layer.kernel.1)
        }
        return macs / Double(scale * scale)
    }

    /// Keys of `__metadata__` that the graph format itself defines.
    static let structuralKeys: Set<String> = ["format", "scale", "channels", "residual", "nodes"]

    // MARK: - Validation

    /// Checks every node in order and returns each node's output shape.
    /// `scale` nil: every check but the output's size (an importer reads the scale from the shapes).
    static func validate(nodes: [GraphNode], scale: Int?, channels: ModelChannels, metadata: [String: String],
                         source: String) throws -> [GraphValueShape] {
        func fail(_ what: String) -> ModelError { ModelError("\(source): \(what)", path: source) }
        if let scale, !(1...ModelLimits.maxScale).contains(scale) {
            throw fail("scale \(scale) is not between 1 and \(ModelLimits.maxScale)")
        }
        guard !nodes.isEmpty else { throw fail("the graph has no nodes") }
        guard nodes.count <= GraphLimits.maxNodes else {
            throw fail("\(nodes.count) nodes is more than the limit of \(GraphLimits.maxNodes)")
        }
        for key in metadata.keys.sorted() where structuralKeys.contains(key) || Model.structuralKeys.contains(key) {
            throw fail("metadata key \"\(key)\" is reserved for the format")
        }
        var names: Set<String> = []
        var shapes: [GraphValueShape] = []
        shapes.reserveCapacity(nodes.count)
        let input = GraphValueShape(channels: channels.count, rows: SizeRatio(1, 1), cols: SizeRatio(1, 1))
        for (k, node) in nodes.enumerated() {
            guard GraphModel.isValidName(node.name) else {
                throw fail("node \(k): its name is not 1 to \(GraphLimits.maxNameBytes) characters of A-Z, a-z, 0-9, _ . - / (or is \"input\", the image's name)")
            }
            guard names.insert(node.name).inserted else { throw fail("node \(k): the name \"\(node.name)\" is used twice") }
            let shape = try outputShape(of: node, index: k, inputShapes: node.inputs.map { i in
                guard i == GraphNode.image || (0..<k).contains(i) else {
                    throw fail("node \(k) (\(node.name)) reads value \(i), which is not the input or an earlier node (nodes must come in topological order)")
                }
                return i == GraphNode.image ? input : shapes[i]
            }, source: source)
            shapes.append(shape)
        }
        let last = shapes[shapes.count - 1]
        guard last.channels == channels.count else {
            throw fail("the last node (\(nodes[nodes.count - 1].name)) writes \(last.channels) channels, but a \"\(channels.rawValue)\" model writes \(channels.count)")
        }
        guard let scale else { return shapes }
        guard last.rows == SizeRatio(scale, 1), last.cols == SizeRatio(scale, 1) else {
            throw fail("the graph maps an input of size (H, W) to (\(last.rows)·H, \(last.cols)·W), not (\(scale)·H, \(scale)·W) (scale \(scale))")
        }
        return shapes
    }

    /// Node names: 1 … 128 characters of A-Z a-z 0-9 _ . - /, and not "input".
    static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...GraphLimits.maxNameBytes).contains(bytes.count), name != "input" else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2E || b == 0x2D || b == 0x2F
        }
    }

    /// Node k's output shape from its inputs' shapes, or the reason the node is refused.
    static func outputShape(of node: GraphNode, index k: Int, inputShapes: [GraphValueShape],
                            source: String) throws -> GraphValueShape {
        func fail(_ what: String) -> ModelError { ModelError("\(source): node \(k) (\(node.name), \(node.op.kind)): \(what)", path: source) }
        func arity(_ range: ClosedRange<Int>) throws {
            guard range.contains(inputShapes.count) else {
                let wanted = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
                throw fail("reads \(inputShapes.count) values, expected \(wanted)")
            }
        }
        func sameShapes() throws -> GraphValueShape {
            let first = inputShapes[0]
            for (i, s) in inputShapes.enumerated() where s != first {
                throw fail("input \(i) is \(s.channels) channels at (\(s.rows)·H, \(s.cols)·W) but input 0 is \(first.channels) channels at (\(first.rows)·H, \(first.cols)·W)")
            }
            return first
        }
        func checkValues(_ values: [Float], _ what: String, channels: Int) throws {
            guard values.count == 1 || values.count == channels else {
                throw fail("\(what) has \(values.count) values, expected 1 or \(channels) (one per channel)")
            }
            guard values.allSatisfy({ $0.isFinite }) else { throw fail("\(what) has a NaN or infinite value") }
        }
        func resized(_ s: GraphValueShape, times num: Int, over den: Int, _ what: String) throws -> GraphValueShape {
            let rows = SizeRatio(s.rows.numerator * num, s.rows.denominator * den)
            let cols = SizeRatio(s.cols.numerator * num, s.cols.denominator * den)
            for r in [rows, cols] where r.numerator > GraphLimits.maxSizeRatio || r.denominator > GraphLimits.maxSizeRatio {
                throw fail("\(what) makes the value \(r) times the input's size, beyond the limit of \(GraphLimits.maxSizeRatio) (or 1/\(GraphLimits.maxSizeRatio))")
            }
            return GraphValueShape(channels: s.channels, rows: rows, cols: cols)
        }
        switch node.op {
        case .conv(let layer):
            try arity(1...1)
            do {
                try Model.validate(layer: layer, index: k, source: source)
            } catch let error as ModelError {
                // The stack's message names "layer k (layers.k)"; say node instead.
                throw ModelError(error.message.replacingOccurrences(of: "layer \(k) (layers.\(k))", with: "node \(k) (\(node.name))"),
                                 kind: error.kind, path: error.path)
            }
            let input = inputShapes[0]
            guard layer.inChannels == input.channels else {
                throw fail("the weight reads \(layer.inChannels) channels (weight dim 0), but its input has \(input.channels)")
            }
            for (axis, g) in [("height", layer.rowGeometry), ("width", layer.colGeometry)] where g.outputSize(0) != 0 {
                throw fail("maps a \(axis) n to \(g.stride)·n \(g.outputSize(0) < 0 ? "−" : "+") \(abs(g.outputSize(0))); graph convolutions must map n to stride·n exactly (\"same\" padding)")
            }
            guard layer.stride.0 == layer.stride.1 else {
                throw fail("strides [\(layer.stride.0), \(layer.stride.1)] differ; graph convolutions scale both axes alike")
            }
            var out = try resized(input, times: layer.stride.0, over: 1, "stride \(layer.stride.0)")
            out.channels = layer.outChannels
            return out
        case .add(let scales):
            try arity(2...GraphLimits.maxInputs)
            guard scales.count == inputShapes.count else { throw fail("has \(scales.count) scales for \(inputShapes.count) inputs") }
            guard scales.allSatisfy({ $0.isFinite }) else { throw fail("a scale is NaN or infinite") }
            return try sameShapes()
        case .mul:
            try arity(2...2)
            return try sameShapes()
        case .affine(let shift, let scale):
            try arity(1...1)
            try checkValues(shift, "shift", channels: inputShapes[0].channels)
            try checkValues(scale, "scale", channels: inputShapes[0].channels)
            return inputShapes[0]
        case .sigmoid, .silu:
            try arity(1...1)
            return inputShapes[0]
        case .leakyReLU(let slope):
            try arity(1...1)
            guard slope.isFinite else { throw fail("slope \(slope) is not finite") }
            return inputShapes[0]
        case .prelu(let slopes):
            try arity(1...1)
            try checkValues(slopes, "prelu", channels: inputShapes[0].channels)
            return inputShapes[0]
        case .concat:
            try arity(1...GraphLimits.maxInputs)
            let first = inputShapes[0]
            for (i, s) in inputShapes.enumerated() where s.rows != first.rows || s.cols != first.cols {
                throw fail("input \(i) is at (\(s.rows)·H, \(s.cols)·W) but input 0 at (\(first.rows)·H, \(first.cols)·W)")
            }
            let total = inputShapes.reduce(0) { $0 + $1.channels }
            guard total <= ModelLimits.maxChannels else { throw fail("\(total) channels is more than the limit of \(ModelLimits.maxChannels)") }
            return GraphValueShape(channels: total, rows: first.rows, cols: first.cols)
        case .pixelShuffle(let r), .pixelUnshuffle(let r), .upsampleNearest(let r):
            try arity(1...1)
            guard (1...GraphLimits.maxFactor).contains(r) else { throw fail("factor \(r) is not between 1 and \(GraphLimits.maxFactor)") }
            let input = inputShapes[0]
            switch node.op {
            case .pixelShuffle:
                guard input.channels % (r * r) == 0 else { throw fail("\(input.channels) input channels is not a multiple of \(r * r)") }
                var out = try resized(input, times: r, over: 1, "factor \(r)")
                out.channels = input.channels / (r * r)
                return out
            case .pixelUnshuffle:
                guard input.channels * r * r <= ModelLimits.maxChannels else {
                    throw fail("\(input.channels * r * r) output channels is more than the limit of \(ModelLimits.maxChannels)")
                }
                var out = try resized(input, times: 1, over: r, "factor \(r)")
                out.channels = input.channels * r * r
                return out
            default:
                return try resized(input, times: r, over: 1, "factor \(r)")
            }
        }
    }
}
