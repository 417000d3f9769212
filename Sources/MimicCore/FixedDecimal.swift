extension Double {
    /// This value with `digits` decimals (`12.34.fixed(1)` is `12.3`), rounding half to even as `printf` does for
    /// exactly representable halves, without Foundation's `String(format:)`.
    public func fixed(_ digits: Int) -> String {
        guard isFinite, abs(self) < 1e15 else { return String(self) }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(self) * scale).rounded(.toNearestOrEven))
        let whole = String(scaled / Int64(scale))
        let sign = self < 0 && scaled != 0 ? "-" : ""
        guard digits > 0 else { return sign + whole }
        let fraction = String(scaled % Int64(scale))
        return sign + whole + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
