import Testing

@testable import MimicCerts
