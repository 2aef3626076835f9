import PollScheduling

/// The engine's sink in production: encodes each sample on the calling worker thread and
/// queues its line(s) on a ``LineWriter``.
public final class JSONLinesSink: SampleSink, @unchecked Sendable {
    private let format: OutputFormat
    private let writer: LineWriter

    /// Creates a sink writing `format` to `writer`.
    public init(format: OutputFormat, writer: LineWriter) {
        self.format = format
        self.writer = writer
    }

    public func emit(_ sample: Sample) -> Bool {
        // Sized for the poll, so a line is encoded without the buffer growing (copying) on the way.
        var encoder = LineEncoder(format: format, capacity: LineEncoder.capacity(format: format, points: sample.layout.pointNames.count))
        return writer.write(encoder.encode(sample))
    }
}
