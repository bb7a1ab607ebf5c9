import Foundation
import Testing

/// Usage errors, help text and `info` errors: the parts of the CLI that need no image.
@Suite struct CLIUsageTests {
    @Test func helpTextIsPinned() throws {
        // Changing the help is fine; this makes it a deliberate change. Update docs/cli.md with it.
        let root = try CLI.run(["--help"])
        #expect(root.status == 0)
        #expect(root.stdoutText == Self.rootHelp + "\n")
        let run = try CLI.run(["run", "--help"])
        #expect(run.status == 0)
        #expect(run.stdoutText == Self.runHelp + "\n")
    }

    @Test(arguments: [
        (["--bogus", "a.png"], "Unknown option '--bogus'"),
        ([], "Give at least one input"),
        (["a.png", "-s", "5"], "The scale must be 1, 2, 3 or 4"),
        (["a.png", "-s", "1"], "only denoises: add --denoise"),
        (["a.png", "--shard", "0/3"], "between 1 and 3"),
        (["a.png", "--shard", "two"], "not of the form I/N"),
        (["a.png", "--overwrite", "--skip-existing"], "not both"),
        (["a.png", "-q", "0"], "between 1 and 100"),
        (["a.png", "--png-level", "10"], "between 0 and 9"),
        (["a.png", "-f", "gif"], "png, jpg or webp"),
        (["a.png", "-t", "4"], "at least 16"),
        (["a.png", "-j", "0"], "at least 1"),
        (["a.png", "--json", "-o", "-"], "both write to stdout"),
        (["-", "--json"], "both write to stdout"),
        (["eval", "-m", "x2", "-s", "3", "."], "does not upscale by 3"),
        (["help", "bogus"], "'bogus' is not a subcommand"),
        (["-", "a.png"], "on its own"),
    ])
    func badUsageExits64WithASentence(arguments: [String], message: String) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func infoOnABadFileExits1AndNamesIt() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = dir + "/bad.bin"
        try Data("this is not a weights file".utf8).write(to: URL(fileURLWithPath: bad))
        let result = try CLI.run(["info", bad])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.bin"), "\(result.stderr)")
        let missing = try CLI.run(["info", dir + "/missing.bin"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("missing.bin"), "\(missing.stderr)")
    }

    static let rootHelp = """
OVERVIEW: Upscale PNG and JPEG images with a small neural network.

Without a subcommand, upscale runs `upscale run`: see `upscale run --help` for
every option.

Examples:
  upscale photo.png                      writes photo_x2.png beside it
  upscale photo.jpg -s 4 -o big.png      4x, written as PNG
  upscale photos/ -r -o out/             a folder tree, mirrored in out/
  upscale photos/ -o out/ --shard 3/8    the 3rd of 8 parts (one machine of 8)
  upscale - -f png < in.png > out.png    stdin to stdout
  upscale models                         the built-in models
  upscale info weights.bin               a weights file's layers and metadata
  upscale import m.param -o m.bin        another tool's model as a weights file

Exit status: 0 all inputs done or skipped, 1 any input failed, 64 bad usage,
130 interrupted.

USAGE: upscale <subcommand>

OPTIONS:
  --version               Show the version.
  -h, --help              Show help information.

SUBCOMMANDS:
  run (default)           Upscale image files and folders (the default
                          subcommand).
  models                  List the built-in models with their scale, size, cost
                          and measured quality.
  info                    Show a weights file's scale, metadata and layer
                          table, or why it cannot be loaded.
  eval                    Measure a model's PSNR and SSIM against bicubic on a
                          folder of high-resolution images.
  import                  Convert an ncnn (.param + .bin) or PyTorch (.pth)
                          model into an upscale weights file.

  See 'upscale help <subcommand>' for detailed help.
"""

