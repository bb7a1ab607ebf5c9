// ESRGAN's RRDBNet (and Real-ESRGAN's, which is the same network) from a state dict, as a graph.
//
// New key style (BasicSR, Real-ESRGAN):
//   conv_first                        3·u² → nf, 3×3 (u = 1, 2, 4: the input pixel-unshuffled by u)
//   body.N.rdb{1,2,3}.conv{1..5}      the residual-in-residual dense blocks, N = 0 … nb − 1
//   conv_body                         nf → nf
//   conv_up1, conv_up2 (, conv_up3)   each after a nearest ×2 upsample, LeakyReLU 0.2
//   conv_hr (LeakyReLU 0.2), conv_last nf → 3
// Old key style (the ESRGAN repository's nn.Sequential numbering), mapped onto the new names:
//   model.0 → conv_first, model.1.sub.N.RDBd.convk.0 → body.N.rdbd.convk, model.1.sub.{nb} → conv_body,
//   then the remaining model.K convolutions in order: conv_up1 … conv_upU, conv_hr, conv_last
//
// The network (x the input, lrelu = LeakyReLU 0.2, cat = channel concat):
//   RDB(x):  x1 = lrelu(conv1(x)); x2 = lrelu(conv2(cat(x, x1))); … x4;
//            x5 = conv5(cat(x, x1, x2, x3, x4)); return x5·0.2 + x
//   RRDB(x): RDB3(RDB2(RDB1(x)))·0.2 + x
//   feat = conv_first(unshuffle_u(x)); feat = feat + conv_body(RRDB…(feat))
//   feat = lrelu(conv_upK(upsample_nearest_2(feat))) for each K; out = conv_last(lrelu(conv_hr(feat)))
// so scale = 2^U / u. nf, nb and the growth channels gc are read from the shapes.

extension ModelImport {
    /// The new-key names of an old-style ESRGAN state dict, or nil when it is not one.
    static func rrdbOldToNewKeys(_ names: [String]) -> [String: String]? {
        guard names.contains("model.0.weight"), names.contains(where: { $0.hasPrefix("model.1.sub.0.RDB1.") }) else { return nil }
        // The body's last entry (conv_body) is the largest N of model.1.sub.N.weight.
        var bodyIndex = -1
        var topLevel: Set<Int> = []
        for name in names {
            let parts = name.split(separator: ".").map(String.init)
            if parts.count == 5, parts[0] == "model", parts[1] == "1", parts[2] == "sub", let n = Int(parts[3]), parts[4] == "weight" {
                bodyIndex = max(bodyIndex, n)
            }
            if parts.count == 3, parts[0] == "model", let k = Int(parts[1]), k >= 2 { topLevel.insert(k) }
        }
        let convs = topLevel.sorted()
        guard bodyIndex >= 0, convs.count >= 2 else { return nil }
        var targets: [Int: String] = [:]
        for (i, k) in convs.enumerated() {
            let fromEnd = convs.count - 1 - i
            targets[k] = fromEnd == 0 ? "conv_last" : fromEnd == 1 ? "conv_hr" : "conv_up\(i + 1)"
        }
        var map: [String: String] = [:]
        for name in names {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3, parts[0] == "model", parts[1] == "0" {
                map[name] = "conv_first." + parts[2]
            } else if parts.count == 3, parts[0] == "model", let k = Int(parts[1]), let target = targets[k] {
                map[name] = target + "." + parts[2]
            } else if parts.count == 5, parts[0] == "model", parts[1] == "1", parts[2] == "sub", parts[3] == String(bodyIndex) {
                map[name] = "conv_body." + parts[4]
            } else if parts.count == 8, parts[0] == "model", parts[1] == "1", parts[2] == "sub", parts[4].hasPrefix("RDB"),
                      parts[6] == "0" {
                // model.1.sub.N.RDBd.convk.0.weight → body.N.rdbd.convk.weight
                map[name] = "body.\(parts[3]).rdb\(parts[4].dropFirst(3)).\(parts[5]).\(parts[7])"
            }
        }
        return map
    }

