// SwiftNIO mock servers and the probe arrive with the probe and mock-server work.
import MimicCore
