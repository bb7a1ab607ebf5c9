// The fast conv_transpose2d kernel. (Placeholder body: the reference; the SIMD kernel replaces it.)

enum ConvTranspose2DFast {
    /// input (N, Cin, H, W), weight (Cin, Cout/g, kH, kW), bias (Cout) -> output (N, Cout, Hout, Wout)
    static func run(_ g: ConvTranspose2DGeometry, input: [Float], weight: [Float], bias: [Float]?,
                    threads: Int) -> [Float] {
        ConvTranspose2DReference.run(g, input: input, weight: weight, bias: bias)
    }
}
