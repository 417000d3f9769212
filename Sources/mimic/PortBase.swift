import ArgumentParser

/// `--port-base`: `serve` and `grade` start their zoo on fixed ports with it.
struct PortBase: ParsableArguments {
    @Option(
        name: .customLong("port-base"),
        help: "Give every scenario a fixed port from N up (the same run after run), so a monitor is configured once.")
    var portBase: Int?

    func validate() throws {
        if let portBase, !(1...65535).contains(portBase) {
            throw ValidationError("--port-base must be a port from 1 to 65535")
        }
    }
}
