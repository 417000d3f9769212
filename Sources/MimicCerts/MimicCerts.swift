// The certificate factory and chain facts live here.
import MimicCore
