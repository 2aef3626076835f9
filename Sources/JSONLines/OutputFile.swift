import Glibc

/// A file a command writes whole (`snapshot --out PATH`), checked before any device is
/// contacted and written so that nothing but the file itself changes.
///
/// - A new path, or a regular file (also one reached through a symbolic link), is replaced
///   atomically: the bytes go to a temporary file in the same folder, which is renamed over
///   the target only once it is complete, so a reader never sees half a fixture and a failed
///   write leaves the old file as it was. A symbolic link stays a link.
/// - A FIFO or a character device (`/dev/stdout`, `/dev/null`) is written through, never
///   replaced: a device node must not turn into a regular file.
/// - A folder, a dangling link, a socket or a block device is refused.
public struct OutputFile: Sendable {
    /// Why the file cannot be written, worded as errno words it.
    public struct Failure: Error, Sendable {
        /// `cannot write PATH: REASON`.
        public let message: String

        init(_ path: String, _ reason: String) {
            message = "cannot write \(path): \(reason)"
        }

        init(_ path: String, errno code: Int32) {
            self.init(path, String(cString: strerror(code)))
        }
    }

    private enum Kind {
        /// Replaced atomically at this real path, keeping this mode when it exists.
        case regular(target: String, mode: mode_t?)
        /// Opened and written through.
        case stream
    }

    /// The path as the user gave it.
    public let path: String
    private let kind: Kind

    /// Checks that `path` can be written, without changing anything.
    public init(checking path: String) throws(Failure) {
        self.path = path
        var status = stat()
        if stat(path, &status) != 0 {
            let code = errno
            var link = stat()
            if code == ENOENT, lstat(path, &link) == 0 {
                throw Failure(path, "it is a symbolic link to a file that does not exist")
            }
            guard code == ENOENT else { throw Failure(path, errno: code) }
            try Self.checkFolder(of: path, for: path)
            kind = .regular(target: path, mode: nil)
            return
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            guard let real = realpath(path, nil) else { throw Failure(path, errno: Glibc.errno) }
            let target = String(cString: real)
            free(real)
            guard access(target, W_OK) == 0 else { throw Failure(path, errno: Glibc.errno) }
            try Self.checkFolder(of: target, for: path)
            kind = .regular(target: target, mode: status.st_mode & 0o7777)
        case S_IFIFO, S_IFCHR:
            guard access(path, W_OK) == 0 else { throw Failure(path, errno: Glibc.errno) }
            kind = .stream
        case S_IFDIR:
            throw Failure(path, errno: EISDIR)
        default:
            throw Failure(path, "it is not a regular file, a FIFO or a character device")
        }
    }

    /// The folder a new file is created in (and a temporary file renamed from) must exist and
    /// take new files.
    private static func checkFolder(of target: String, for path: String) throws(Failure) {
        let folder = Self.folder(of: target)
        var status = stat()
        guard stat(folder, &status) == 0 else { throw Failure(path, errno: Glibc.errno) }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw Failure(path, errno: ENOTDIR) }
        guard access(folder, W_OK | X_OK) == 0 else { throw Failure(path, errno: Glibc.errno) }
    }

    private static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Writes `bytes` as the whole content of the file.
    public func write(_ bytes: [UInt8]) throws(Failure) {
        switch kind {
        case .stream:
            let descriptor = open(path, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw Failure(path, errno: Glibc.errno) }
            let failure = OutputDescriptor.writeAll(descriptor, bytes)
            let closed = close(descriptor) == 0 ? nil : Glibc.errno
            if let failure { throw Failure(path, errno: Self.code(of: failure)) }
            if let closed { throw Failure(path, errno: closed) }
        case .regular(let target, let mode):
            try replace(target, with: bytes, mode: mode)
        }
    }

    private func replace(_ target: String, with bytes: [UInt8], mode: mode_t?) throws(Failure) {
        let folder = Self.folder(of: target)
        let name = target.split(separator: "/").last.map(String.init) ?? "fixture"
        var template = Array("\(folder)/.\(name).XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw Failure(path, errno: Glibc.errno) }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var code: Int32?
        if let failure = OutputDescriptor.writeAll(descriptor, bytes) { code = Self.code(of: failure) }
        // mkstemp creates the file 0600; a fixture is as readable as any file the user makes.
        let permissions = mode ?? (0o666 & ~Self.umask())
        if code == nil, fchmod(descriptor, permissions) != 0 { code = Glibc.errno }
        if code == nil, fsync(descriptor) != 0 { code = Glibc.errno }
        if close(descriptor) != 0, code == nil { code = Glibc.errno }
        if code == nil, rename(temporary, target) != 0 { code = Glibc.errno }
        if let code {
            unlink(temporary)
            throw Failure(path, errno: code)
        }
    }

    private static func code(of failure: OutputFailure) -> Int32 {
        switch failure {
        case .readerGone: return EPIPE
        case .failed(let code): return code
        }
    }

    private static func umask() -> mode_t {
        let mask = Glibc.umask(0o022)
        _ = Glibc.umask(mask)
        return mask
    }
}