    /// RRDBNet (new key names) as a graph.
    static func rrdbNet(_ dict: StateDict, metadata: [String: String]) throws -> GraphModel {
        let first = try dict.tensor("conv_first.weight", [nil, nil, 3, 3])
        let (nf, inChannels) = (first.shape[0], first.shape[1])
        let unshuffle: Int
        switch inChannels {
        case 3: unshuffle = 1
        case 12: unshuffle = 2
        case 48: unshuffle = 4
        default: throw dict.fail("conv_first reads \(inChannels) channels; supported: 3 (x4), 12 (x2, pixel-unshuffled by 2) or 48 (x1, by 4) of an RGB image")
        }
        var blocks = 0
        while dict.tensors["body.\(blocks).rdb1.conv1.weight"] != nil { blocks += 1 }
        guard blocks >= 1 else { throw dict.fail("no body.0.rdb1.conv1.weight: no residual-in-residual dense block") }
        let gc = try dict.tensor("body.0.rdb1.conv1.weight", [nil, nf, 3, 3]).shape[0]
        var ups = 0
        while dict.tensors["conv_up\(ups + 1).weight"] != nil { ups += 1 }
        let upscale = 1 << ups
        guard upscale % unshuffle == 0 else {
            throw dict.fail("\(ups) upsampling convolutions (x\(upscale)) after a pixel-unshuffle by \(unshuffle) is not an integer scale")
        }
        let scale = upscale / unshuffle
        guard (1...ModelLimits.maxScale).contains(scale) else { throw dict.fail("scale \(scale) is not between 1 and \(ModelLimits.maxScale)") }

        let lrelu = Activation.leakyReLU(0.2)
        var g = GraphBuilder(source: dict.source)
        var x = GraphNode.image
        if unshuffle > 1 { x = g.add("pixel_unshuffle", .pixelUnshuffle(unshuffle), [x]) }
        let c = try dict.conv("conv_first", cOut: nf, cIn: inChannels, kernel: 3)
        let feat = g.conv("conv_first", c.weight, c.bias, x)
        var h = feat
        for n in 0..<blocks {
            let blockInput = h
            for d in 1...3 {
                let prefix = "body.\(n).rdb\(d)"
                var parts = [h]
                for k in 1...5 {
                    let input = k == 1 ? h : g.add("\(prefix).cat\(k)", .concat, parts)
                    let conv = try dict.conv("\(prefix).conv\(k)", cOut: k == 5 ? nf : gc, cIn: nf + (k - 1) * gc, kernel: 3)
                    parts.append(g.conv("\(prefix).conv\(k)", conv.weight, conv.bias, input, activation: k == 5 ? .none : lrelu))
                }
                h = g.add(prefix, .add(scales: [0.2, 1]), [parts[5], h])
            }
            h = g.add("body.\(n)", .add(scales: [0.2, 1]), [h, blockInput])
        }
        let body = try dict.conv("conv_body", cOut: nf, cIn: nf, kernel: 3)
        let bodyOut = g.conv("conv_body", body.weight, body.bias, h)
        h = g.add("trunk", .add(scales: [1, 1]), [feat, bodyOut])
        for k in stride(from: 1, through: ups, by: 1) {
            let up = try dict.conv("conv_up\(k)", cOut: nf, cIn: nf, kernel: 3)
            h = g.upsampledConv("conv_up\(k)", up.weight, up.bias, h, activation: lrelu)
        }
        let hr = try dict.conv("conv_hr", cOut: nf, cIn: nf, kernel: 3)
        h = g.conv("conv_hr", hr.weight, hr.bias, h, activation: lrelu)
        let last = try dict.conv("conv_last", cOut: 3, cIn: nf, kernel: 3)
        _ = g.conv("conv_last", last.weight, last.bias, h)   // the output node: the last one added
        try dict.refuseUnread()
        var meta = metadata
        meta["architecture"] = "RRDBNet"
        meta["description"] = (meta["description"] ?? "") + " RRDBNet: \(blocks) blocks, \(nf) features, growth \(gc)."
        return try g.model(scale: scale, metadata: meta)
    }
}
