// The tile workers' working memory: feature maps kept from tile to tile.

import Foundation

/// The working memory of one tile worker: the two feature maps a tile's layers write in turn
/// (layer l reads map (l − 1) % 2 and writes map l % 2; map 2 holds a padded tile input), kept from tile to tile and grown only
/// when a tile needs more. Fresh maps per tile and layer cost a quarter of the time of upconv_7's
/// layers run one by one (0.97 of 3.8 s was system time: page faults and the kernel zeroing pages).
final class TileScratch {
    private var maps: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []

    /// Maps of these sizes up front (grown later if a tile ever needs more).
    init(capacities: [Int]) {
        maps = capacities.map { Self.allocate(max(1, $0)) }
    }

    /// Map `index` (0 or 1: the layers' maps; 2: a padded tile input) with room for at least
    /// `count` floats; its previous contents are gone when it grows.
    func map(_ index: Int, count: Int) -> UnsafeMutablePointer<Float> {
        while maps.count <= index { maps.append(Self.allocate(1)) }
        if maps[index].capacity < count {
            maps[index].pointer.deallocate()
            maps[index] = Self.allocate(count)
        }
        return maps[index].pointer
    }

    private static func allocate(_ count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
        adviseHugePages(UnsafeMutableRawBufferPointer(start: raw, count: count * MemoryLayout<Float>.size))
        return (raw.bindMemory(to: Float.self, capacity: count), count)
    }

    deinit { for m in maps { m.pointer.deallocate() } }
}

/// The scratch of the tile workers of one run: each tile in progress holds one, so there are at
/// most as many as workers, and a worker's next tile reuses memory that is already mapped.
final class TileScratchPool: Sendable {
    private let idle = Locked<[TileScratch]>([])  // scratch no tile holds now
    private let capacities: [Int]

    /// Each worker's scratch starts with maps of `capacities` floats (see `scratchCapacities`).
    init(capacities: [Int]) {
        self.capacities = capacities
    }

    func withScratch<R>(_ body: (TileScratch) throws -> R) rethrows -> R {
        let scratch = idle.withLock { $0.popLast() } ?? TileScratch(capacities: capacities)
        defer { idle.withLock { $0.append(scratch) } }
        return try body(scratch)
    }
}
