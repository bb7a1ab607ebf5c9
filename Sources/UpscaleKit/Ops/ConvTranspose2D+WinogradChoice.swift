// Placeholder until the Winograd kernel lands (branch `winograd` replaces this file): no layer runs
// as Winograd, so every layer's alignment is 1.

enum ConvTransposeWinograd {
    /// The output tile side m of a layer that runs as Winograd, or nil.
    static func tile(kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int), groups: Int,
                     inChannels: Int, outChannels: Int) -> Int? {
        nil
    }
}
