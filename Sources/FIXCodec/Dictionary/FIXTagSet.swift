/// A set of tags as a bitmap: membership in a few instructions, no hashing.
public struct FIXTagSet: Sendable, Hashable {
    private(set) var words: [UInt64]

    /// An empty set able to hold tags up to `maximumTag` (larger ones are never members).
    public init(maximumTag: Int = 0) {
        words = [UInt64](repeating: 0, count: max(0, maximumTag) / 64 + 1)
    }

    /// A set of `tags`.
    public init(_ tags: some Sequence<Int>) {
        let list = Array(tags)
        self.init(maximumTag: list.max() ?? 0)
        for tag in list { insert(tag) }
    }

    /// Whether `tag` is in the set.
    @inline(__always)
    public func contains(_ tag: Int) -> Bool {
        let word = tag >> 6
        guard tag >= 0, word < words.count else { return false }
        return words[word] & (1 << UInt64(tag & 63)) != 0
    }

    /// Adds `tag`, growing the set when it is beyond the current size.
    @inline(__always)
    public mutating func insert(_ tag: Int) {
        guard tag >= 0 else { return }
        let word = tag >> 6
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        words[word] |= 1 << UInt64(tag & 63)
    }

    /// Removes `tag`.
    @inline(__always)
    public mutating func remove(_ tag: Int) {
        let word = tag >> 6
        guard tag >= 0, word < words.count else { return }
        words[word] &= ~(1 << UInt64(tag & 63))
    }
}
