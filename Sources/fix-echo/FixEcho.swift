import ArgumentParser
import FIXCodec
import FIXSession
import FIXTransport
import Foundation
import Logging

/// The acceptor QuickFIX's acceptance suite expects (`../shared/fix/README.md`): SenderCompID ISLD,
/// TargetCompID TW42 (FIX.4.2) and TW44 (FIX.4.4), ResetOnLogon, validation by the dictionaries, and an
/// application that echoes NewOrderSingle and SecurityDefinition — so that anyone can run the suite, or
/// QuickFIX's own runner, against this engine.
@main
struct FixEcho: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fix-echo",
        abstract: "A FIX acceptor that echoes NewOrderSingle (35=D) and SecurityDefinition (35=d).")

    @Option(help: "TCP port to listen on (0 picks a free one, printed on the first line of output).")
    var port = 5001

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Folder holding FIX42.xml and FIX44.xml (QuickFIX's data dictionaries).")
    var dictionaries = "config/fix"

    @Option(help: "Our SenderCompID.")
    var senderCompID = "ISLD"

    @Option(help: "PEM certificate chain: serve TLS instead of plain TCP.")
    var tlsCertificate: String?

    @Option(help: "PEM private key of the TLS certificate.")
    var tlsKey: String?

    @Option(help: "PEM certificate authorities: require and verify a client certificate signed by one.")
    var tlsClientCA: String?

    @Option(
        help: "What a NewOrderSingle gets back: echo (the message itself) or execution-report (a new order's 35=8).")
    var answer = Answer.echo

    @Flag(help: "Keep sequence numbers across connections instead of resetting them at every logon.")
    var keepSequenceNumbers = false

    @Flag(help: "Log every session event.")
    var verbose = false

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .info
            return handler
        }
        var sessions: [FIXAcceptor.SessionConfiguration] = []
        for (version, file, target) in [("FIX.4.2", "FIX42.xml", "TW42"), ("FIX.4.4", "FIX44.xml", "TW44")] {
            let dictionary = try FIXDictionary.load(
                path: URL(fileURLWithPath: dictionaries).appendingPathComponent(file).path)
            var settings = FIXSessionSettings(
                beginString: version, senderCompID: senderCompID, targetCompID: target, role: .acceptor)
            settings.resetOnLogon = !keepSequenceNumbers
            settings.applicationMessageTypes = ["D", "d"]
            sessions.append(.init(settings: settings, dictionary: dictionary, makeStore: { FIXMemoryStore() }))
        }
        var tls: FIXTLSConfiguration?
        if tlsCertificate != nil || tlsKey != nil {
            guard let tlsCertificate, let tlsKey else {
                throw ValidationError("--tls-certificate and --tls-key go together")
            }
            tls = FIXTLSConfiguration(
                certificateChainPath: tlsCertificate, privateKeyPath: tlsKey, trustRootsPath: tlsClientCA)
        }
        let acceptor = try await FIXAcceptor(
            host: host, port: port, sessions: sessions, application: EchoApplication(answer: answer), tls: tls)
        print("fix-echo listening on \(host):\(acceptor.port)")
        fflush(nil)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
        try await acceptor.shutdown()
    }
}

/// What fix-echo answers a NewOrderSingle with.
enum Answer: String, ExpressibleByArgument, CaseIterable {
    case echo
    case executionReport = "execution-report"
}
