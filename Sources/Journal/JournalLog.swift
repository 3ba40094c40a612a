import Foundation
import Glibc

/// The journal's log: the file every batch of events is appended to, with one `pwrite` (and, when
/// durable, one `fdatasync`), before the batch is answered or acted on. A thread of the journal's own then
/// copies the events into SQLite's tables (`JournalIndexer`); at start, events the log holds and the
/// tables do not (the process died between the two) are copied before anything reads them.
///
/// Written by hand because no library offers what this is: an append-only file of our own records. A
/// SQLite commit of one batch wrote about eight WAL frames (the row's page and one page per index, two
/// `pwrite`s each) and took the transaction's locks: about 110 µs of the engine's thread per commit on
/// the development machine, most of an acknowledgement, against a few microseconds for one `pwrite` here.
///
/// A frame is the event's canonical bytes (docs/journal.md, the hash chain) after their length as a 4-byte
/// big-endian integer, followed by the event's 32-byte link in the hash chain. The link is the frame's
/// check: a torn frame, or one left from before the file was last emptied, does not link to the event
/// before it, and reading stops there.
///
/// The file is written ahead of need with zeros (when the journal opens it, and 64 KiB at a time should
/// a burst outrun that), and reused from its start once the
/// tables hold everything in it: an append then overwrites blocks the file already has, so that its
/// `fdatasync` writes the data alone, not the file's new size as well (which cost about twice as much on
/// the development machine). What follows the last frame (zeros, or frames from before the file was
/// reused) never links to it, so reading stops there.
///
/// Used by one thread at a time (the journal's append lock).
final class JournalLog {
    let path: String
    private var fd: Int32
    /// Bytes of frames written since the file was last reused; the next frame is written here.
    private(set) var size: Int64 = 0
    /// The file's length: written ahead of `size`.
    private var allocated: Int64
    /// How much the file grows by at a time.
    static let growth = 1 << 16

    /// The largest frame read back: a length beyond it is not a frame.
    static let largestFrame = 64 << 20
    /// For tests: the next append's `fdatasync` fails (`EIO`) after its bytes were written, as a failing
    /// disk's would.
    var failNextSync = false

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError("cannot open the journal's log \(path): \(Self.errorText())") }
        // One journal writes a log at a time: a second one would copy the first's events into the tables
        // under it and reuse the file beneath it.
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let problem = errno == EWOULDBLOCK ? "another gatewayd has this journal open" : Self.errorText()
            Glibc.close(fd)
            throw JournalError("cannot take the journal's log \(path): \(problem)")
        }
        var stats = stat()
        guard fstat(fd, &stats) == 0 else { throw JournalError("cannot read the journal's log: \(Self.errorText())") }
        allocated = Int64(stats.st_size)
    }

    deinit { close() }

    /// Closes the file, letting another journal open it.
    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    /// Appends `record`'s frame to `bytes` — its canonical bytes' length, the bytes, and its link in the
    /// chain after `previous` — and returns that link. The canonical bytes are written into `bytes` and
    /// hashed where they lie.
    static func appendFrame(of record: JournalRecord, after previous: ChainHash, to bytes: inout [UInt8]) -> ChainHash {
        let start = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        HashChain.appendCanonicalBytes(of: record, to: &bytes)
        let length = bytes.count - start - 4
        withUnsafeBytes(of: UInt32(length).bigEndian) { bytes.replaceSubrange(start..<start + 4, with: $0) }
        let hash = bytes.withUnsafeBytes { buffer in
            HashChain.link(after: previous, canonical: UnsafeRawBufferPointer(rebasing: buffer[(start + 4)...]))
        }
        hash.withUnsafeBytes { bytes.append(contentsOf: $0) }
        return hash
    }

    /// The frames of the file from its start, as far as they can be read whole: the events, their links,
    /// and where each frame ends. Sets `size` to the end of the last one.
    func readFrames() throws -> [(record: JournalRecord, hash: Data, end: Int64)] {
        var contents = [UInt8](repeating: 0, count: Int(allocated))
        var done = 0
        while done < contents.count {
            let read = contents.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(done))
            }
            if read < 0, errno == EINTR { continue }
            guard read > 0 else {
                if read == 0 { break }
                throw JournalError("cannot read the journal's log: \(Self.errorText())")
            }
            done += read
        }
        var frames: [(record: JournalRecord, hash: Data, end: Int64)] = []
        var offset = 0
        while offset + 4 <= done {
            let length = contents[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let end = offset + 4 + length + 32
            guard length > 0, length <= Self.largestFrame, end <= done,
                let record = HashChain.record(fromCanonical: contents[offset + 4..<offset + 4 + length])
            else { break }
            frames.append((record, Data(contents[end - 32..<end]), Int64(end)))
            offset = end
        }
        size = frames.last?.end ?? 0
        return frames
    }

    /// Writes `bytes` after the last frame, then with `sync` waits for them to reach the disk. After a
    /// failure the journal appends nothing more (`EventJournal`), so a partly written frame is never
    /// followed by another.
    func append(_ bytes: [UInt8], sync: Bool) throws {
        if size + Int64(bytes.count) > allocated {
            try extend(to: size + Int64(bytes.count), sync: false)
        }
        do {
            try write(bytes[...], at: size)
            if sync, !syncData() {
                throw JournalError("cannot write the journal's log to the disk: \(Self.errorText())")
            }
        } catch {
            // The batch was refused: its first frame's length made zero, so that a start after this does
            // not read back the frames that did get written (best effort: the disk is failing).
            _ = try? write([0, 0, 0, 0][...], at: size)
            if sync { _ = fdatasync(fd) }
            throw error
        }
        size += Int64(bytes.count)
    }

    private func write(_ bytes: ArraySlice<UInt8>, at offset: Int64) throws {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                pwrite(fd, buffer.baseAddress! + written, buffer.count - written, off_t(offset) + off_t(written))
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { throw JournalError("cannot write the journal's log: \(Self.errorText())") }
            written += result
        }
    }

    /// Writes zeros from the file's end until it is at least `length` long (in steps of `growth`); with
    /// `sync`, waits for them to reach the disk. An append that had to grow the file waited for the new
    /// length to be written too: the journal grows it ahead, when it opens the file.
    func extend(to length: Int64, sync: Bool) throws {
        guard length > allocated else { return }
        let target = (length + Int64(Self.growth) - 1) / Int64(Self.growth) * Int64(Self.growth)
        let zeros = [UInt8](repeating: 0, count: Self.growth)
        while allocated < target {
            try write(zeros[..<Int(min(Int64(zeros.count), target - allocated))], at: allocated)
            allocated = min(target, allocated + Int64(zeros.count))
        }
        if sync, fdatasync(fd) != 0 {
            throw JournalError("cannot write the journal's log to the disk: \(Self.errorText())")
        }
    }

    /// Writes the next frame at `offset`, keeping the file's length: what lies after it is never read.
    func rewind(to offset: Int64) {
        size = offset
    }

    /// Empties the log, keeping the file's length: its first frame's length made zero, so that nothing
    /// after it is read, and synced.
    func empty() throws {
        try write([0, 0, 0, 0][...], at: 0)
        guard fdatasync(fd) == 0 else {
            throw JournalError("cannot write the journal's log to the disk: \(Self.errorText())")
        }
        size = 0
    }

    private func syncData() -> Bool {
        if failNextSync {
            failNextSync = false
            errno = EIO
            return false
        }
        return fdatasync(fd) == 0
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
