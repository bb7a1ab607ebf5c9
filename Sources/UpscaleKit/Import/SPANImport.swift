// SPAN (Swift Parameter-free Attention Network, Wan et al. 2024) from a state dict, as a graph.
//
// Every 3×3 convolution of SPAN is a Conv3XC: training branches (1×1 to c_in·g, 3×3 to c_out·g,
// 1×1 to c_out; plus a 1×1 skip `sk`) that eval mode folds into one 3×3 `eval_conv`. PyTorch's
// eval forward recomputes eval_conv from the branches before every call, so a checkpoint's stored
// eval_conv may be stale; this importer folds the branches the same way when they are present,
// and uses eval_conv only when they are not:
//
//   (src = w1 (m, i, 1, 1), w2 (n, m, 3, 3), w3 (o, n, 1, 1), sk (o, i, 1, 1) / dst = W (o, i, 3, 3))
//   W[o][i][y][x] = Σ_n w3[o][n] · Σ_m w2[n][m][y][x]·w1[m][i]   (+ sk[o][i] at the centre y = x = 1)
//   b[o] = Σ_n w3[o][n] · (b2[n] + Σ_m Σ_yx w2[n][m][y][x]·b1[m]) + b3[o] + sk_b[o]
// accumulated in double, rounded once to float.
//
// The network (x the input, in [0, 1]):
//   x = (x − mean)·255 unless the checkpoint holds `no_norm` (mean = 0.4488, 0.4371, 0.4040)
//   f = conv_1(x)
//   SPAB(b): o1 = silu(c1_r(b)); o2 = silu(c2_r(o1)); o3 = c3_r(o2)
//            return (o3 + b)·(sigmoid(o3) − 0.5), and o1 (activated: the published SiLU is in place)
//   b1 = SPAB_1(f), …, b6 = SPAB_6(b5), with o1 of block 6 kept as b5_2
//   out = upsampler(conv_cat(cat(f, conv_2(b6), b1, b5_2)))   conv_cat 1×1, upsampler 3×3 + pixel_shuffle

extension ModelImport {
    static let spanMean: [Float] = [0.4488, 0.4371, 0.4040]
    static let spanBlocks = 6

    /// SPAN as a graph.
    static func span(_ dict: StateDict, metadata: [String: String]) throws -> GraphModel {
        let featureChannels = try conv3XC(dict, "conv_1", cIn: 3, cOut: nil).weight.shape[0]
        let nf = featureChannels
        let upWeight = try dict.tensor("upsampler.0.weight", [nil, nf, 3, 3])
        let outChannels = upWeight.shape[0]
        let r = Int(Double(outChannels / 3).squareRoot().rounded())
        guard outChannels % 3 == 0, r * r * 3 == outChannels, (1...ModelLimits.maxScale).contains(r) else {
            throw dict.fail("upsampler.0 writes \(outChannels) channels, not 3·r² for a scale r")
        }
        let normalised = dict.tensors["no_norm"] == nil
        dict.skip("no_norm")

        var g = GraphBuilder(source: dict.source)
        var x = GraphNode.image
        if normalised {
            x = g.add("normalize", .affine(shift: spanMean.map { -$0 }, scale: [255]), [x])
        }
        let first = try conv3XC(dict, "conv_1", cIn: 3, cOut: nf)
        let f = g.conv("conv_1", first.weight, first.bias, x)
        var b = f
        var b1 = f, b52 = f
        for i in 1...spanBlocks {
            let prefix = "block_\(i)"
            let c1 = try conv3XC(dict, prefix + ".c1_r", cIn: nf, cOut: nf)
            let c2 = try conv3XC(dict, prefix + ".c2_r", cIn: nf, cOut: nf)
            let c3 = try conv3XC(dict, prefix + ".c3_r", cIn: nf, cOut: nf)
            let o1 = g.conv(prefix + ".c1_r", c1.weight, c1.bias, b, activation: .silu)
            let o2 = g.conv(prefix + ".c2_r", c2.weight, c2.bias, o1, activation: .silu)
            let o3 = g.conv(prefix + ".c3_r", c3.weight, c3.bias, o2)
            let sigmoid = g.add(prefix + ".sigmoid", .sigmoid, [o3])
            let attention = g.add(prefix + ".attention", .affine(shift: [-0.5], scale: [1]), [sigmoid])
            let sum = g.add(prefix + ".residual", .add(scales: [1, 1]), [o3, b])
            b = g.add(prefix, .mul, [sum, attention])
            if i == 1 { b1 = b }
            if i == spanBlocks { b52 = o1 }
        }
        let second = try conv3XC(dict, "conv_2", cIn: nf, cOut: nf)
        let b6 = g.conv("conv_2", second.weight, second.bias, b)
        let cat = g.add("cat", .concat, [f, b6, b1, b52])
        let catConv = try dict.conv("conv_cat", cOut: nf, cIn: 4 * nf, kernel: 1)
        let fused = g.conv("conv_cat", catConv.weight, catConv.bias, cat)
        let up = try dict.conv("upsampler.0", cOut: outChannels, cIn: nf, kernel: 3)
        let upConv = g.conv("upsampler.0", up.weight, up.bias, fused)
        g.add("pixel_shuffle", .pixelShuffle(r), [upConv])
        if dict.tensors["block_\(spanBlocks + 1).c1_r.sk.weight"] != nil || dict.tensors["block_\(spanBlocks + 1).c1_r.eval_conv.weight"] != nil {
            throw dict.fail("it has more than \(spanBlocks) blocks (block_\(spanBlocks + 1)); supported: the published 6")
        }
        try dict.refuseUnread()
        var meta = metadata
        meta["architecture"] = "SPAN"
        meta["description"] = (meta["description"] ?? "") + " SPAN: \(nf) features, input normalisation \(normalised ? "by the RGB mean and 255" : "none (no_norm)")."
        return try g.model(scale: r, metadata: meta)
    }

