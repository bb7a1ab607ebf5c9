import ArgumentParser
import UpscaleKit

@main
struct Upscale: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upscale",
        abstract: "Upscale PNG and JPEG images with a small neural network.",
        discussion: """
        Without a subcommand, upscale runs `upscale run`: see `upscale run --help` for every option.

        Examples:
          upscale photo.png                      writes photo_x2.png beside it
          upscale photo.jpg -s 4 -o big.png      4x, written as PNG
          upscale photos/ -r -o out/             a folder tree, mirrored in out/
          upscale photos/ -o out/ --shard 3/8    the 3rd of 8 parts (one machine of 8)
          upscale - -f png < in.png > out.png    stdin to stdout
          upscale models                         the built-in models
          upscale info weights.bin               a weights file's layers and metadata
          upscale import m.param -o m.bin        another tool's model as a weights file

        Exit status: 0 all inputs done or skipped, 1 any input failed, 64 bad usage, 130 interrupted.
        """,
        version: "0.1.0",
        subcommands: [RunCommand.self, ModelsCommand.self, InfoCommand.self, EvalCommand.self, ImportCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
