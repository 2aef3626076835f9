import Foundation
import Glibc

extension Process {
    /// Opens every closed descriptor of 0, 1 and 2 on `/dev/null`, before anything else opens
    /// a file or a socket.
    ///
    /// Started with stdout or stderr closed (`2>&-`, as some launchers and cron jobs do), the
    /// first socket would otherwise take descriptor 1 or 2, and log lines and JSON records would
    /// be written into a device's Modbus connection.
    static func openStandardDescriptors() {
        for descriptor in Int32(0)...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
            let opened = open("/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY)
            // open(2) returns the lowest free descriptor: this one, since the lower ones are open.
            if opened != descriptor, opened >= 0 {
                _ = dup2(opened, descriptor)
                close(opened)
            }
        }
    }

    /// Ignores SIGPIPE (a closed stdout then shows up as EPIPE from write) and blocks SIGINT and
    /// SIGTERM in every thread, so that one thread can take them with `sigwait` instead of an
    /// asynchronous handler. Called first thing, before any thread starts.
    static func prepareSignals() {
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts a thread that waits for SIGINT or SIGTERM and then calls `handler` (once).
    static func onTermination(_ handler: @escaping @Sendable (Int32) -> Void) {
        let thread = Thread {
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGINT)
            sigaddset(&set, SIGTERM)
            var received: Int32 = 0
            while sigwait(&set, &received) != 0 {}
            handler(received)
        }
        thread.name = "signals"
        thread.start()
    }
}
