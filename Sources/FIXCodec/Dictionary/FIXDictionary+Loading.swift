extension FIXDictionary {
    /// Loads a dictionary from the text of a QuickFIX XML data dictionary (`FIX42.xml`, `FIX44.xml`).
    ///
    /// Throws naming the line when the XML is malformed or refers to a field or component it does not
    /// define.
    public init(xml: String) throws(FIXDictionaryError) {
        var reader = XMLElementReader(xml)
        let root = try reader.readDocument()
        guard root.name == "fix", let major = root.attribute("major"), let minor = root.attribute("minor") else {
            throw FIXDictionaryError(line: root.line, problem: "the root element is not <fix major= minor=>")
        }
        let type = root.attribute("type") ?? "FIX"
        let loader = try Loader(root: root)
        var messages: [String: FIXMessageLayout] = [:]
        var admin: Set<String> = []
        for message in root.children(named: "messages").flatMap(\.children) where message.name == "message" {
            guard let msgType = message.attribute("msgtype") else {
                throw FIXDictionaryError(line: message.line, problem: "a message without msgtype")
            }
            messages[msgType] = try loader.layout(of: message.children)
            if message.attribute("msgcat") == "admin" { admin.insert(msgType) }
        }
        self.init(
            beginString: "\(type).\(major).\(minor)", fields: loader.fields,
            header: try loader.layout(of: root.children(named: "header").flatMap(\.children)),
            trailer: try loader.layout(of: root.children(named: "trailer").flatMap(\.children)),
            messages: messages, adminMessageTypes: admin)
    }
}

/// Resolves names to tags and expands components while the dictionary loads.
private struct Loader {
    var fields: [FIXDictionary.Field] = []
    private var tags: [String: Int] = [:]
    private var components: [String: XMLElementReader.Element] = [:]

    init(root: XMLElementReader.Element) throws(FIXDictionaryError) {
        for element in root.children(named: "fields").flatMap(\.children) where element.name == "field" {
            guard let name = element.attribute("name"), let number = element.attribute("number").flatMap(Int.init),
                let type = element.attribute("type")
            else { throw FIXDictionaryError(line: element.line, problem: "a field without name, number or type") }
            let values = element.children.compactMap { $0.name == "value" ? $0.attribute("enum") : nil }
            fields.append(
                FIXDictionary.Field(
                    tag: number, name: name, type: FIXFieldType(dictionaryName: type),
                    values: values.isEmpty ? nil : Set(values)))
            tags[name] = number
        }
        for element in root.children(named: "components").flatMap(\.children) where element.name == "component" {
            if let name = element.attribute("name") { components[name] = element }
        }
    }

    func layout(of elements: [XMLElementReader.Element]) throws(FIXDictionaryError) -> FIXMessageLayout {
        var layout = FIXMessageLayout()
        try add(elements, required: true, to: &layout)
        layout.required.sort()
        layout.allowedTags = FIXTagSet(layout.allowed)
        return layout
    }

    private func add(
        _ elements: [XMLElementReader.Element], required parentRequired: Bool, to layout: inout FIXMessageLayout
    ) throws(FIXDictionaryError) {
        for element in elements {
            let required = parentRequired && element.attribute("required") == "Y"
            switch element.name {
            case "field":
                let tag = try tag(of: element)
                layout.allowed.insert(tag)
                layout.order.append(tag)
                if required { layout.required.append(tag) }
            case "group":
                let countTag = try tag(of: element)
                var entry = FIXMessageLayout()
                try add(element.children, required: true, to: &entry)
                entry.required.sort()
                entry.allowedTags = FIXTagSet(entry.allowed)
                guard let delimiter = entry.order.first else {
                    throw FIXDictionaryError(
                        line: element.line, problem: "group \(element.attribute("name") ?? "") is empty")
                }
                layout.allowed.insert(countTag)
                layout.order.append(countTag)
                if required { layout.required.append(countTag) }
                layout.groups[countTag] = FIXGroupLayout(countTag: countTag, delimiter: delimiter, entry: entry)
            case "component":
                guard let name = element.attribute("name"), let component = components[name] else {
                    throw FIXDictionaryError(
                        line: element.line, problem: "unknown component \(element.attribute("name") ?? "")")
                }
                try add(component.children, required: required, to: &layout)
            default:
                continue
            }
        }
    }

    private func tag(of element: XMLElementReader.Element) throws(FIXDictionaryError) -> Int {
        guard let name = element.attribute("name"), let tag = tags[name] else {
            throw FIXDictionaryError(line: element.line, problem: "unknown field \(element.attribute("name") ?? "")")
        }
        return tag
    }
}

extension XMLElementReader.Element {
    fileprivate func children(named name: String) -> [XMLElementReader.Element] {
        children.filter { $0.name == name }
    }
}
