/// croniter 7.0's own search in a time zone, step for step, for ``CronSchedule/DSTPolicy/croniter``.
///
/// croniter searches wall-clock time, then maps the result back to an instant: a time in a
/// gap moves forward by whole minutes (or is skipped when the hour field is `*` or the moved
/// time is not after the start), an ambiguous time takes the pass nearest the start, and
/// when the UTC offset changed it tries once more from the start's instant written in the new
/// offset. That last step is what makes it fire in both passes of a fold, and also what makes
/// it miss some second-pass times (`*/7 * * * *` across Lord Howe's 30-minute fold).
extension CronSchedule {
    /// The next (or previous) fire time after (before) the instant `now`.
    func croniterStep(from now: Double, forward: Bool) -> Int64? {
        let nowOffset = offset(at: Int64(now.rounded(.down)))
        let nowWall = now + Double(nowOffset)
        guard var wall = wallSearch(from: nowWall, forward: forward) else { return nil }
        var (instant, exists) = resolve(wall: wall, now: now, forward: forward)
        if !exists && (!isSuccessor(Double(instant), of: now, forward: forward) || expression.hourIsWildcard) {
            while !exists {
                guard let later = wallSearch(from: Double(wall), forward: forward) else { return nil }
                wall = later
                (instant, exists) = resolve(wall: wall, now: now, forward: forward)
            }
        }
        let delta = offset(at: instant) - nowOffset
        guard delta != 0 else { return instant }
        // The offset changed: look again from the start's instant in the new offset.
        guard let alternativeWall = wallSearch(from: nowWall + Double(delta), forward: forward) else { return instant }
        let (alternative, alternativeExists) = resolve(wall: alternativeWall, now: now, forward: forward)
        guard alternativeExists, isSuccessor(Double(alternative), of: now, forward: forward) else { return instant }
        return isSuccessor(Double(instant), of: Double(alternative), forward: forward) ? alternative : instant
    }

    private func isSuccessor(_ date: Double, of previous: Double, forward: Bool) -> Bool {
        forward ? date > previous : date < previous
    }

    /// croniter's `_calc` on wall-clock time: the first fire time from one unit (minute or
    /// second) after `wall`, or the last from just before it.
    private func wallSearch(from wall: Double, forward: Bool) -> Int64? {
        let unit: Int64 = expression.hasSeconds ? 1 : 60
        func floored(_ value: Int64) -> Int64 { value - ((value % unit) + unit) % unit }
        if forward {
            return expression.nextWallTime(atOrAfter: floored(Int64(wall.rounded(.down))) + unit)
        }
        return expression.previousWallTime(atOrBefore: floored(Int64(wall.rounded(.up)) - 1))
    }

    /// croniter's `_add_tzinfo`: the instant of a wall-clock time, and whether it exists.
    private func resolve(wall: Int64, now: Double, forward: Bool) -> (instant: Int64, exists: Bool) {
        let candidates = instants(ofWall: wall)
        if candidates.isEmpty {
            var shifted = wall + 60
            while true {
                let found = instants(ofWall: shifted)
                if let first = found.first {
                    return (forward ? first : found.last!, false)
                }
                shifted += 60
            }
        }
        guard candidates.count == 2 else { return (candidates[0], true) }
        // Ambiguous: the pass nearest the start that is still after (before) it.
        let nearest = forward ? candidates[0] : candidates[1]
        let farther = forward ? candidates[1] : candidates[0]
        return (isSuccessor(Double(nearest), of: now, forward: forward) ? nearest : farther, true)
    }

    /// The instants whose wall-clock time is `wall`: none in a gap, two in a fold.
    private func instants(ofWall wall: Int64) -> [Int64] {
        var candidates: [Int64] = []
        for probe in [wall - 15 * 3600, wall, wall + 15 * 3600] {
            let instant = wall - offset(at: probe)
            if offset(at: instant) + instant == wall, !candidates.contains(instant) {
                candidates.append(instant)
            }
        }
        return candidates.sorted()
    }
}
