import Foundation
import FuzzSupport
import MimicCerts

// The PEM reader (certificate files given to `mimic verify`, `--ca`, scenario chains) fed arbitrary bytes.
fuzzMain { input in
    _ = try? PEM.decodeCertificates(data: Data(input.bytes))
}
