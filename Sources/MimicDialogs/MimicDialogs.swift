// Sans-I/O protocol dialogs (client and server) arrive with the probe and mock-server work.
import MimicCore
