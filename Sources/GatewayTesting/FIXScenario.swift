import Foundation

/// One scripted conversation of QuickFIX's acceptance suite (a `.def` file): the driver's connects,
/// disconnects and messages, and what it expects back. See `../shared/fix/README.md` for the format.
public struct FIXScenario: Sendable {
    /// One step of the script.
    public enum Step: Sendable, Hashable {
        /// `iCONNECT`: open connection N.
        case connect(Int)
        /// `iDISCONNECT`: close connection N.
        case disconnect(Int)
        /// `eCONNECT`: expect connection N to be open.
        case expectConnected(Int)
        /// `eDISCONNECT`: expect the acceptor to close connection N.
        case expectDisconnect(Int)
        /// `I...`: send this message (placeholders still in it) on connection N.
        case send(Int, String)
        /// `E...`: expect exactly this message next on connection N.
        case expect(Int, String)
    }

    /// The file's name without `.def`.
    public var name: String
    /// The steps with the line each came from.
    public var steps: [(line: Int, step: Step)]

    /// Reads a scenario from the text of a `.def` file.
    public init(name: String, text: String) {
        self.name = name
        steps = []
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            guard let kind = line.first, !line.isEmpty, kind != "#" else { continue }
            var rest = line.dropFirst()
            var connection = 1
            if let digit = rest.first, digit.isNumber, rest.dropFirst().first == "," {
                connection = Int(String(digit)) ?? 1
                rest = rest.dropFirst(2)
            }
            let step: Step?
            switch kind {
            case "i":
                step = rest == "CONNECT" ? .connect(connection) : rest == "DISCONNECT" ? .disconnect(connection) : nil
            case "e":
                step =
                    rest == "CONNECT"
                    ? .expectConnected(connection) : rest == "DISCONNECT" ? .expectDisconnect(connection) : nil
            case "I": step = .send(connection, String(rest))
            case "E": step = .expect(connection, String(rest))
            default: step = nil
            }
            if let step { steps.append((offset + 1, step)) }
        }
    }

    /// Every `.def` file in `folder`, sorted by name.
    public static func load(folder: String) throws -> [FIXScenario] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".def") }.sorted()
        return try names.map { name in
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .isoLatin1)
            return FIXScenario(name: String(name.dropLast(4)), text: text)
        }
    }
}
