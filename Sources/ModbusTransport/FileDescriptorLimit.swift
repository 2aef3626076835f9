import Glibc

/// Keeps every socket number below `FD_SETSIZE` (1024).
///
/// libmodbus 3.1.6 waits with `select()`, and with a descriptor of 1024 or more `FD_SET`
/// aborts the whole process (glibc's fortify check). Lowering the soft `RLIMIT_NOFILE` to
/// 1024 turns that abort into an ordinary `EMFILE` from `socket()` or `accept()`, reported as
/// a connect error. One process can therefore hold about a thousand connections.
enum FileDescriptorLimit {
    /// The highest descriptor number libmodbus can wait on, plus one.
    static let selectLimit: rlim_t = 1024

    /// Applies the cap; runs once per process, on first use of the transport.
    static let capped: Void = {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur > selectLimit {
            limit.rlim_cur = selectLimit
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }()
}
