import Foundation
import MimicScenarios

#if canImport(Glibc)
import Glibc
#endif

/// Folders the tests write to, private as the product's own (`PrivateDirectory`): another local user can neither
/// plant a path the tests will use nor read what they write (minted keys among it).
public enum Scratch {
    /// A new, empty 0700 folder under the temporary directory, named `<prefix>XXXXXX`.
    public static func folder(_ prefix: String) -> URL {
        do {
            return try PrivateDirectory.make(prefix: prefix)
        } catch {
            fatalError("no private scratch folder: \(error)")
        }
    }

    /// A folder kept from run to run (a certificate home, so that keys are generated once per machine): `<tmp>/
    /// <name>-<uid>`, made 0700. One that is there already is used only if it is a real directory of ours that no
    /// one else can write to, and it is made 0700 again; otherwise a new private folder stands in for this run.
    public static func cache(_ name: String) -> URL {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getuid())").path
        guard let kept = try? PrivateDirectory.use(base) else { return folder("\(name)-") }
        chmod(kept.path, 0o700)
        return kept
    }
}
