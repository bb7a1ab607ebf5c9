import ArgumentParser
import UpscaleKit

@main
struct Upscale: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Upscale PNG and JPEG images with a small neural network.")
    func run() throws {}
}
