/// Where a certificate's issuer and subject names lie in its DER, found by stepping over the TBSCertificate's
/// first fields by their headers alone: nothing else of the certificate is decoded. Each range covers the whole
/// `Name`, tag and length included, exactly as encoded — what both libraries compare when they look an issuer up.
///
/// Nil when the DER is not laid out as a certificate (SEQUENCE { SEQUENCE { [0] version?, serialNumber, signature,
/// issuer, validity, subject … } … }) in definite lengths; callers then fall back to parsing the whole certificate.
/// Peer bytes: every length is checked against what is left, so no input traps.
public struct CertificateNameRanges: Sendable, Equatable {
    public let issuer: Range<Int>
    public let subject: Range<Int>

    public init?(der: [UInt8]) {
        var reader = Reader(bytes: der)
        // Certificate and TBSCertificate: SEQUENCE headers, stepped into.
        guard let certificate = reader.header(), certificate.tag == 0x30,
            let tbs = reader.header(), tbs.tag == 0x30,
            var field = reader.header()
        else { return nil }
        // [0] version, when present.
        if field.tag == 0xA0 {
            reader.skip(field)
            guard let serial = reader.header() else { return nil }
            field = serial
        }
        reader.skip(field)  // serialNumber
        guard let signature = reader.header() else { return nil }
        reader.skip(signature)
        let issuerStart = reader.offset
        guard let issuer = reader.header(), issuer.tag == 0x30 else { return nil }
        reader.skip(issuer)
        let issuerEnd = reader.offset
        guard let validity = reader.header() else { return nil }
        reader.skip(validity)
        let subjectStart = reader.offset
        guard let subject = reader.header(), subject.tag == 0x30 else { return nil }
        reader.skip(subject)
        // Every header was checked against the end of its own content only; the names must also lie within the
        // TBSCertificate and the certificate.
        guard reader.offset <= tbs.end, tbs.end <= certificate.end else { return nil }
        self.issuer = issuerStart..<issuerEnd
        self.subject = subjectStart..<reader.offset
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        /// One header at the offset, leaving the offset on its content: the tag byte and where the content ends.
        /// Nil for a multi-byte tag, an indefinite length, a length of more than four bytes, or content past the end.
        mutating func header() -> (tag: UInt8, end: Int)? {
            guard offset + 2 <= bytes.count else { return nil }
            let tag = bytes[offset]
            guard tag & 0x1F != 0x1F else { return nil }
            var length = Int(bytes[offset + 1])
            offset += 2
            if length >= 0x80 {
                let count = length & 0x7F
                guard (1...4).contains(count), offset + count <= bytes.count else { return nil }
                length = 0
                for _ in 0..<count {
                    length = length << 8 | Int(bytes[offset])
                    offset += 1
                }
            }
            guard length <= bytes.count - offset else { return nil }
            return (tag, offset + length)
        }

        mutating func skip(_ field: (tag: UInt8, end: Int)) { offset = field.end }
    }
}
