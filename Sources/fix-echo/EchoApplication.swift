import FIXCodec
import FIXSession
import FIXTransport
import Synchronization

/// Echoes NewOrderSingle and SecurityDefinition back unchanged. A NewOrderSingle with PossResend=Y
/// whose ClOrdID this session already saw is dropped; the ClOrdIDs seen are forgotten at logout.
final class EchoApplication: FIXApplication {
    private let seen = Mutex<[String: Set<String>]>([:])

    func received(_ message: FIXMessage, session: FIXSessionHandle) {
        let key = session.settings.targetCompID
        if message.msgType == "D" {
            let clOrdID = message[FIXTag.clOrdID] ?? ""
            let duplicate = seen.withLock { seen in
                let wasSeen = seen[key, default: []].contains(clOrdID)
                seen[key, default: []].insert(clOrdID)
                return wasSeen
            }
            if duplicate, message.flag(FIXTag.possResend) { return }
        }
        session.send(message)
    }

    func loggedOut(session: FIXSessionHandle) {
        let key = session.settings.targetCompID
        seen.withLock { $0[key] = nil }
    }
}
