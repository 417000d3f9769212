import Testing
@testable import MimicDialogs
