// PyTorch `.pth` state dict → our model, for an architecture the user names (`--arch`): a state
// dict holds tensors and their names, not the network, so the architecture says how they chain.
//
//   srvgg     Real-ESRGAN's SRVGGNetCompact: body.0 conv 3×3 (padding 1), body.1 PReLU, …, the
//             last conv to 3·s² channels, PixelShuffle(s), plus the nearest upscale of the input
//   upconv7   waifu2x's upconv_7: six valid 3×3 convs with LeakyReLU 0.1, then ConvTranspose2d
//             4×4, stride 2, padding 3 (the image padded by 7 replicated pixels first)
//   vgg7      waifu2x's vgg_7: seven valid 3×3 convs, LeakyReLU 0.1 after all but the last
//             (padded by 7 too)
// The tensors are taken in the state dict's order and grouped by module (the name without its
// last part: `body.3.weight` → `body.3`); the module names themselves do not matter. A checkpoint
// that wraps the state dict (`{"params_ema": …}`, `{"params": …}`, `{"state_dict": …}`,
// `{"model": …}`) is unwrapped, preferring params_ema (Real-ESRGAN's published weights).

import Foundation

/// The architectures a `.pth` state dict can be imported as.
public enum PTHArchitecture: String, CaseIterable, Sendable {
    case srvgg, upconv7, vgg7

    var publishedName: String {
        switch self {
        case .srvgg: return "SRVGGNetCompact"
        case .upconv7: return "upconv_7"
        case .vgg7: return "vgg_7"
        }
    }
}

extension ModelImport {
    /// Imports a PyTorch state dict saved by torch.save as `architecture`.
    /// - Throws: `ImportError` naming the file, the entry or tensor, and what is supported.
    public static func pth(path: String, architecture: PTHArchitecture, options: ImportOptions = .init()) throws -> Model {
        let tensors = try stateDict(path: path)
        let network = try PTHNetwork.network(tensors, architecture: architecture, source: path)
        let file = (path as NSString).lastPathComponent
        return try assemble(network, files: [file], stem: file, options: options, source: path,
                            architecture: architecture.publishedName)
    }

    /// The named tensors of a `.pth`, in the state dict's order.
    static func stateDict(path: String) throws -> [(name: String, tensor: Tensor)] {
        let zip = try ZipArchive(bytes: try read(path), source: path)
        let pickles = zip.names.filter { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }
        guard pickles.count == 1, let pickleName = pickles.first else {
            throw ImportError(.syntax, "\(path): the archive holds \(pickles.count) data.pkl entries, expected 1 (not a torch.save file?)")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if zip.entries[prefix + "byteorder"] != nil {
            let order = String(decoding: try zip.data(prefix + "byteorder"), as: UTF8.self)
            guard order == "little" else {
                throw ImportError(.unsupported, "\(path): tensors stored \(order)-endian; supported: little-endian")
            }
        }
        let root = try StateDictPickle.load(try zip.data(pickleName), source: path)
        guard case .dict(var dict) = root else {
            throw ImportError(.architecture, "\(path): the pickle holds \(root.describe), not a state dict")
        }
        for wrapper in ["params_ema", "params", "state_dict", "model"] {
            if let inner = dict.pairs.first(where: { if case .string(wrapper) = $0.0 { return true }; return false }),
               case .dict(let d) = inner.1 {
                dict = d
                break
            }
        }
        var storages: [String: ArraySlice<UInt8>] = [:]
        return try dict.pairs.map { key, value in
            guard case .string(let name) = key else { throw ImportError(.architecture, "\(path): a state dict key is \(key.describe), not a name") }
            guard case .tensor(let t) = value else {
                throw ImportError(.architecture, "\(path): state dict entry \(name) is \(value.describe), not a tensor")
            }
            let storage = try storages[t.storageKey] ?? zip.data(prefix + "data/" + t.storageKey)   // CRC-checked once
            storages[t.storageKey] = storage
            return (name, try decode(t, storage, name: name, source: path))
        }
    }

    /// The tensor's values (float32, C order) from its storage's bytes, every index checked.
    static func decode(_ t: PickleTensor, _ storage: ArraySlice<UInt8>, name: String, source: String) throws -> Tensor {
        func fail(_ what: String) -> ImportError { ImportError(.blobSize, "\(source): tensor \(name): \(what)") }
        let width = t.storageType.byteCount
        guard t.storageCount <= storage.count / width else {
            throw fail("its storage claims \(t.storageCount) values but the archive entry holds \(storage.count) bytes")
        }
        guard t.size.count == t.stride.count, t.size.count <= 4,
              t.size.allSatisfy({ (0...ModelLimits.maxChannels).contains($0) }), t.stride.allSatisfy({ $0 >= 0 }), t.offset >= 0 else {
            throw fail("shape \(t.size) with strides \(t.stride) is not a tensor upscale can use (at most 4 dims of at most \(ModelLimits.maxChannels))")
        }
        let count = t.size.reduce(1, *)   // ≤ 4096⁴: no overflow
        guard count <= t.storageCount else {
            throw fail("shape \(t.size) has more values than its storage (\(t.storageCount)); supported: tensors that own their values")
        }
        if count > 0 {
            // The last element's index, offset + Σ (size − 1)·stride, with every step checked.
            var last = t.offset
            for (size, stride) in zip(t.size, t.stride) {
                let (step, o1) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, o2) = last.addingReportingOverflow(step)
                guard !o1, !o2 else { last = Int.max; break }
                last = sum
            }
            guard last < t.storageCount else { throw fail("its view (offset \(t.offset), shape \(t.size), strides \(t.stride)) reaches past its storage of \(t.storageCount) values") }
        }
        let base = storage.startIndex
        func value(_ index: Int) -> Float {
            let p = base + index * width
            switch t.storageType {
            case .float:
                return Float(bitPattern: UInt32(storage[p]) | UInt32(storage[p + 1]) << 8 | UInt32(storage[p + 2]) << 16 | UInt32(storage[p + 3]) << 24)
            case .half:
                return Float(Float16(bitPattern: UInt16(storage[p]) | UInt16(storage[p + 1]) << 8))
            case .bfloat16:
                return Float(bitPattern: (UInt32(storage[p]) | UInt32(storage[p + 1]) << 8) << 16)
            case .double:
                return Float(Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(storage[p + $1]) << (8 * UInt64($1)) }))
            }
        }
        var values = [Float]()
        values.reserveCapacity(count)
        var index = [Int](repeating: 0, count: t.size.count)   // walks the shape in C order
        for _ in 0..<count {
            values.append(value(t.offset + zip(index, t.stride).reduce(0) { $0 + $1.0 * $1.1 }))
            var d = index.count - 1
            while d >= 0 { index[d] += 1; if index[d] < t.size[d] { break }; index[d] = 0; d -= 1 }
        }
        return Tensor(shape: t.size, data: values)
    }
}

