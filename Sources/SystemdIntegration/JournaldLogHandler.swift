public import Logging
import Glibc
import Synchronization

/// A swift-log handler that writes structured entries to systemd-journald through its native protocol
/// (one datagram of `FIELD=value` lines to `/run/systemd/journal/socket`, systemd.journal-fields(7)),
/// so that `journalctl ACCOUNT=paper` or `journalctl CLIENT_ORDER_ID=…` finds an order's lines.
///
/// Written by hand because no maintained Swift package speaks journald's protocol and linking
/// libsystemd would need its -dev package at build time; the protocol is a documented datagram format.
///
/// Metadata keys become fields: upper-cased, every character outside `A-Z 0-9 _` an underscore
/// (`order.id` → `ORDER_ID`), with the names operators search by given plainly: `account` → `ACCOUNT`,
/// `order.client_id` → `CLIENT_ORDER_ID`, `broker` → `BROKER`. The message itself is `MESSAGE`, the level
/// `PRIORITY` (syslog's numbers), the logger's label `LOGGER`, the source `CODE_FILE`, `CODE_LINE`,
/// `CODE_FUNC`. When the journal cannot be reached an entry goes to stderr instead, never lost silently.
public struct JournaldLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let socketPath: String
    let identifier: String
    let fallback: StreamLogHandler

    /// journald's socket for native entries.
    public static let defaultSocket = "/run/systemd/journal/socket"

    public init(label: String, identifier: String = "gatewayd", socketPath: String = Self.defaultSocket) {
        self.label = label
        self.identifier = identifier
        self.socketPath = socketPath
        fallback = StreamLogHandler.standardError(label: label)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let entry = Self.entry(
            message: event.message.description, level: event.level, label: label, identifier: identifier,
            metadata: merged, file: event.file, function: event.function, line: event.line)
        if !UnixDatagram.send(entry, to: socketPath) {
            var fallback = self.fallback
            fallback.logLevel = logLevel
            fallback.log(event: event)
        }
    }

    /// The datagram journald receives for one entry.
    static func entry(
        message: String, level: Logger.Level, label: String, identifier: String, metadata: Logger.Metadata,
        file: String, function: String, line: UInt
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + message.utf8.count)
        func field(_ name: String, _ value: String) {
            bytes.append(contentsOf: name.utf8)
            if value.utf8.contains(UInt8(ascii: "\n")) {
                // Values with newlines: the name, a newline, the length as 64-bit little endian, the value.
                bytes.append(UInt8(ascii: "\n"))
                withUnsafeBytes(of: UInt64(value.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            } else {
                bytes.append(UInt8(ascii: "="))
            }
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
        field("MESSAGE", message)
        field("PRIORITY", String(priority(level)))
        field("SYSLOG_IDENTIFIER", identifier)
        field("LOGGER", label)
        field("CODE_FILE", file)
        field("CODE_LINE", String(line))
        field("CODE_FUNC", function)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            guard let name = fieldName(key) else { continue }
            field(name, "\(value)")
        }
        return bytes
    }

    /// syslog's priority for a level: 7 debug … 2 critical.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Names operators search by, and the fields the handler sets itself (never overwritten by metadata).
    static let renamed = ["order.client_id": "CLIENT_ORDER_ID", "client_order_id": "CLIENT_ORDER_ID"]
    static let reserved: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "LOGGER", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
    ]

    /// The journal field for a metadata key, or `nil` when it would collide with the handler's own.
    static func fieldName(_ key: String) -> String? {
        if let name = renamed[key] { return name }
        var name = String(
            key.uppercased().unicodeScalars.map { scalar -> Character in
                let isField = ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_"
                return isField ? Character(scalar) : "_"
            })
        while name.first == "_" { name.removeFirst() }
        if let first = name.first, first.isNumber { name = "F_" + name }
        if name.isEmpty || reserved.contains(name) { return nil }
        return String(name.prefix(64))
    }

    /// Whether stderr is connected to the journal: `$JOURNAL_STREAM` names its device and inode
    /// (systemd.exec(5)), so a redirected stderr keeps readable lines.
    public static func stderrIsJournal(environment: [String: String]) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}
