import FIXCodec
import FIXSession
import FIXTransport
import Foundation
import GatewayTesting
import Testing

@Suite struct TLSTests {
    /// A throwaway CA and certificates from `certs/make-test-ca`.
    static func makeCertificates() async throws -> String {
        try await offPool { try makeCertificatesBlocking() }
    }

    private static func makeCertificatesBlocking() throws -> String {
        let folder = TestFolders.make("fix-tls")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("certs/make-test-ca").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, folder]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        return folder
    }

    @Test func logsOnToFixEchoOverMutuallyVerifiedTLS() async throws {
        let certs = try await Self.makeCertificates()
        let echo = try await FixEchoProcess.start(arguments: [
            "--tls-certificate", certs + "/server.pem", "--tls-key", certs + "/server.key", "--tls-client-ca",
            certs + "/ca.pem",
        ])
        defer { echo.stop() }
        let application = RecordingApplication()
        var reader = EventReader(application)
        let tls = FIXTLSConfiguration(
            certificateChainPath: certs + "/client.pem", privateKeyPath: certs + "/client.key",
            trustRootsPath: certs + "/ca.pem", serverHostname: "localhost")
        let initiator = try await FIXInitiator(
            host: "127.0.0.1", port: echo.port, settings: InitiatorTests.initiatorSettings(),
            dictionary: InitiatorTests.dictionary, makeStore: { FIXMemoryStore() }, application: application, tls: tls)
        try await reader.loggedOn()
        initiator.session.sendSoon(newOrderSingle("over-tls"))
        #expect(try await reader.message()[11] == "over-tls")
        try await initiator.shutdown()
    }
}

extension TLSTests {
    @Test func refusesAnAcceptorWhoseCertificateNoTrustedAuthoritySigned() async throws {
        let certs = try await Self.makeCertificates()
        let otherAuthority = try await Self.makeCertificates()
        let echo = try await FixEchoProcess.start(arguments: [
            "--tls-certificate", certs + "/server.pem", "--tls-key", certs + "/server.key",
        ])
        defer { echo.stop() }
        let application = RecordingApplication()
        let tls = FIXTLSConfiguration(trustRootsPath: otherAuthority + "/ca.pem", serverHostname: "localhost")
        let initiator = try await FIXInitiator(
            host: "127.0.0.1", port: echo.port, settings: InitiatorTests.initiatorSettings(),
            dictionary: InitiatorTests.dictionary, makeStore: { FIXMemoryStore() }, application: application, tls: tls,
            backoff: FIXReconnectBackoff(initial: .milliseconds(10), maximum: .milliseconds(20)))
        var ended = initiator.connectionsEnded.makeAsyncIterator()
        // Two connections end without a logon: the handshake fails each time, nothing reaches the session.
        #expect(await ended.next() == false)
        #expect(await ended.next() == false)
        #expect(await !initiator.session.isLoggedOnForTesting)
        try await initiator.shutdown()
    }
}