/// The state dict's tensors, grouped by module, read as one of the architectures.
enum PTHNetwork {
    struct Module {
        var name: String
        var weight: Tensor?
        var bias: Tensor?
    }

    static func modules(_ tensors: [(name: String, tensor: Tensor)], source: String) throws -> [Module] {
        var modules: [Module] = []
        for (name, tensor) in tensors {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            let module = parts.dropLast().joined(separator: ".")
            if modules.last?.name != module { modules.append(Module(name: module)) }
            switch parts.last {
            case "weight" where modules[modules.count - 1].weight == nil: modules[modules.count - 1].weight = tensor
            case "bias" where modules[modules.count - 1].bias == nil: modules[modules.count - 1].bias = tensor
            default:
                throw ImportError(.architecture, "\(source): unexpected tensor \(name) (expected module.weight and module.bias entries, each module's together)")
            }
        }
        return modules
    }

    static func network(_ tensors: [(name: String, tensor: Tensor)], architecture: PTHArchitecture, source: String) throws -> ImportedNetwork {
        func fail(_ what: String) -> ImportError {
            ImportError(.architecture, "\(source): not a state dict of \(architecture.publishedName) (--arch \(architecture.rawValue)): \(what)")
        }
        let modules = try modules(tensors, source: source)
        func conv(_ m: Module, kernel: Int, padding: Int) throws -> ImportStep {
            guard let w = m.weight, w.rank == 4, w.shape[2] == kernel, w.shape[3] == kernel else {
                throw fail("\(m.name).weight should be a \(kernel)×\(kernel) convolution weight, found shape \(m.weight?.shape ?? [])")
            }
            if let bias = m.bias, bias.shape != [w.shape[0]] {
                throw fail("\(m.name).bias has shape \(bias.shape), expected [\(w.shape[0])]")
            }
            return .conv(weight: w, bias: m.bias, padding: (padding, padding), dilation: (1, 1), name: m.name)
        }
        var network = ImportedNetwork()
        switch architecture {
        case .srvgg:
            // conv, PReLU, conv, PReLU, …, conv
            guard modules.count >= 3, modules.count % 2 == 1 else {
                throw fail("\(modules.count) modules; expected conv, PReLU pairs and a last conv (an odd count ≥ 3)")
            }
            for (i, m) in modules.enumerated() {
                if i % 2 == 0 {
                    network.steps.append(try conv(m, kernel: 3, padding: 1))
                } else {
                    guard let slopes = m.weight, slopes.rank == 1, m.bias == nil else {
                        throw fail("\(m.name) should be a PReLU (one weight vector, no bias); SRVGGNetCompact with act_type relu or leakyrelu has no tensors to tell them apart, supported: prelu")
                    }
                    network.steps.append(.activation(.prelu(slopes.data), name: m.name))
                }
            }
            let cOut = modules[modules.count - 1].weight?.shape[0] ?? 0   // checked by conv() above
            let s = Int(Double(cOut / 3).squareRoot().rounded())
            guard cOut % 3 == 0, s * s * 3 == cOut, s >= 1 else {
                throw fail("the last conv has \(cOut) output channels, not 3·s² for a scale s")
            }
            network.steps.append(.pixelShuffle(s, name: "upsampler"))
            network.nearestResidual = s
        case .upconv7, .vgg7:
            guard modules.count == 7 else {
                throw fail("\(modules.count) modules with weights (\(modules.map(\.name).joined(separator: ", "))); expected 7")
            }
            for (i, m) in modules.enumerated() {
                if i == 6 && architecture == .upconv7 {
                    guard let w = m.weight, w.rank == 4, w.shape[2] == 4, w.shape[3] == 4 else {
                        throw fail("\(m.name).weight should be the 4×4 ConvTranspose2d weight, found shape \(m.weight?.shape ?? [])")
                    }
                    network.steps.append(.deconv(weight: w, bias: m.bias, stride: (2, 2), padding: (3, 3), outputPadding: (0, 0),
                                                 dilation: (1, 1), name: m.name))
                } else {
                    network.steps.append(try conv(m, kernel: 3, padding: 0))
                    if i < 6 { network.steps.append(.activation(.leakyReLU(0.1), name: m.name)) }
                }
            }
        }
        return network
    }
}
