import MimicCore

/// A bounded BER reader and a minimal DER-style encoder for LDAP (RFC 4511 §5.1): single-byte tags, definite
/// lengths in short or long form (Active Directory sends `30 84 00 00 00 xx`), no indefinite lengths.
enum BERError: Error, Sendable, Hashable, CustomStringConvertible {
    case truncated
    case indefiniteLength
    case lengthTooLong
    case tooLarge(Int, limit: Int)
    case multiByteTag
    case tooDeep(limit: Int)
    case unexpectedTag(expected: UInt8, got: UInt8)
    case invalidInteger
    case trailingBytes

    var description: String {
        switch self {
        case .truncated: "element runs past its container"
        case .indefiniteLength: "indefinite length (forbidden by RFC 4511 §5.1)"
        case .lengthTooLong: "length of more than four octets"
        case .tooLarge(let size, let limit): "element of \(size) bytes exceeds \(limit)"
        case .multiByteTag: "multi-byte tag (not used by LDAP)"
        case .tooDeep(let limit): "nesting deeper than \(limit)"
        case .unexpectedTag(let expected, let got): "expected tag \(hex(expected)), got \(hex(got))"
        case .invalidInteger: "integer of zero or more than four octets"
        case .trailingBytes: "bytes after the last element"
        }
    }
}

func hex(_ byte: UInt8) -> String {
    "0x" + Hex.byte(byte)
}

/// One element: its identifier octet and its content.
struct BERElement: Sendable, Hashable {
    var tag: UInt8
    var content: ArraySlice<UInt8>

    var isConstructed: Bool { tag & 0x20 != 0 }

    /// The content as a signed integer (INTEGER, ENUMERATED) of one to four octets.
    func integer() throws(BERError) -> Int {
        guard !content.isEmpty, content.count <= 4, let first = content.first else { throw .invalidInteger }
        var value = first & 0x80 != 0 ? -1 : 0
        for byte in content { value = (value << 8) | Int(byte) }
        return value
    }

    var bytes: [UInt8] { Array(content) }
    var text: String { String(decoding: content, as: UTF8.self) }
}

enum BER {
    /// The header at the start of `bytes`: nil when more bytes are needed to know it.
    ///
    ///     identifier octet, then length: 0xxxxxxx (short form) or 1nnnnnnn followed by n length octets
    static func header(
        _ bytes: ArraySlice<UInt8>, limit: Int
    ) throws(BERError) -> (
        tag: UInt8, headerLength: Int, contentLength: Int
    )? {
        guard let tag = bytes.first else { return nil }
        guard tag & 0x1F != 0x1F else { throw .multiByteTag }
        guard bytes.count >= 2 else { return nil }
        let first = bytes[bytes.startIndex + 1]
        if first < 0x80 { return (tag, 2, Int(first)) }
        let count = Int(first & 0x7F)
        guard count != 0 else { throw .indefiniteLength }
        guard count <= 4 else { throw .lengthTooLong }
        guard bytes.count >= 2 + count else { return nil }
        var length = 0
        for byte in bytes[(bytes.startIndex + 2)..<(bytes.startIndex + 2 + count)] {
            length = length << 8 | Int(byte)
        }
        guard length <= limit else { throw .tooLarge(length, limit: limit) }
        return (tag, 2 + count, length)
    }

    /// Checks that every constructed element down the tree parses within `maxDepth` levels.
    static func validate(_ element: BERElement, depth: Int = 1, maxDepth: Int) throws(BERError) {
        guard depth <= maxDepth else { throw .tooDeep(limit: maxDepth) }
        guard element.isConstructed else { return }
        var reader = BERReader(element.content)
        while let child = try reader.next() {
            try validate(child, depth: depth + 1, maxDepth: maxDepth)
        }
    }

    // MARK: Encoding

    /// The length octets: the short form below 128, else the shortest long form; `longForm` forces
    /// `84 xx xx xx xx` for every length, as Active Directory writes them.
    static func length(_ count: Int, longForm: Bool = false) -> [UInt8] {
        if longForm {
            return [
                0x84, UInt8(count >> 24 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF),
                UInt8(count & 0xFF),
            ]
        }
        if count < 0x80 { return [UInt8(count)] }
        var octets: [UInt8] = []
        var rest = count
        while rest > 0 {
            octets.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [0x80 | UInt8(octets.count)] + octets
    }

    static func element(_ tag: UInt8, _ content: [UInt8], longForm: Bool = false) -> [UInt8] {
        [tag] + length(content.count, longForm: longForm) + content
    }

    /// A minimal two's-complement INTEGER/ENUMERATED content for a small non-negative value.
    static func integer(_ tag: UInt8, _ value: Int, longForm: Bool = false) -> [UInt8] {
        var octets: [UInt8] = [UInt8(value & 0xFF)]
        var rest = value >> 8
        while rest > 0 || octets[0] & 0x80 != 0 {
            octets.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return element(tag, octets, longForm: longForm)
    }

    static func octetString(_ text: String, tag: UInt8 = 0x04, longForm: Bool = false) -> [UInt8] {
        element(tag, Array(text.utf8), longForm: longForm)
    }
}

/// Reads consecutive elements from a content slice; every length is checked against what remains.
struct BERReader: Sendable {
    private var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        rest = bytes
    }

    var isAtEnd: Bool { rest.isEmpty }

    mutating func next() throws(BERError) -> BERElement? {
        guard !rest.isEmpty else { return nil }
        guard let (tag, headerLength, contentLength) = try BER.header(rest, limit: Int.max) else {
            throw .truncated
        }
        guard contentLength <= rest.count - headerLength else { throw .truncated }
        let start = rest.startIndex + headerLength
        let element = BERElement(tag: tag, content: rest[start..<(start + contentLength)])
        rest = rest[(start + contentLength)...]
        return element
    }

    mutating func read(_ tag: UInt8) throws(BERError) -> BERElement {
        guard let element = try next() else { throw .truncated }
        guard element.tag == tag else { throw .unexpectedTag(expected: tag, got: element.tag) }
        return element
    }

    /// The next element if it has this tag; nothing is consumed otherwise.
    mutating func readIfPresent(_ tag: UInt8) throws(BERError) -> BERElement? {
        var copy = self
        guard let element = try copy.next(), element.tag == tag else { return nil }
        self = copy
        return element
    }
}
