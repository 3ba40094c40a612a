import FIXCodec
import FIXSession
import FIXTransport
import Synchronization

/// Echoes NewOrderSingle and SecurityDefinition back unchanged (or answers a NewOrderSingle with an
/// ExecutionReport for a new order). A NewOrderSingle with PossResend=Y whose ClOrdID this session
/// already saw is dropped; the ClOrdIDs seen are forgotten at logout.
final class EchoApplication: FIXApplication {
    private let seen = Mutex<[String: Set<String>]>([:])
    private let answer: Answer
    private let executions = Atomic<Int>(0)

    init(answer: Answer) {
        self.answer = answer
    }

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
        if answer == .executionReport, message.msgType == "D" {
            session.send(executionReport(for: message, version: session.settings.beginString))
        } else {
            session.send(message)
        }
    }

    /// A 35=8 acknowledging `order` as new: nothing filled, all of it leaves.
    private func executionReport(for order: FIXMessage, version: String) -> FIXMessage {
        let number = executions.add(1, ordering: .relaxed).newValue
        var report = FIXMessage(msgType: "8")
        report.append(6, "0")
        report.append(FIXTag.clOrdID, order[FIXTag.clOrdID] ?? "")
        report.append(14, "0")
        report.append(17, "E\(number)")
        if version == "FIX.4.2" { report.append(20, "0") }
        report.append(37, "O\(number)")
        report.append(38, order[38] ?? "0")
        report.append(39, "0")
        report.append(54, order[54] ?? "1")
        report.append(55, order[55] ?? "")
        report.append(150, "0")
        report.append(151, order[38] ?? "0")
        return report
    }

    func loggedOut(session: FIXSessionHandle) {
        let key = session.settings.targetCompID
        seen.withLock { $0[key] = nil }
    }
}
