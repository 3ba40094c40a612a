import ArgumentParser
import FIXCodec
import FIXSession
import FIXTransport
import Foundation
import Logging
import Synchronization

/// A FIX initiator that logs on, sends NewOrderSingles and waits for one answer (an ExecutionReport
/// or the echoed order) per ClOrdID, reconnecting with resend when the connection drops — for interop
/// runs against other engines and for throughput over loopback.
@main
struct FixClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fix-client", abstract: "Sends NewOrderSingles over FIX and counts the answers.")

    @Option(help: "Acceptor host.") var host = "127.0.0.1"
    @Option(help: "Acceptor port.") var port: Int
    @Option(help: "BeginString.") var beginString = "FIX.4.2"
    @Option(help: "Our SenderCompID.") var senderCompID = "TW42"
    @Option(help: "The acceptor's CompID.") var targetCompID = "ISLD"
    @Option(help: "Folder holding the QuickFIX data dictionaries.") var dictionaries = "config/fix"
    @Option(help: "NewOrderSingles to send.") var orders = 1000
    @Option(help: "Orders sent before waiting for their answers (the rest follow as answers come).") var window = 100
    @Option(help: "Seconds to wait for every answer before giving up.") var timeout = 60
    @Option(help: "PEM certificate authorities that sign the acceptor's certificate: connect with TLS.")
    var tlsCA: String?
    @Flag(help: "Ask the acceptor to reset sequence numbers at logon.") var resetOnLogon = false
    @Flag(help: "Print one JSON object instead of a sentence.") var json = false

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let dictionary = try FIXDictionary.load(
            path: URL(fileURLWithPath: dictionaries).appendingPathComponent(FIXDictionary.fileName(for: beginString))
                .path)
        var settings = FIXSessionSettings(
            beginString: beginString, senderCompID: senderCompID, targetCompID: targetCompID, role: .initiator)
        settings.resetOnLogon = resetOnLogon
        settings.applicationMessageTypes = ["8", "D"]
        let counter = AnswerCounter()
        let tls = tlsCA.map { FIXTLSConfiguration(trustRootsPath: $0, serverHostname: "localhost") }
        let initiator = try await FIXInitiator(
            host: host, port: port, settings: settings, dictionary: dictionary, makeStore: { FIXMemoryStore() },
            application: counter, tls: tls,
            backoff: FIXReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(2)))
        var events = counter.events.makeAsyncIterator()
        let deadline = ContinuousClock.now + .seconds(timeout)
        let limit = Task {
            try await Task.sleep(until: deadline)
            counter.finish()
        }
        defer { limit.cancel() }
        guard await events.next() == .loggedOn else {
            try? await initiator.shutdown()
            throw ValidationError("no logon within \(timeout) s")
        }
        let start = ContinuousClock.now
        var sent = 0
        while sent < min(window, orders) {
            initiator.session.sendSoon(Self.order(sent))
            sent += 1
        }
        while counter.answered < orders, ContinuousClock.now < deadline {
            guard let event = await events.next() else { break }
            if event == .answered, sent < orders {
                initiator.session.sendSoon(Self.order(sent))
                sent += 1
            }
        }
        let elapsed = ContinuousClock.now - start
        try await initiator.shutdown()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let (answered, duplicates, logons) = counter.totals
        let rate = Double(answered) / max(seconds, 1e-9)
        if json {
            print(
                "{\"sent\": \(sent), \"answered\": \(answered), \"duplicates\": \(duplicates), \"logons\": \(logons), "
                    + "\"seconds\": \(seconds), \"round_trips_per_s\": \(Int(rate))}")
        } else {
            print(
                "sent \(sent), answered \(answered), duplicates \(duplicates), logons \(logons), "
                    + "\(String(format: "%.3f", seconds)) s, \(Int(rate)) round trips/s")
        }
        if answered != orders || duplicates != 0 { throw ExitCode(1) }
    }

    static func order(_ number: Int) -> FIXMessage {
        var order = FIXMessage(msgType: "D")
        for (tag, value) in [
            (11, "c-\(number)"), (21, "1"), (38, "100"), (40, "2"), (44, "10.25"), (54, "1"), (55, "INTC"),
            (60, FIXWallClock.now().text(milliseconds: false)),
        ] {
            order.append(tag, value)
        }
        return order
    }
}

/// Counts one answer per ClOrdID and any answer for a ClOrdID already answered.
final class AnswerCounter: FIXApplication {
    enum Event: Equatable { case loggedOn, answered }

    let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let state = Mutex((seen: Set<String>(), duplicates: 0, logons: 0))

    init() {
        (events, continuation) = AsyncStream.makeStream()
    }

    var answered: Int { state.withLock { $0.seen.count } }

    /// Ends the event stream (the client's time is up).
    func finish() { continuation.finish() }
    var totals: (Int, Int, Int) { state.withLock { ($0.seen.count, $0.duplicates, $0.logons) } }

    func received(_ message: FIXMessage, session: FIXSessionHandle) {
        let clOrdID = message[FIXTag.clOrdID] ?? ""
        let isNew = state.withLock { state in
            let inserted = state.seen.insert(clOrdID).inserted
            if !inserted { state.duplicates += 1 }
            return inserted
        }
        if isNew { continuation.yield(.answered) }
    }

    func loggedOn(session: FIXSessionHandle) {
        let first = state.withLock { state in
            state.logons += 1
            return state.logons == 1
        }
        if first { continuation.yield(.loggedOn) }
    }
}
