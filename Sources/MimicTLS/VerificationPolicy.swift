/// How strictly a backend judges a chain.
///
/// - `default`: what each library's ordinary TLS client does. OpenSSL: `X509_verify_cert` with the `ssl_server`
///   purpose and trust, security (auth) level 2 as Debian's `openssl.cnf` sets it for curl, postfix's smtp client
///   and ldapsearch, the hostname checked with `X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS` (curl's flag), no partial
///   chains, no `X509_V_FLAG_X509_STRICT`. GnuTLS: `gnutls_x509_trust_list_verify_crt2` with the serverAuth key
///   purpose, the hostname, and the flags of `GNUTLS_PROFILE_MEDIUM` (so that RSA-1024 and SHA-1 are refused as
///   by OpenSSL's level 2).
/// - `strict`: exactly the reference command lines. OpenSSL: `openssl verify -no-CApath -no-CAstore -x509_strict
///   -partial_chain -auth_level 2 -purpose sslserver [-verify_hostname H | -verify_ip IP]`, i.e.
///   `X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN`, auth level 2, hostname flags 0. GnuTLS:
///   `certtool --verify --verify-profile=medium --verify-purpose=1.3.6.1.5.5.7.3.1 [--verify-hostname=H]`, i.e.
///   `GNUTLS_VERIFY_DO_NOT_ALLOW_SAME | GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_MEDIUM)` with the key purpose and
///   hostname as typed data.
public enum VerificationPolicy: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case `default`
    case strict

    public var description: String { rawValue }
}
