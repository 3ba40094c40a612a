import NIOCore
import NIOSSL

/// TLS for a FIX connection: our certificate and key, and the certificate authorities we trust to
/// sign the peer's. Peer verification is always on: an initiator checks the acceptor's certificate
/// against `trustRootsPath` (and its host name unless told otherwise); an acceptor given
/// `trustRootsPath` requires and checks a client certificate.
public struct FIXTLSConfiguration: Sendable, Hashable {
    /// PEM file of our certificate chain (required for an acceptor, optional for an initiator).
    public var certificateChainPath: String?
    /// PEM file of our private key.
    public var privateKeyPath: String?
    /// PEM file of the certificate authorities trusted for the peer's certificate.
    public var trustRootsPath: String?
    /// The name the acceptor's certificate must carry; nil takes the host connected to.
    public var serverHostname: String?

    /// A TLS configuration from PEM files.
    public init(
        certificateChainPath: String? = nil, privateKeyPath: String? = nil, trustRootsPath: String? = nil,
        serverHostname: String? = nil
    ) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.trustRootsPath = trustRootsPath
        self.serverHostname = serverHostname
    }

    func makeServerContext() throws -> NIOSSLContext {
        guard let certificateChainPath, let privateKeyPath else {
            throw FIXTransportError("a TLS acceptor needs a certificate chain and a private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificateChainPath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)))
        if let trustRootsPath {
            configuration.trustRoots = .file(trustRootsPath)
            configuration.certificateVerification = .noHostnameVerification
        }
        return try NIOSSLContext(configuration: configuration)
    }

    func makeClientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        if let trustRootsPath { configuration.trustRoots = .file(trustRootsPath) }
        if let certificateChainPath, let privateKeyPath {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateChainPath).map {
                .certificate($0)
            }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKeyPath, format: .pem))
        }
        return try NIOSSLContext(configuration: configuration)
    }

    static func addServerHandler(_ context: NIOSSLContext, to channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
    }

    static func addClientHandler(_ context: NIOSSLContext, hostname: String?, to channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(
            try NIOSSLClientHandler(context: context, serverHostname: hostname))
    }
}

/// A transport failure with its reason.
public struct FIXTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public var reason: String

    /// An error saying `reason`.
    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
