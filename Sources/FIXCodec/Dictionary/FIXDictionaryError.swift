/// Why a data dictionary could not be loaded: the line of the XML and the problem found there.
public struct FIXDictionaryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The line of the dictionary's XML where the problem was found.
    public var line: Int
    /// What is wrong, in words.
    public var problem: String

    /// Makes an error for `problem` at `line`.
    public init(line: Int, problem: String) {
        self.line = line
        self.problem = problem
    }

    public var description: String { "line \(line): \(problem)" }
}
