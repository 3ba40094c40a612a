import Foundation
import GatewayTesting
import Glibc
import Logging
import Testing

@testable import SystemdIntegration

/// Splits a native journal entry into its fields, reading the binary form of values with newlines.
func fields(of entry: [UInt8]) -> [String: String] {
    var result: [String: String] = [:]
    var index = 0
    while index < entry.count {
        let end = entry[index...].firstIndex { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "=") }!
        let name = String(decoding: entry[index..<end], as: UTF8.self)
        if entry[end] == UInt8(ascii: "=") {
            let stop = entry[end...].firstIndex(of: UInt8(ascii: "\n"))!
            result[name] = String(decoding: entry[(end + 1)..<stop], as: UTF8.self)
            index = stop + 1
        } else {
            let length = entry[(end + 1)..<(end + 9)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            let start = end + 9
            result[name] = String(decoding: entry[start..<(start + length)], as: UTF8.self)
            #expect(entry[start + length] == UInt8(ascii: "\n"))
            index = start + length + 1
        }
    }
    return result
}

@Suite struct JournaldLogHandlerTests {
    @Test func anEntryCarriesTheMessageLevelAndSearchableFields() async throws {
        let sink = try DatagramSocket()
        var logger = Logger(label: "gatewayd") { JournaldLogHandler(label: $0, socketPath: sink.path) }
        logger[metadataKey: "account"] = "paper"
        logger.warning(
            "order rejected", metadata: ["order.client_id": "abc-1", "order.id": "ord-7", "broker": "paper"])
        let entry = fields(of: try #require(await sink.receiveBytes(within: 5_000)))
        #expect(entry["MESSAGE"] == "order rejected")
        #expect(entry["PRIORITY"] == "4")
        #expect(entry["SYSLOG_IDENTIFIER"] == "gatewayd")
        #expect(entry["LOGGER"] == "gatewayd")
        #expect(entry["ACCOUNT"] == "paper")
        #expect(entry["CLIENT_ORDER_ID"] == "abc-1")
        #expect(entry["ORDER_ID"] == "ord-7")
        #expect(entry["BROKER"] == "paper")
        #expect(entry["CODE_FUNC"] != nil)
    }

    @Test func aMultiLineValueUsesTheBinaryForm() async throws {
        let sink = try DatagramSocket()
        let logger = Logger(label: "gatewayd") { JournaldLogHandler(label: $0, socketPath: sink.path) }
        logger.error("journal failed", metadata: ["error": "line one\nline two"])
        let entry = fields(of: try #require(await sink.receiveBytes(within: 5_000)))
        #expect(entry["ERROR"] == "line one\nline two")
        #expect(entry["PRIORITY"] == "3")
    }

    @Test func fieldNamesAreJournalSafeAndNeverOverrideTheHandlersOwn() {
        #expect(JournaldLogHandler.fieldName("order.id") == "ORDER_ID")
        #expect(JournaldLogHandler.fieldName("journal.path") == "JOURNAL_PATH")
        #expect(JournaldLogHandler.fieldName("order.client_id") == "CLIENT_ORDER_ID")
        #expect(JournaldLogHandler.fieldName("_private") == "PRIVATE")
        #expect(JournaldLogHandler.fieldName("9lives") == "F_9LIVES")
        #expect(JournaldLogHandler.fieldName("message") == nil)
        #expect(JournaldLogHandler.fieldName("priority") == nil)
        #expect(JournaldLogHandler.fieldName("") == nil)
    }

    @Test func levelsMapToSyslogPriorities() {
        #expect(JournaldLogHandler.priority(.critical) == 2)
        #expect(JournaldLogHandler.priority(.info) == 6)
        #expect(JournaldLogHandler.priority(.debug) == 7)
    }

    @Test func stderrIsTheJournalOnlyWhenJournalStreamNamesIt() {
        var info = stat()
        #expect(fstat(2, &info) == 0)
        let own = "\(info.st_dev):\(info.st_ino)"
        #expect(JournaldLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": own]))
        #expect(!JournaldLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "\(info.st_dev):1"]))
        #expect(!JournaldLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "garbage"]))
        #expect(!JournaldLogHandler.stderrIsJournal(environment: [:]))
    }
}

@Suite struct NotifyAndWatchdogTests {
    @Test func theNotifierSendsOneDatagramOfLines() async throws {
        let sink = try DatagramSocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": sink.path])
        #expect(notifier.send(["READY=1", "STATUS=trading"]))
        #expect(
            String(decoding: try #require(await sink.receiveBytes(within: 5_000)), as: UTF8.self)
                == "READY=1\nSTATUS=trading")
        #expect(!SystemdNotifier(environment: [:]).send(["READY=1"]))
    }

    @Test func theWatchdogIsForThisProcessOnly() {
        let own = getpid()
        let settings = WatchdogSettings(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(own)"])
        #expect(settings?.timeout == .seconds(30))
        #expect(settings?.pingInterval == .seconds(15))
        #expect(WatchdogSettings(environment: ["WATCHDOG_USEC": "30000000"]) != nil)
        #expect(WatchdogSettings(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(own + 1)"]) == nil)
        #expect(WatchdogSettings(environment: ["WATCHDOG_USEC": "0"]) == nil)
        #expect(WatchdogSettings(environment: ["WATCHDOG_USEC": "soon"]) == nil)
        #expect(WatchdogSettings(environment: [:]) == nil)
    }
}

@Suite struct SocketActivationTests {
    @Test func withoutListenFdsNothingIsPassed() throws {
        #expect(try SocketActivation.passedSockets(environment: [:]).isEmpty)
        #expect(
            try SocketActivation.passedSockets(environment: ["LISTEN_FDS": "1", "LISTEN_PID": "1"], pid: 2).isEmpty)
    }

    @Test func malformedVariablesAreErrorsThatSayWhat() {
        #expect(throws: ActivationError.self) {
            try SocketActivation.passedSockets(environment: ["LISTEN_FDS": "1"], pid: 5)
        }
        #expect(throws: ActivationError.self) {
            try SocketActivation.passedSockets(environment: ["LISTEN_FDS": "many", "LISTEN_PID": "5"], pid: 5)
        }
    }

    @Test func onlyAListeningUnixStreamSocketIsTaken() throws {
        let datagram = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(datagram) }
        #expect(!SocketActivation.isListeningUnixStream(datagram))
        let stream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(stream) }
        #expect(!SocketActivation.isListeningUnixStream(stream))
        let folder = NSTemporaryDirectory() + "sa-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in (folder + "/s").utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(stream, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        #expect(listen(stream, 4) == 0)
        #expect(SocketActivation.isListeningUnixStream(stream))
        #expect(!SocketActivation.isListeningUnixStream(-1))
    }
}
