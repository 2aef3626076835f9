import ArgumentParser
import Foundation
import Logging

/// Log lines on stderr: `2026-11-25T08:00:00.123Z warning: message`, one write per line.
struct StderrLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var seconds = timespec()
        clock_gettime(CLOCK_REALTIME, &seconds)
        var time = tm()
        var whole = seconds.tv_sec
        gmtime_r(&whole, &time)
        let stamp = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(time.tm_year) + 1900, Int(time.tm_mon) + 1,
            Int(time.tm_mday), Int(time.tm_hour), Int(time.tm_min), Int(time.tm_sec), Int(seconds.tv_nsec / 1_000_000))
        Console.error("\(stamp) \(event.level): \(event.message)")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

extension Logger {
    /// A logger writing to stderr at `level`.
    static func stderr(level: Logger.Level) -> Logger {
        Logger(label: "fieldpoll") { label in StderrLogHandler(label: label, level: level) }
    }
}
