/// Finds whole messages in a byte stream the way QuickFIX's parser does, without scanning a byte twice.
///
/// A message starts at `8=`; its BodyLength says where the body ends, and the message ends at the
/// first `<SOH>10=...<SOH>` from there. Bytes before `8=` are dropped. A BodyLength that is not a
/// number drops the buffered bytes and reports a garbled frame. A wrong but numeric BodyLength still
/// frames up to the next CheckSum, and the parser then refuses the message, as QuickFIX does.
///
/// Feed bytes with ``append(_:)`` and take frames with ``next()`` until it returns nil; a frame's
/// range stays valid until the next ``append(_:)``.
public struct FIXFramer: Sendable {
    /// What ``next()`` found.
    public enum Frame: Sendable, Hashable {
        /// A whole message at this range of ``buffer``.
        case message(Range<Int>)
        /// Bytes that cannot be a message; they were dropped.
        case garbled(String)
    }

    private enum Phase: Sendable {
        case seekingBegin
        case seekingLength
        case awaitingBody(bodyEnd: Int)
        case seekingCheckSum
    }

    /// The buffered bytes; frames are ranges of it.
    public private(set) var buffer: [UInt8] = []
    private var head = 0
    private var scan = 0
    private var phase = Phase.seekingBegin
    private var checkSumAt: Int?
    private let maximumBodyLength: Int

    /// A framer that refuses a BodyLength above `maximumBodyLength` (a garbled length, not a message).
    public init(maximumBodyLength: Int = 1 << 20) {
        self.maximumBodyLength = maximumBodyLength
        buffer.reserveCapacity(8192)
    }

    /// The number of bytes waiting for the rest of their message.
    public var bufferedCount: Int { buffer.count - head }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if head > 0, head >= buffer.count / 2 {
            buffer.removeSubrange(0..<head)
            scan -= head
            if case .awaitingBody(let end) = phase { phase = .awaitingBody(bodyEnd: end - head) }
            checkSumAt = checkSumAt.map { $0 - head }
            head = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole message or garbled run, or nil when more bytes are needed.
    public mutating func next() -> Frame? {
        while true {
            switch phase {
            case .seekingBegin:
                guard let begin = find("8=", from: max(scan, head)) else {
                    scan = max(head, buffer.count - 1)
                    return nil
                }
                head = begin
                scan = begin
                phase = .seekingLength
            case .seekingLength:
                guard let tag = find("\u{01}9=", from: scan) else {
                    scan = max(head, buffer.count - 2)
                    return nil
                }
                guard let soh = find("\u{01}", from: tag + 3) else {
                    scan = tag
                    return nil
                }
                guard let length = FIXFormat.integer(buffer[(tag + 3)..<soh]), length >= 0, length <= maximumBodyLength
                else {
                    let text = String(decoding: buffer[(tag + 3)..<soh], as: UTF8.self)
                    head = buffer.count
                    scan = head
                    phase = .seekingBegin
                    return .garbled("BodyLength is not a valid length: \(text)")
                }
                phase = .awaitingBody(bodyEnd: soh + 1 + length)
            case .awaitingBody(let bodyEnd):
                guard buffer.count >= bodyEnd else { return nil }
                scan = max(head, bodyEnd - 1)
                phase = .seekingCheckSum
            case .seekingCheckSum:
                if checkSumAt == nil {
                    guard let at = find("\u{01}10=", from: scan) else {
                        scan = max(scan, buffer.count - 3)
                        return nil
                    }
                    checkSumAt = at
                    scan = at + 4
                }
                guard let end = find("\u{01}", from: scan) else {
                    scan = max(scan, buffer.count)
                    return nil
                }
                let frame = head..<(end + 1)
                head = end + 1
                scan = head
                checkSumAt = nil
                phase = .seekingBegin
                return .message(frame)
            }
        }
    }

    private func find(_ pattern: StaticString, from start: Int) -> Int? {
        let bytes = pattern.utf8Start
        let count = pattern.utf8CodeUnitCount
        var index = start
        let limit = buffer.count - count
        guard index <= limit else { return nil }
        return buffer.withUnsafeBufferPointer { pointer -> Int? in
            let first = bytes[0]
            while index <= limit {
                if pointer[index] == first {
                    var matches = true
                    for offset in 1..<count where pointer[index + offset] != bytes[offset] {
                        matches = false
                        break
                    }
                    if matches { return index }
                }
                index += 1
            }
            return nil
        }
    }
}
