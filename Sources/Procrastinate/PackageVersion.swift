/// The version of this package, which is also the version of its newest schema migration
/// (`sql/migrations/0.2.0_*.sql` for 0.2.0).
public enum PackageVersion {
    /// The version, e.g. `0.2.0`.
    public static let current = "0.2.0"
}
