// The reference conv_transpose2d: the scatter definition, one multiply-add per tap, no tricks.
// Kept as the algorithmic oracle for the fast kernel; see ConvTranspose2D.swift for the math.

enum ConvTranspose2DReference {
    /// input (N, Cin, H, W), weight (Cin, Cout/g, kH, kW), bias (Cout) -> output (N, Cout, Hout, Wout)
    static func run(_ g: ConvTranspose2DGeometry, input: [Float], weight: [Float], bias: [Float]?) -> [Float] {
        let (cInG, cOutG) = (g.inChannelsPerGroup, g.outChannelsPerGroup)
        let (H, W, kH, kW, oH, oW) = (g.inHeight, g.inWidth, g.kernelHeight, g.kernelWidth, g.outHeight, g.outWidth)
        var out = [Float](repeating: 0, count: g.batch * g.outChannels * oH * oW)
        for n in 0..<g.batch {
            for grp in 0..<g.groups {
                for ci in 0..<cInG {
                    let cIn = grp * cInG + ci
                    for h in 0..<H {
                        for w in 0..<W {
                            let x = input[((n * g.inChannels + cIn) * H + h) * W + w]
                            for co in 0..<cOutG {
                                let cOut = grp * cOutG + co
                                for kh in 0..<kH {
                                    let oh = h * g.strideH - g.padH + kh * g.dilationH
                                    if oh < 0 || oh >= oH { continue }
                                    for kw in 0..<kW {
                                        let ow = w * g.strideW - g.padW + kw * g.dilationW
                                        if ow < 0 || ow >= oW { continue }
                                        out[((n * g.outChannels + cOut) * oH + oh) * oW + ow] +=
                                            x * weight[((cIn * cOutG + co) * kH + kh) * kW + kw]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bias {
            for n in 0..<g.batch {
                for c in 0..<g.outChannels {
                    let base = (n * g.outChannels + c) * oH * oW
                    for i in 0..<(oH * oW) { out[base + i] += bias[c] }
                }
            }
        }
        return out
    }
}
