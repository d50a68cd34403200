/// A set of years of the cron year field (1970 to 2099), as bits.
struct YearSet: Hashable, Sendable {
    static let first = 1970
    static let last = 2099
    private var words: (UInt64, UInt64, UInt64) = (0, 0, 0)

    init() {}

    /// Adds a year of 1970…2099.
    mutating func insert(_ year: Int) {
        let bit = year - Self.first
        switch bit / 64 {
        case 0: words.0 |= 1 << UInt64(bit % 64)
        case 1: words.1 |= 1 << UInt64(bit % 64)
        default: words.2 |= 1 << UInt64(bit % 64)
        }
    }

    func contains(_ year: Int) -> Bool {
        guard year >= Self.first, year <= Self.last else { return false }
        let bit = year - Self.first
        let word = bit / 64 == 0 ? words.0 : bit / 64 == 1 ? words.1 : words.2
        return word & (1 << UInt64(bit % 64)) != 0
    }

    /// The smallest year of the set at or after `year`.
    func first(atOrAfter year: Int) -> Int? {
        guard year <= Self.last else { return nil }
        return (max(year, Self.first)...Self.last).first(where: contains)
    }

    /// The largest year of the set at or before `year`.
    func last(atOrBefore year: Int) -> Int? {
        guard year >= Self.first else { return nil }
        return (Self.first...min(year, Self.last)).last(where: contains)
    }

    var isEmpty: Bool { words == (0, 0, 0) }

    var count: Int { words.0.nonzeroBitCount + words.1.nonzeroBitCount + words.2.nonzeroBitCount }

    var years: [Int] { (Self.first...Self.last).filter(contains) }

    static func == (lhs: YearSet, rhs: YearSet) -> Bool { lhs.words == rhs.words }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
    }
}
