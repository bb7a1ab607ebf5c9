// How one run of the stack goes: tile size, threads, TTA, progress and cancellation.

/// How `Model.upscale` and `Model.stackOutput` run.
public struct RunOptions {
    /// Input pixels per tile side (the output tile is `scale ×` that).
    public var tileSize = RunOptions.standardTileSize
    /// The tile edge of small models; `Model.defaultTileSize` grows it for deep stacks.
    public static let standardTileSize = 256
    /// Worker threads for every parallel loop of the run: tiles, convolutions, resizing, colour
    /// and clamps. The result is bit-identical for any value.
    public var threads = Threading.coreCount
    /// Test-time augmentation: run the 8 flips/rotations and average them.
    public var tta = false
    /// Called after each finished tile, serialised (never two calls at once), with tilesDone increasing.
    /// With `tta`, tilesTotal counts the tiles of all 8 passes.
    public var progress: ((_ tilesDone: Int, _ tilesTotal: Int) -> Void)? = nil
    /// Polled before each tile; when it returns true the run stops promptly and throws `CancellationError`.
    public var isCancelled: (() -> Bool)? = nil

    public init() {}
}
