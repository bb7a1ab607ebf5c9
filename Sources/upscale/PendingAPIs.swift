// TEMPORARY: stand-ins for the image I/O (branch imageio) and model (branch model) APIs, with the
// declared signatures, so the CLI builds before they land. Delete this file when `main` has them.
import Foundation
import UpscaleKit

enum ImageFormat: String { case png, jpeg }
struct ImageMetadata {}
struct RasterImage { var color: Tensor; var alpha: Tensor?; var bitDepth: Int; var metadata: ImageMetadata; var width: Int; var height: Int }
struct DecodeOptions { var applyOrientation = true; var maxPixels = 1 << 30 }
struct EncodeOptions { var format: ImageFormat?; var pngBitDepth: Int?; var pngCompressionLevel = 6; var jpegQuality = 95; var jpegProgressive = false; var overwrite = false }
struct ImageIOError: Error, CustomStringConvertible { var path: String; var message: String; var description: String { "\(path): \(message)" } }
enum ImageCodec {
    static func decode(path: String, options: DecodeOptions) throws -> RasterImage { throw ImageIOError(path: path, message: "image I/O is not merged yet.") }
    static func decode(bytes: [UInt8], name: String, options: DecodeOptions) throws -> RasterImage { throw ImageIOError(path: name, message: "image I/O is not merged yet.") }
    static func encode(_ image: RasterImage, to path: String, options: EncodeOptions) throws -> [String] { throw ImageIOError(path: path, message: "image I/O is not merged yet.") }
    static func encode(_ image: RasterImage, format: ImageFormat, options: EncodeOptions) throws -> [UInt8] { throw ImageIOError(path: "-", message: "image I/O is not merged yet.") }
}
enum AtomicFile { static func removeAllInFlight() {} }
enum ModelChannels { case rgb, y }
struct ModelError: Error, CustomStringConvertible { var description: String }
struct RunOptions { var tileSize = 256; var threads = 1; var tta = false; var progress: ((Int, Int) -> Void)?; var isCancelled: (() -> Bool)? }
final class Model {
    var scale = 2; var channels = ModelChannels.rgb; var layers: [String] = []; var metadata: [String: String] = [:]
    var parameterCount = 0; var macsPerOutputPixel = 0.0; var receptiveHalo = 0
    static func load(path: String) throws -> Model { throw ModelError(description: "\(path): model loading is not merged yet.") }
    init(bytes: [UInt8], name: String) throws { throw ModelError(description: "\(name): model loading is not merged yet.") }
    func upscale(color: Tensor, alpha: Tensor?, options: RunOptions) throws -> (color: Tensor, alpha: Tensor?) { throw ModelError(description: "not merged yet.") }
}
