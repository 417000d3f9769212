extension String {
    /// This text with every Unicode scalar that `replacement` returns a string for replaced by it: the one loop
    /// behind the XML and HTML escapes of the reports and the YAML quoting of captured scenarios.
    func escaping(_ replacement: (Unicode.Scalar) -> String?) -> String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            if let replaced = replacement(scalar) {
                out += replaced
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
