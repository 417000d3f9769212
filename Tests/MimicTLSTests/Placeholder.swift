import Testing

@testable import MimicTLS
