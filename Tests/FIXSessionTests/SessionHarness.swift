import FIXCodec
import FIXSession
import Foundation

/// A session under test with a clock the test moves, and helpers to speak to it in `tag=value|` text.
struct SessionHarness {
    static let fix42: FIXDictionary = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/fix/FIX42.xml")
        do { return try FIXDictionary(xml: String(contentsOf: url, encoding: .utf8)) } catch { fatalError("\(error)") }
    }()

    var session: FIXSession
    var now = FIXTimestamp(millisecondsSinceEpoch: 1_796_304_671_000)
    let store: FIXMemoryStore

    init(role: FIXSessionSettings.Role = .acceptor, configure: (inout FIXSessionSettings) -> Void = { _ in }) {
        let (sender, target) = role == .acceptor ? ("ISLD", "TW") : ("TW", "ISLD")
        var settings = FIXSessionSettings(
            beginString: "FIX.4.2", senderCompID: sender, targetCompID: target, role: role)
        configure(&settings)
        store = FIXMemoryStore()
        session = FIXSession(settings: settings, dictionary: Self.fix42, store: store)
    }

    mutating func advance(seconds: Double) { now.millisecondsSinceEpoch += Int64(seconds * 1000) }

    /// The counterparty's message: `body` after the CompIDs and SendingTime, e.g. "35=0|34=2|".
    func wire(_ msgType: String, _ seqNum: Int, _ body: String = "", sendingTime: FIXTimestamp? = nil) -> [UInt8] {
        var message = FIXMessage(msgType: msgType)
        message.append(34, seqNum)
        message.append(49, session.settings.targetCompID)
        message.append(52, (sendingTime ?? now).text)
        message.append(56, session.settings.senderCompID)
        for field in body.split(separator: "|") {
            let parts = field.split(separator: "=", maxSplits: 1)
            message.append(Int(parts[0])!, String(parts.count > 1 ? parts[1] : ""))
        }
        var encoder = FIXEncoder(beginString: "FIX.4.2")
        return encoder.encode(message)
    }

    mutating func receive(_ msgType: String, _ seqNum: Int, _ body: String = "") -> [FIXSessionAction] {
        var actions = session.received(wire(msgType, seqNum, body), at: now)
        while let more = session.processQueued(at: now) { actions += more }
        return actions
    }

    mutating func logOn(heartBtInt: Int = 30) -> [FIXSessionAction] {
        _ = session.connected(at: now)
        return receive("A", 1, "98=0|108=\(heartBtInt)|")
    }
}

extension [FIXSessionAction] {
    /// The messages sent, parsed.
    var sent: [FIXMessage] {
        compactMap { action in
            if case .send(let bytes) = action { return try? FIXMessage(parsing: bytes) }
            return nil
        }
    }

    /// The application messages delivered.
    var delivered: [FIXMessage] {
        compactMap { action in
            if case .deliver(let message) = action { return message }
            return nil
        }
    }

    var disconnects: Bool {
        contains { if case .disconnect = $0 { true } else { false } }
    }

    /// Sent messages as "35=X|34=N|..." without header CompIDs and times, for compact expectations.
    var summary: [String] {
        sent.map { message in
            message.fields.filter { ![8, 9, 10, 49, 52, 56].contains($0.tag) }
                .map { "\($0.tag)=\(message.string(of: $0))" }.joined(separator: "|")
        }
    }
}
