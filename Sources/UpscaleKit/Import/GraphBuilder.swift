// Building a GraphModel from a peer network's modules, node by node (the importers of RRDBNet and
// SPAN use it). PyTorch Conv2d weights become conv_transpose2d weights as in ImportedNetwork:
//
//   Conv2d W (Cout, Cin, k, k), stride 1, padding p → conv_transpose2d weight (Cin, Cout, k, k),
//   flipped in both spatial axes, padding k − 1 − p
//
// and a nearest ×2 upsample followed by a 3×3 "same" Conv2d (ESRGAN's conv_up1, conv_up2) is
// folded into one conv_transpose2d of kernel 4, stride 2, padding 1: output 2q reads inputs q − 1
// and q, output 2q + 1 reads q and q + 1, so along each axis the transposed taps t = 0…3 carry
// the conv taps {2}, {1, 2}, {0, 1}, {0}:
//
//   (src = W (Cout, Cin, 3, 3) / dst = T (Cin, Cout, 4, 4))
//   T[ci][co][a][b] = Σ_{ky ∈ M(a)} Σ_{kx ∈ M(b)} W[co][ci][ky][kx],   M = [{2}, {1, 2}, {0, 1}, {0}]
//
// summed in float32 in the order ky, kx ascending. The same products are summed as by the
// upsample-then-conv, but the weights are added first, so the result differs from PyTorch's by
// float rounding (held within 1e-4 by the import tests), and it does 4 instead of 9 multiplies
// per output pixel and channel. The fold is the importer's choice, made the same way every time.

struct GraphBuilder {
    var nodes: [GraphNode] = []
    let source: String

    init(source: String) { self.source = source }

    /// Appends a node and returns its value.
    @discardableResult
    mutating func add(_ name: String, _ op: GraphOp, _ inputs: [Int]) -> Int {
        nodes.append(GraphNode(name: name, op: op, inputs: inputs))
        return nodes.count - 1
    }

    /// A stride-1 Conv2d with "same" padding ((k − 1)/2, k odd) and its activation.
    mutating func conv(_ name: String, _ w: Tensor, _ b: Tensor?, _ input: Int, activation: Activation = .none) -> Int {
        let (kH, kW) = (w.shape[2], w.shape[3])
        let layer = ModelLayer(weight: ImportedNetwork.convAsTransposed(w), bias: b,
                               padding: ((kH - 1) / 2, (kW - 1) / 2), activation: activation)
        return add(name, .conv(layer), [input])
    }

    /// Nearest ×2 upsample then a 3×3 "same" Conv2d, as one conv_transpose2d (see the top of the file).
    mutating func upsampledConv(_ name: String, _ w: Tensor, _ b: Tensor?, _ input: Int, activation: Activation) -> Int {
        let layer = ModelLayer(weight: GraphBuilder.foldNearestUpsample(w), bias: b, stride: (2, 2), padding: (1, 1),
                               activation: activation)
        return add(name, .conv(layer), [input])
    }

    // src = W (Cout, Cin, 3, 3), Conv2d after a nearest ×2 upsample / dst = T (Cin, Cout, 4, 4), conv_transpose2d stride 2
    static func foldNearestUpsample(_ w: Tensor) -> Tensor {
        precondition(w.rank == 4 && w.shape[2] == 3 && w.shape[3] == 3, "foldNearestUpsample: a 3×3 weight")
        let (cOut, cIn) = (w.shape[0], w.shape[1])
        let taps: [[Int]] = [[2], [1, 2], [0, 1], [0]]
        var out = [Float](repeating: 0, count: cIn * cOut * 16)
        for co in 0..<cOut {
            for ci in 0..<cIn {
                for a in 0..<4 {
                    for b in 0..<4 {
                        var sum: Float = 0
                        for ky in taps[a] {
                            for kx in taps[b] { sum += w.data[((co * cIn + ci) * 3 + ky) * 3 + kx] }
                        }
                        out[((ci * cOut + co) * 4 + a) * 4 + b] = sum
                    }
                }
            }
        }
        return Tensor(shape: [cIn, cOut, 4, 4], data: out)
    }

    /// The model, checked.
    func model(scale: Int, metadata: [String: String]) throws -> GraphModel {
        do {
            return try GraphModel(nodes: nodes, scale: scale, channels: .rgb, residual: .none, metadata: metadata, source: source)
        } catch let error as ModelError {
            throw ImportError(.graph, error.message)
        }
    }
}

/// A state dict's tensors by name, with checked access for the importers, which records what was
/// read so that a tensor no step read is refused (`refuseUnread`).
final class StateDict {
    let tensors: [String: Tensor]
    let names: [String]        // in the file's order
    let source: String
    let architecture: String
    private(set) var read: Set<String> = []

    init(_ list: [(name: String, tensor: Tensor)], source: String, architecture: String) {
        var map: [String: Tensor] = [:]
        for (name, tensor) in list where map[name] == nil { map[name] = tensor }
        self.tensors = map
        self.names = list.map(\.name)
        self.source = source
        self.architecture = architecture
    }

    func fail(_ what: String) -> ImportError {
        ImportError(.architecture, "\(source): not a state dict of \(architecture) as upscale reads it: \(what)")
    }

    /// The tensor `name`, which must have `shape` (nil entries: any size).
    func tensor(_ name: String, _ shape: [Int?]) throws -> Tensor {
        guard let t = tensors[name] else { throw fail("tensor \(name) is missing") }
        read.insert(name)
        guard t.rank == shape.count, zip(t.shape, shape).allSatisfy({ $1 == nil || $0 == $1 }) else {
            let wanted = shape.map { $0.map(String.init) ?? "*" }.joined(separator: ", ")
            throw fail("tensor \(name) has shape \(t.shape), expected (\(wanted))")
        }
        return t
    }

    /// A Conv2d module's weight (cOut, cIn, k, k) and bias (cOut).
    func conv(_ module: String, cOut: Int?, cIn: Int?, kernel: Int) throws -> (weight: Tensor, bias: Tensor?) {
        let w = try tensor(module + ".weight", [cOut, cIn, kernel, kernel])
        let b = tensors[module + ".bias"] == nil ? nil : try tensor(module + ".bias", [w.shape[0]])
        return (w, b)
    }

    /// Marks `name` as read (a tensor the network does not use, e.g. a buffer).
    func skip(_ name: String) { read.insert(name) }

    /// Refuses names no importer step read (a layout this reading does not cover).
    func refuseUnread() throws {
        if let extra = names.first(where: { !read.contains($0) }) {
            throw fail("unexpected tensor \(extra) (a variant of the architecture upscale does not read)")
        }
    }
}
