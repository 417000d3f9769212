import FuzzSupport
import MimicDialogs

// The bounded BER reader under both LDAP sides: consecutive elements, nesting checked to a depth
// (`ParserEntryPoints.ber(input:)`).
fuzzMain { input in
    if !ParserEntryPoints.ber(input: input.bytes) { fatalError("BER") }
}
