import ArgumentParser
import Foundation

/// Exit codes shared by the commands: 0 all good, 2 a verdict against, 3 bad usage or input.
enum MimicExit {
    static let rejected = ExitCode(2)
    static let usage = ExitCode(3)
}

/// A clear message for a person, and exit 3: bad input is not a crash.
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`, turning any error but an exit code into a one-line message on stderr and exit 3.
func reportingInputErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("mimic: \(error)")
        throw MimicExit.usage
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
