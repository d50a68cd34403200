import Foundation

/// The jobs finished per minute as an inline SVG bar chart, succeeded and failed stacked.
enum Chart {
    static func finishedPerMinute(_ minutes: [Activity.Minute]) -> HTML {
        let (width, height, left, bottom) = (720.0, 160.0, 40.0, 18.0)
        let peak = max(minutes.map { $0.succeeded + $0.failed }.max() ?? 0, 1)
        let barWidth = (width - left) / Double(max(minutes.count, 1))
        let scale = (height - bottom - 8) / Double(peak)
        var bars: [HTML] = []
        for (index, minute) in minutes.enumerated() {
            let x = left + Double(index) * barWidth
            let succeeded = Double(minute.succeeded) * scale
            let failed = Double(minute.failed) * scale
            let label = "\(Format.date(minute.start)): \(minute.succeeded) succeeded, \(minute.failed) failed"
            bars.append(
                """
                <g><title>\(label)</title>\
                <rect class="succeeded" x="\(fixed(x + 1))" y="\(fixed(height - bottom - succeeded))" width="\(fixed(barWidth - 2))" height="\(fixed(succeeded))"/>\
                <rect class="failed" x="\(fixed(x + 1))" y="\(fixed(height - bottom - succeeded - failed))" width="\(fixed(barWidth - 2))" height="\(fixed(failed))"/></g>
                """
            )
        }
        return """
            <svg class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="Jobs finished per minute over the last hour">\
            <line x1="\(Int(left))" y1="\(fixed(height - bottom))" x2="\(Int(width))" y2="\(fixed(height - bottom))"/>\
            <text x="0" y="12">\(Format.number(peak))/min</text><text x="0" y="\(fixed(height - bottom))">0</text>\
            <text x="\(Int(left))" y="\(Int(height - 4))">60 min ago</text><text x="\(Int(width - 30))" y="\(Int(height - 4))">now</text>\
            \(bars)</svg>
            <div class="legend"><span><i class="swatch succeeded"></i>succeeded</span><span><i class="swatch failed"></i>failed</span></div>
            """
    }

    private static func fixed(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
