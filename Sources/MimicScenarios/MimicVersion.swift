/// The version `mimic --version` prints.
public enum MimicVersion {
    public static let string = "0.1.0"
}
