/// A reader for the small subset of XML that QuickFIX's data dictionaries use: elements with quoted
/// attributes, self-closing tags, comments, processing instructions and the five predefined entities.
///
/// Written by hand because FIXCodec depends on the standard library only (DESIGN.md), and Foundation's
/// XMLParser on Linux drags in libxml2 for what is a few dozen lines of scanning here. Text content is
/// ignored: the dictionaries carry everything in attributes.
struct XMLElementReader {
    /// One element with its attributes and children, in document order.
    struct Element: Sendable {
        var name: String
        var attributes: [String: String]
        var children: [Element]
        var line: Int

        func attribute(_ name: String) -> String? { attributes[name] }
    }

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// Reads the document and returns its root element.
    mutating func readDocument() throws(FIXDictionaryError) -> Element {
        var stack: [Element] = []
        var root: Element?
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                advance()
                continue
            }
            if starts(with: "<!--") {
                try skip(past: "-->")
            } else if starts(with: "<?") || starts(with: "<!") {
                try skip(past: ">")
            } else if starts(with: "</") {
                index += 2
                let name = readName()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else {
                    throw FIXDictionaryError(line: line, problem: "malformed closing tag </\(name)")
                }
                index += 1
                guard let element = stack.popLast(), element.name == name else {
                    throw FIXDictionaryError(line: line, problem: "closing tag </\(name)> does not match")
                }
                if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
            } else {
                index += 1
                let element = try readOpeningTag()
                if element.closes {
                    if stack.isEmpty {
                        root = element.element
                    } else {
                        stack[stack.count - 1].children.append(element.element)
                    }
                } else {
                    stack.append(element.element)
                }
            }
        }
        guard stack.isEmpty, let root else {
            throw FIXDictionaryError(line: line, problem: "the document ends inside <\(stack.last?.name ?? "?")>")
        }
        return root
    }

    private mutating func readOpeningTag() throws(FIXDictionaryError) -> (element: Element, closes: Bool) {
        let startLine = line
        let name = readName()
        guard !name.isEmpty else { throw FIXDictionaryError(line: line, problem: "an element without a name") }
        var attributes: [String: String] = [:]
        while true {
            skipSpace()
            guard index < bytes.count else { throw FIXDictionaryError(line: line, problem: "unterminated <\(name)") }
            if bytes[index] == UInt8(ascii: ">") {
                index += 1
                return (Element(name: name, attributes: attributes, children: [], line: startLine), false)
            }
            if starts(with: "/>") {
                index += 2
                return (Element(name: name, attributes: attributes, children: [], line: startLine), true)
            }
            let key = readName()
            skipSpace()
            guard !key.isEmpty, index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                throw FIXDictionaryError(line: line, problem: "malformed attribute in <\(name)>")
            }
            index += 1
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "'") || bytes[index] == UInt8(ascii: "\"") else {
                throw FIXDictionaryError(line: line, problem: "unquoted attribute \(key) in <\(name)>")
            }
            let quote = bytes[index]
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != quote { advance() }
            guard index < bytes.count else {
                throw FIXDictionaryError(line: line, problem: "unterminated attribute \(key)")
            }
            attributes[key] = Self.decodeEntities(String(decoding: bytes[start..<index], as: UTF8.self))
            index += 1
        }
    }

    private static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&amp;", with: "&")
    }

    private mutating func readName() -> String {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            let isNameByte =
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")
            guard isNameByte else { break }
            index += 1
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func skipSpace() {
        while index < bytes.count,
            bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D
        {
            advance()
        }
    }

    private mutating func advance() {
        if bytes[index] == 0x0A { line += 1 }
        index += 1
    }

    private func starts(with prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let pointer = prefix.utf8Start
        for offset in 0..<count where bytes[index + offset] != pointer[offset] { return false }
        return true
    }

    private mutating func skip(past terminator: StaticString) throws(FIXDictionaryError) {
        while index < bytes.count {
            if starts(with: terminator) {
                index += terminator.utf8CodeUnitCount
                return
            }
            advance()
        }
        throw FIXDictionaryError(line: line, problem: "unterminated markup, expected \(terminator)")
    }
}
