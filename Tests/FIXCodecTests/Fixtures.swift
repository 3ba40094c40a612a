import FIXCodec
import Foundation

/// The project's copies of QuickFIX's data dictionaries, loaded once.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/fix")

    static let fix42 = load("FIX42.xml")
    static let fix44 = load("FIX44.xml")

    private static func load(_ name: String) -> FIXDictionary {
        do {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            return try FIXDictionary(xml: text)
        } catch {
            fatalError("cannot load \(name): \(error)")
        }
    }

    /// Bytes of `text` with `|` as SOH.
    static func wire(_ text: String) -> [UInt8] {
        Array(text.utf8).map { $0 == UInt8(ascii: "|") ? 1 : $0 }
    }

    /// A whole message: `body` is the fields after BodyLength, `|`-separated, ending with `|`.
    static func message(_ body: String, beginString: String = "FIX.4.2") -> [UInt8] {
        var message = FIXMessage()
        let bytes = wire(body)
        for field in bytes.split(separator: 1) {
            let equals = field.firstIndex(of: UInt8(ascii: "="))!
            message.append(Int(String(decoding: field[..<equals], as: UTF8.self))!, field[(equals + 1)...])
        }
        var encoder = FIXEncoder(beginString: beginString)
        return encoder.encode(message)
    }
}
