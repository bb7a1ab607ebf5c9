// The output size a user asks for (--width, --height, --outscale, --resize), the exact target it
// makes for an input, and the smallest model scale that reaches it. Pure integer geometry: the
// resampling is LanczosRowWriter's.
//
//   factor F         (round(F·W), round(F·H))
//   width W'         (W', round(W'·H/W))              the aspect ratio kept
//   height H'        (round(H'·W/H), H')
//   exact W'×H'      (W', H')                         the aspect ratio as asked
//   fit W'×H'        the largest of width W' and height H' that fits in W'×H'
// Every side is at least 1. A model of scale s reaches a target when s·W ≥ W' and s·H ≥ H': the
// model's output is then reduced (or kept) to the target, never enlarged by the resampler.

import Foundation

/// An output size request, resolved against each input's size.
public enum OutputSize: Sendable, Equatable, CustomStringConvertible {
    case factor(Double)
    case width(Int)
    case height(Int)
    case exact(width: Int, height: Int)
    case fit(width: Int, height: Int)

    /// The target for a `width`×`height` input.
    public func target(width: Int, height: Int) -> (width: Int, height: Int) {
        func side(_ value: Double) -> Int { max(1, Int(min(value.rounded(), Double(Int.max / 4)))) }
        let (w, h) = (Double(width), Double(height))
        switch self {
        case .factor(let f): return (side(f * w), side(f * h))
        case .width(let tw): return (tw, side(Double(tw) * h / w))
        case .height(let th): return (side(Double(th) * w / h), th)
        case .exact(let tw, let th): return (tw, th)
        case .fit(let tw, let th):
            return Double(tw) / w <= Double(th) / h ? (tw, min(th, side(Double(tw) * h / w)))
                                                    : (min(tw, side(Double(th) * w / h)), th)
        }
    }

    /// How much an exact target changes the input's aspect ratio: |(W'/H') / (W/H) − 1|; 0 for the
    /// requests that keep it.
    public func aspectChange(width: Int, height: Int) -> Double {
        guard case .exact(let tw, let th) = self else { return 0 }
        return abs((Double(tw) / Double(th)) / (Double(width) / Double(height)) - 1)
    }

    /// The smallest of `scales` that reaches `target` from a `width`×`height` input, or nil.
    public static func smallestScale(reaching target: (width: Int, height: Int), width: Int, height: Int,
                                     among scales: [Int]) -> Int? {
        scales.sorted().first { reaches(scale: $0, target: target, width: width, height: height) }
    }

    /// A model of `scale` makes at least the target's size.
    public static func reaches(scale: Int, target: (width: Int, height: Int), width: Int, height: Int) -> Bool {
        scale * width >= target.width && scale * height >= target.height
    }

    /// Throws, before anything is read past the header, when a model of `scale` cannot make the
    /// `target` from an `input`-sized image (the resampler only reduces), when the target has more
    /// pixels than `maxPixels`, or when `format` cannot hold it (WebP: 16383 per side).
    public static func check(target: (width: Int, height: Int), scale: Int, input: (width: Int, height: Int),
                             format: ImageFormat, maxPixels: Int, path: String) throws {
        guard reaches(scale: scale, target: target, width: input.width, height: input.height) else {
            let needed = max(Double(target.width) / Double(input.width), Double(target.height) / Double(input.height))
            throw ImageIOError(path: path, message: "a \(target.width)×\(target.height) output from this "
                + "\(input.width)×\(input.height) image is ×\(String(format: "%.2f", needed)), more than the model's ×\(scale); "
                + "pick a model of a larger scale or ask for a smaller size", kind: .unsupported)
        }
        let (pixels, overflow) = target.width.multipliedReportingOverflow(by: target.height)
        guard !overflow, pixels <= maxPixels else {
            throw ImageIOError(path: path, message: "the \(target.width)×\(target.height) output would have more "
                               + "than the limit of \(maxPixels) pixels; ask for a smaller size", kind: .overPixelLimit)
        }
        if format == .webp { try WebPRowWriter.checkSize(width: target.width, height: target.height, path: path) }
    }

    /// `--resize` as ImageMagick geometry: `3000x` (width), `x2000` (height), `3000x2000` (fit in
    /// the box, aspect kept), `3000x2000!` (exactly), `150%` (factor). Nil when it is none of these
    /// or a size is not a positive whole number.
    public init?(resize text: String) {
        let spec = text.trimmingCharacters(in: .whitespaces)
        if spec.hasSuffix("%") {
            guard let percent = Double(spec.dropLast()), percent.isFinite, percent > 0 else { return nil }
            self = .factor(percent / 100)
            return
        }
        let exact = spec.hasSuffix("!")
        let body = exact ? spec.dropLast() : Substring(spec)
        let parts = body.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        func number(_ part: Substring) -> Int?? {
            if part.isEmpty { return .some(nil) }
            guard part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber), let value = Int(part), value > 0 else { return nil }
            return .some(value)
        }
        guard let w = number(parts[0]), let h = number(parts[1]) else { return nil }
        switch (w, h) {
        case (let w?, nil) where !exact: self = .width(w)
        case (nil, let h?) where !exact: self = .height(h)
        case (let w?, let h?): self = exact ? .exact(width: w, height: h) : .fit(width: w, height: h)
        default: return nil
        }
    }

    /// What default output names say instead of the model's `x<scale>`: `x1.5`, `w3000`,
    /// `h2000`, `3000x2000` (exact or fit), so that the name tells what was asked for.
    public var nameTag: String {
        switch self {
        case .factor(let f):
            // Up to 4 decimals, trailing zeros dropped: 2 → "x2", 1.5 → "x1.5", 1/3 → "x0.3333".
            var digits = String(format: "%.4f", f)
            while digits.hasSuffix("0") { digits.removeLast() }
            if digits.hasSuffix(".") { digits.removeLast() }
            return "x" + digits
        case .width(let w): return "w\(w)"
        case .height(let h): return "h\(h)"
        case .exact(let w, let h), .fit(let w, let h): return "\(w)x\(h)"
        }
    }

    public var description: String {
        switch self {
        case .factor(let f): return "×\(f)"
        case .width(let w): return "width \(w)"
        case .height(let h): return "height \(h)"
        case .exact(let w, let h): return "\(w)×\(h)"
        case .fit(let w, let h): return "within \(w)×\(h)"
        }
    }
}

extension ImageMetadata {
    /// The metadata of this image resized from `fromWidth` to `toWidth` pixels across: the pixel
    /// density scaled by the same ratio (rounded), so the picture keeps its print size.
    public func resized(fromWidth: Int, toWidth: Int) -> ImageMetadata {
        var result = self
        if let density, density.unit != .none {
            let ratio = Double(toWidth) / Double(fromWidth)
            let (x, y) = (Double(density.x) * ratio, Double(density.y) * ratio)
            result.density = x < Double(Int32.max) && y < Double(Int32.max)
                ? PixelDensity(x: max(1, Int(x.rounded())), y: max(1, Int(y.rounded())), unit: density.unit) : nil
        }
        return result
    }
}
