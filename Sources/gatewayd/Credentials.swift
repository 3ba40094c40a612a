import Foundation

/// Secrets by name: one file each in `$CREDENTIALS_DIRECTORY` (systemd's `LoadCredential=`), or outside
/// systemd in the configuration's `credentials_dir`. A value is read once at start, its trailing
/// newline dropped; it is never logged, and problems name the credential, never its content.
struct Credentials {
    let directory: String?
    /// Where the directory came from, for messages.
    let source: String

    init(environment: [String: String], configured: String?) {
        if let systemd = environment["CREDENTIALS_DIRECTORY"], !systemd.isEmpty {
            directory = systemd
            source = "$CREDENTIALS_DIRECTORY"
        } else {
            directory = configured
            source = "credentials_dir"
        }
    }

    /// The credential's value, or a problem naming what is wrong.
    func read(_ name: String, at path: String) -> Result<String, CredentialProblem> {
        guard let directory else {
            return .failure(
                CredentialProblem(
                    "\(path): credential '\(name)' cannot be read: neither $CREDENTIALS_DIRECTORY nor credentials_dir "
                        + "is set"))
        }
        let file = (directory as NSString).appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: file) else {
            return .failure(CredentialProblem("\(path): credential '\(name)' not found in \(directory) (\(source))"))
        }
        guard var value = String(data: data, encoding: .utf8) else {
            return .failure(CredentialProblem("\(path): credential '\(name)' is not UTF-8 text"))
        }
        while let last = value.last, last == "\n" || last == "\r" { value.removeLast() }
        guard !value.isEmpty else { return .failure(CredentialProblem("\(path): credential '\(name)' is empty")) }
        return .success(value)
    }
}

struct CredentialProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