    /// A Conv3XC's single 3×3 Conv2d (cOut, cIn, 3, 3) and bias: folded from its branches when
    /// the state dict holds them, else its eval_conv (see the top of the file).
    static func conv3XC(_ dict: StateDict, _ module: String, cIn: Int, cOut: Int?) throws -> (weight: Tensor, bias: Tensor) {
        // The eval_conv is read (so that it counts as used) and checked for shape either way.
        let evalConv = dict.tensors[module + ".eval_conv.weight"] == nil ? nil
            : try dict.conv(module + ".eval_conv", cOut: cOut, cIn: cIn, kernel: 3)
        guard dict.tensors[module + ".sk.weight"] != nil else {
            guard let evalConv else { throw dict.fail("neither \(module).sk.weight (the training branches) nor \(module).eval_conv.weight is present") }
            let o = evalConv.weight.shape[0]
            return (evalConv.weight, evalConv.bias ?? Tensor(zeros: [o]))
        }
        func bias(_ name: String, _ count: Int) throws -> [Float] {
            dict.tensors[name + ".bias"] == nil ? [Float](repeating: 0, count: count) : try dict.tensor(name + ".bias", [count]).data
        }
        let sk = try dict.tensor(module + ".sk.weight", [cOut, cIn, 1, 1])
        let o = sk.shape[0]
        let w1 = try dict.tensor(module + ".conv.0.weight", [nil, cIn, 1, 1])
        let m = w1.shape[0]
        let w2 = try dict.tensor(module + ".conv.1.weight", [nil, m, 3, 3])
        let n = w2.shape[0]
        let w3 = try dict.tensor(module + ".conv.2.weight", [o, n, 1, 1])
        let (b1, b2, b3, bsk) = (try bias(module + ".conv.0", m), try bias(module + ".conv.1", n), try bias(module + ".conv.2", o),
                                 try bias(module + ".sk", o))
        guard m <= ModelLimits.maxChannels, n <= ModelLimits.maxChannels else { throw dict.fail("\(module) is wider than \(ModelLimits.maxChannels) channels") }
        // w12[n][i][t] = Σ_m w2[n][m][t]·w1[m][i], b12[n] = b2[n] + Σ_m Σ_t w2[n][m][t]·b1[m]   (t = 3·y + x)
        var w12 = [Double](repeating: 0, count: n * cIn * 9)   // (n, i, 9)
        var b12 = [Double](repeating: 0, count: n)
        for nn in 0..<n {
            b12[nn] = Double(b2[nn])
            for mm in 0..<m {
                for t in 0..<9 {
                    let v = Double(w2.data[(nn * m + mm) * 9 + t])
                    b12[nn] += v * Double(b1[mm])
                    for i in 0..<cIn { w12[(nn * cIn + i) * 9 + t] += v * Double(w1.data[mm * cIn + i]) }
                }
            }
        }
        var weight = [Float](repeating: 0, count: o * cIn * 9)   // (o, i, 3, 3)
        var biasOut = [Float](repeating: 0, count: o)
        for oo in 0..<o {
            var bsum = Double(b3[oo]) + Double(bsk[oo])
            var acc = [Double](repeating: 0, count: cIn * 9)
            for nn in 0..<n {
                let v = Double(w3.data[oo * n + nn])
                bsum += v * b12[nn]
                for e in 0..<(cIn * 9) { acc[e] += v * w12[nn * cIn * 9 + e] }
            }
            for i in 0..<cIn { acc[i * 9 + 4] += Double(sk.data[oo * cIn + i]) }
            for e in 0..<(cIn * 9) { weight[oo * cIn * 9 + e] = Float(acc[e]) }
            biasOut[oo] = Float(bsum)
        }
        return (Tensor(shape: [o, cIn, 3, 3], data: weight), Tensor(shape: [o], data: biasOut))
    }
}
