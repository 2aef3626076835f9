#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a `pthread_mutex_t`, for state shared between a worker thread and the
/// threads that stop or inspect it.
///
/// The standard library's `Synchronization.Mutex` waits with raw futex calls that
/// ThreadSanitizer cannot see, so `make tsan` reported races between accesses that the mutex
/// did order; a pthread mutex is intercepted by the sanitizer, and costs the same here.
package final class Locked<State>: @unchecked Sendable {
    private var state: State
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// Guards `state`.
    package init(_ state: State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the state.
    @inline(__always)
    package func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
