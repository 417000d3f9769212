import MimicCore
