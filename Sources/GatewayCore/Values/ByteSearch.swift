/// Where a run of bytes first occurs in text read by hand (a request line, a checkpoint). A plain scan:
/// `Data.firstRange(of:)` and the standard library's generic `firstRange(of:)` took about 2 µs and 30 heap
/// allocations a request line, this some 40 ns; libc's `memmem` is a GNU extension that Swift's `Glibc`
/// module leaves out.
public enum ByteSearch {
    /// The index just past the first `needle` in `bytes` at or after `start`, or nil.
    @inlinable
    public static func end(of needle: [UInt8], in bytes: UnsafeRawBufferPointer, from start: Int = 0) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count, start >= 0, start <= bytes.count - needle.count else {
            return nil
        }
        for index in start...(bytes.count - needle.count) where bytes[index] == needle[0] {
            var matched = 1
            while matched < needle.count, bytes[index + matched] == needle[matched] { matched += 1 }
            if matched == needle.count { return index + needle.count }
        }
        return nil
    }
}
