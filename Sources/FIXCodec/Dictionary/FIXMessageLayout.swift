/// What one level of a message may hold: the fields of a message body, of the header or trailer, or
/// of one entry of a repeating group. Components are expanded into their fields when loaded.
public struct FIXMessageLayout: Sendable {
    /// Every tag allowed at this level, group count tags included (not the fields inside groups).
    public internal(set) var allowed: Set<Int> = []
    /// ``allowed`` as a bitmap, for the validator's hot path (built when the dictionary is loaded).
    public internal(set) var allowedTags = FIXTagSet()
    /// The required tags, in ascending order (the order QuickFIX reports the first one missing in).
    public var required: [Int] = []
    /// The tags in the dictionary's order, for encoding a group entry as defined.
    public var order: [Int] = []
    /// The repeating groups at this level, by their count tag.
    public var groups: [Int: FIXGroupLayout] = [:]

    /// Whether `tag` may appear at this level.
    @inline(__always)
    public func allows(_ tag: Int) -> Bool { allowedTags.contains(tag) }
}

/// A repeating group: its count tag, the tag that starts each entry, and what an entry may hold.
public struct FIXGroupLayout: Sendable {
    /// The NumInGroup tag that counts the entries.
    public var countTag: Int
    /// The first field of every entry.
    public var delimiter: Int
    /// The fields of one entry.
    public var entry: FIXMessageLayout
}
