import Testing
@testable import MimicNet
