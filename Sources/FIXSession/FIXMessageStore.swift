/// Why the message store failed; the session drops the connection rather than go on unpersisted.
public struct FIXStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed.
    public var reason: String

    /// An error saying `reason`.
    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// Where a session keeps its sequence numbers and the messages it sent, so that a resend can answer
/// with them and a restart goes on where it stopped.
///
/// Called only by the session that owns it, from one thread at a time. Every mutating call is durable
/// when it returns (for stores that persist); a thrown error means nothing was changed.
public protocol FIXMessageStore: AnyObject {
    /// The sequence number the next sent message gets.
    var nextSenderSeqNum: Int { get }
    /// The sequence number the next received message should have.
    var nextTargetSeqNum: Int { get }
    /// Sets the next received sequence number.
    func setNextTargetSeqNum(_ value: Int) throws(FIXStoreError)
    /// Sets the next sent sequence number.
    func setNextSenderSeqNum(_ value: Int) throws(FIXStoreError)
    /// Keeps a sent message under `seqNum` and sets the next sender sequence number to `seqNum + 1`.
    func saveSent(_ message: [UInt8], seqNum: Int) throws(FIXStoreError)
    /// The sent messages with sequence numbers in `range`, in ascending order.
    func sentMessages(in range: ClosedRange<Int>) throws(FIXStoreError) -> [(seqNum: Int, message: [UInt8])]
    /// Forgets every message and starts both sequence numbers at 1.
    func reset() throws(FIXStoreError)
}

/// A store in memory: what a session needs when nothing has to survive the process.
public final class FIXMemoryStore: FIXMessageStore {
    public private(set) var nextSenderSeqNum = 1
    public private(set) var nextTargetSeqNum = 1
    private var sent: [Int: [UInt8]] = [:]

    /// An empty store, both sequence numbers at 1.
    public init() {}

    public func setNextTargetSeqNum(_ value: Int) { nextTargetSeqNum = value }
    public func setNextSenderSeqNum(_ value: Int) { nextSenderSeqNum = value }

    public func saveSent(_ message: [UInt8], seqNum: Int) {
        sent[seqNum] = message
        nextSenderSeqNum = seqNum + 1
    }

    public func sentMessages(in range: ClosedRange<Int>) -> [(seqNum: Int, message: [UInt8])] {
        if range.count < sent.count {
            return range.compactMap { seqNum in sent[seqNum].map { (seqNum, $0) } }
        }
        return sent.filter { range.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public func reset() {
        sent.removeAll()
        nextSenderSeqNum = 1
        nextTargetSeqNum = 1
    }
}
