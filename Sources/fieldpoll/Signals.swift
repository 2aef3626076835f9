import Foundation
import Glibc

extension Process {
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
