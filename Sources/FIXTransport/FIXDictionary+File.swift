public import FIXCodec
import Foundation

extension FIXDictionary {
    /// Loads the QuickFIX XML dictionary at `path`; the error names the file and, for bad XML, the line.
    public static func load(path: String) throws -> FIXDictionary {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FIXTransportError("cannot read the dictionary \(path): \(error.localizedDescription)")
        }
        do {
            return try FIXDictionary(xml: text)
        } catch {
            throw FIXTransportError("the dictionary \(path) is not valid: \(error)")
        }
    }

    /// The file name of the dictionary for `beginString` in a folder of QuickFIX dictionaries
    /// (`FIX.4.2` → `FIX42.xml`).
    public static func fileName(for beginString: String) -> String {
        beginString.replacingOccurrences(of: ".", with: "") + ".xml"
    }
}