    static let runHelp = """
OVERVIEW: Upscale image files and folders (the default subcommand).

One file is written to -o FILE, or beside the input as NAME_x2.EXT. Several
inputs or a folder are written into the folder -o names, keeping their names
(and, with -r, their subfolders). Existing outputs are refused unless
--overwrite or --skip-existing is given.

Examples:
  upscale photo.png                       writes photo_x2.png
  upscale photo.jpg -m x4 -o big.png      4x, written as PNG
  upscale a.png b.jpg -o out/             into out/a.png, out/b.jpg
  upscale photos/ -r -o out/ --skip-existing
  upscale photos/ -o out/ --shard 2/4 --json > part2.json
  upscale - -f png < small.png > big.png
  upscale photo.jpg --width 3000 -o big.webp
                                          3000 px wide: the smallest model
                                          reaching it, then Lanczos-resized
  upscale art.png -m x4 --outscale 2      the x4 model, resized to x2

USAGE: upscale run [<options>] [<input> ...]

ARGUMENTS:
  <input>                 Image files (.png, .jpg, .jpeg, .webp) or folders; -
                          reads one image from stdin.

MODEL:
  -m, --model <name|path> A built-in model (x2, x3, x4) or a weights file;
                          default x2.
  -s, --scale <n>         Use the built-in model for this scale (2, 3 or 4).
  --denoise <0-3>         Use the built-in model trained for compressed, noisy
                          photos at this level: 1 light, 2 medium, 3 strong
                          (JPEG quality about 80-95, 45-90, 25-75); 0 is the
                          clean model. `upscale models` lists the levels built
                          in. (default: 0)

OUTPUT:
  -o, --output <path>     The output file for one input, or the output folder
                          for several (created if missing); - is stdout.
  -f, --format <png|jpg|webp>
                          The output format, png, jpg or webp; default the
                          output's extension, else the input's.
  -q, --quality <1-100>   JPEG or lossy WebP quality from 1 to 100 (default 95
                          for JPEG, 75 for WebP as cwebp).
  --lossless              Write WebP outputs lossless (-q is then how hard
                          libwebp compresses).
  --png-level <0-9>       Compress PNG outputs with zlib at this level (0-9);
                          6-9 give the smallest files, slower; default:
                          upscale's fast encoder.
  --background <color>    What JPEG outputs show under transparent pixels:
                          white, black, #rrggbb or #rgb (default white).
  --overwrite             Replace outputs that already exist.
  --skip-existing         Leave inputs whose output already exists alone
                          (resumes a stopped batch).

SIZE:
  --width <pixels>        The output width in pixels; alone it keeps the aspect
                          ratio (the model is run, then Lanczos-3 resized).
  --height <pixels>       The output height in pixels; alone it keeps the
                          aspect ratio.
  --outscale <factor>     Scale the output by this factor, e.g. 1.5, or 2 with
                          a x4 model (the smallest model reaching it is run).
  --resize <geometry>     An ImageMagick-style size: 3000x (width), x2000
                          (height), 3000x2000 (fit inside), 3000x2000!
                          (exactly), 150%.

INPUT:
  -r, --recursive         Walk subfolders of folder inputs and mirror them in
                          the output folder.
  --no-orient             Ignore the EXIF orientation of JPEG inputs.
  --max-pixels <n>        Refuse inputs with more pixels than this (default
                          1073741824).
  --shard <I/N>           Process only part I of N of the sorted input list, 1
                          <= I <= N (for job arrays).

ENGINE:
  -t, --tile <n>          The tile edge in input pixels; smaller tiles use less
                          memory (default 256, larger for deep models).
  -j, --threads <n>       The number of worker threads (default: all cores).
  --tta                   Average 8 flipped and rotated runs: slightly better,
                          8 times slower.
  --max-memory <size>     Refuse inputs whose upscale would hold more memory
                          than this, e.g. 512M, 4G or bytes (default: half the
                          physical memory, less under a container's limit or
                          ulimit -v).

REPORTING:
  --quiet                 Print nothing but errors.
  --verbose               Print skipped files, the model, and one line per file.
  --json                  Print a JSON report of every file and the totals on
                          stdout.
  --dry-run               Print the planned input and output paths and exit
                          without reading any image.

OPTIONS:
  --version               Show the version.
  -h, --help              Show help information.

"""
}
