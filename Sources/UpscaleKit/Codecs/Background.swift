// Alpha onto a background, for outputs that have no alpha channel (JPEG).
//
//   out = colour · alpha + background · (1 − alpha)      per channel, in [0, 1] floats
//
// Colour and alpha are straight (not premultiplied), as PNG stores them. A gray image on a
// background that is not gray becomes RGB: its gray value g is the RGB (g, g, g).

/// An opaque 8-bit sRGB colour that transparent pixels are composited onto.
public struct Background: Sendable, Equatable, CustomStringConvertible {
    public var red: UInt8, green: UInt8, blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let white = Background(red: 255, green: 255, blue: 255)
    public static let black = Background(red: 0, green: 0, blue: 0)

    /// `white`, `black` (any case), `#rrggbb` or `#rgb` (hexadecimal, any case); nil otherwise.
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "white": self = .white
        case "black": self = .black
        default:
            guard text.hasPrefix("#"), text.count == 4 || text.count == 7,
                  text.dropFirst().allSatisfy(\.isHexDigit), let value = Int(text.dropFirst(), radix: 16) else { return nil }
            if text.count == 4 {  // #rgb = #rrggbb with each digit doubled
                let (r, g, b) = (value >> 8, value >> 4 & 0xF, value & 0xF)
                self.init(red: UInt8(r * 17), green: UInt8(g * 17), blue: UInt8(b * 17))
            } else {
                self.init(red: UInt8(value >> 16), green: UInt8(value >> 8 & 0xFF), blue: UInt8(value & 0xFF))
            }
        }
    }

    public var isGray: Bool { red == green && green == blue }

    /// "#rrggbb".
    public var description: String {
        "#" + [red, green, blue].map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// The colour channels of a band composited onto this background: `outputChannels` 1 (gray
    /// band, gray background) or 3.
    /// - Parameters: `band` color (1, C, rows, W) with alpha (1, 1, rows, W).
    /// - Returns: (1, outputChannels, rows, W).
    func composite(_ band: ImageBand, outputChannels: Int) -> Tensor {
        guard let alpha = band.alpha else { preconditionFailure("composite needs alpha") }
        let (c, rows, w) = (band.color.shape[1], band.color.shape[2], band.color.shape[3])
        precondition(outputChannels == 3 || (c == 1 && isGray), "a gray output needs a gray band and background")
        let plane = rows * w
        let background = [red, green, blue].map { Float($0) / 255 }
        return Tensor(shape: [1, outputChannels, rows, w]) { out in
            band.color.withUnsafeBufferPointer { color in
                alpha.withUnsafeBufferPointer { a in
                    for k in 0..<outputChannels {
                        let src = color.baseAddress! + (c == 1 ? 0 : k) * plane   // gray: the same plane for R, G, B
                        let bg = background[k]
                        for i in 0..<plane { out[k * plane + i] = src[i] * a[i] + bg * (1 - a[i]) }
                    }
                }
            }
        }
    }
}
