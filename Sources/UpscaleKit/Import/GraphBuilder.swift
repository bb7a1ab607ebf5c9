// Building a GraphModel from a peer network's modules, node by node (the importers of RRDBNet and
// SPAN use it). PyTorch Conv2d weights become conv_transpose2d weights as in ImportedNetwork:
//
//   Conv2d W (Cout, Cin, k, k), stride 1, padding p → conv_transpose2d weight (Cin, Cout, k, k),
//   flipped in both spatial axes, padding k − 1 − p
//
// ESRGAN's conv_up1, conv_up2 (a nearest ×2 upsample, then a 3×3 "same" Conv2d) stay two nodes, as
// PyTorch runs them. They were once folded into one conv_transpose2d of kernel 4, stride 2 (4
// instead of 9 multiplies per output pixel and channel, weights summed first): with the 3×3
// running as Winograd (2.25 multiplies per output) the two nodes are faster than the folded
// layer on the strided kernels (Zen 4, 64 → 64 at 192×384 outputs: 326 ms against 399 ms, one
// thread, `upscale-bench layers`, 2026-12-07), and they give PyTorch's sums without the folded
// weights' extra rounding.

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

    /// Nearest ×2 upsample (node `name.upsample`) then a 3×3 "same" Conv2d (see the top of the file).
    mutating func upsampledConv(_ name: String, _ w: Tensor, _ b: Tensor?, _ input: Int, activation: Activation) -> Int {
        let upsampled = add(name + ".upsample", .upsampleNearest(2), [input])
        return conv(name, w, b, upsampled, activation: activation)
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
