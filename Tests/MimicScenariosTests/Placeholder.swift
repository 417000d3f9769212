import Testing
@testable import MimicScenarios
