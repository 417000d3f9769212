import Testing
@testable import MimicCore
