// Where each Winograd layer's row tiles start: staggered so that a deep graph streams with the lag
// of its receptive depth, not four times it (issue 25's memory bound).
//
// A Winograd layer computes its output rows in tiles of 4 (AxisGeometry.alignment), so a streamed
// run releases them 4 at a time. With every layer's tiles at rows 0, 4, 8, … a 3×3 layer whose
// input ends at row e (e a multiple of 4) can finish only the tile that ends at e − 4: each layer
// lags its input by 4 rows, and a skip connection over n layers holds 4n rows where direct
// convolutions hold n. Starting a layer's tiles where its input's rows end, less its own reach,
// removes that: with the image's rows ending at E,
//   end(image) = E
//   end(conv)  = stride·end(input) − padding     (the last output whose taps end(input) covers)
//   end(upsample r, pixel_shuffle r) = r·end(input),  end(pixel_unshuffle r) = ⌊end(input) / r⌋
//   end(element-wise, concat) = the least end of its inputs
// and a Winograd layer's tiles start at rows ≡ end(conv) (mod 4). E is taken as a multiple of
// every factor (0 below), so the phases do not depend on it. The phase is part of the layer's
// rounding, so it is a property of the model: every run of it (streamed, tiled, whole-image) uses it.

extension GraphModel {
    /// `nodes` with each Winograd conv layer's `rowPhase` set as above (others unchanged).
    static func staggered(_ nodes: [GraphNode]) -> [GraphNode] {
        let ends = rowEnds(nodes)
        var staggered = nodes
        for (k, node) in nodes.enumerated() {
            guard case .conv(var layer) = node.op, let side = layer.winogradTile else { continue }
            layer.rowPhase = ((ends[k] % side) + side) % side
            staggered[k].op = .conv(layer)
        }
        return staggered
    }

    /// end(node k) − E·(its size factor) for each node, as above (the image's is 0): where each
    /// value's rows end when the image's end at E, rows being made as soon as their inputs allow.
    static func rowEnds(_ nodes: [GraphNode]) -> [Int] {
        var ends: [Int] = []
        ends.reserveCapacity(nodes.count)
        for node in nodes {
            let inputEnds = node.inputs.map { $0 == GraphNode.image ? 0 : ends[$0] }
            let first = inputEnds.first ?? 0
            switch node.op {
            case .conv(let layer): ends.append(layer.rowGeometry.stride * first - layer.rowGeometry.padding)
            case .pixelShuffle(let r), .upsampleNearest(let r): ends.append(r * first)
            case .pixelUnshuffle(let r): ends.append(floorDiv(first, r))
            case .add, .mul, .affine, .sigmoid, .silu, .leakyReLU, .prelu, .concat: ends.append(inputEnds.min() ?? 0)
            }
        }
        return ends
    }
}
