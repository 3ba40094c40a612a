public import ControlProtocol

/// What the control server needs to answer `reload`; `gatewayd` wires it to re-reading its file, the
/// same code SIGHUP runs.
public protocol ConfigReloading: Sendable {
    /// Re-reads the configuration and applies risk limits, sizing and alert settings; a file with
    /// problems changes nothing. `requestedBy` says who asked, for the journal (`SIGHUP`, `uid 1000`).
    func reload(requestedBy: String) async -> Result<ReloadAnswer, ReloadFailure>
}

/// Why a reload changed nothing.
public struct ReloadFailure: Error, Sendable {
    /// A short summary for a person.
    public var message: String
    /// Every problem found in the file, when it was read.
    public var problems: [String]

    public init(message: String, problems: [String] = []) {
        self.message = message
        self.problems = problems
    }
}
