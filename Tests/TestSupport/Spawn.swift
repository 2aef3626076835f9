import Foundation
import Glibc

/// Starts `path` with `arguments` (`posix_spawn`) as a child whose descriptors 0, 1 and 2 are
/// the given ones and which holds no other descriptor of this process (another test's pipe
/// inherited by a child would keep that test's reader from ever seeing EOF), with an empty
/// signal mask and SIGINT, SIGTERM, SIGPIPE and SIGCHLD at their default dispositions.
/// A negative descriptor leaves that one closed in the child (`2>&-`).
///
/// - Returns: the child's process identifier; the caller reaps it.
public func spawnChild(
    _ path: String, _ arguments: [String], environment: [String: String]? = nil, workingDirectory: String? = nil,
    standardInput: Int32, standardOutput: Int32, standardError: Int32
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (source, target) in [(standardInput, Int32(0)), (standardOutput, 1), (standardError, 2)] {
        if source < 0 {
            posix_spawn_file_actions_addclose(&actions, target)
        } else {
            posix_spawn_file_actions_adddup2(&actions, source, target)
        }
    }
    _ = GNU.closeFrom(&actions, 3)
    if let workingDirectory { _ = GNU.chdir(&actions, workingDirectory) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var mask = sigset_t()
    sigemptyset(&mask)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigmask(&attributes, &mask)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var variables = ProcessInfo.processInfo.environment
    if let environment { variables.merge(environment) { _, new in new } }
    let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { envp.forEach { free($0) } }

    var child: pid_t = 0
    let status = posix_spawn(&child, path, &actions, &attributes, argv, envp)
    guard status == 0 else { throw TestFailure("cannot start \(path): \(String(cString: strerror(status)))") }
    return child
}

/// glibc functions Swift's Glibc module does not import (they need `_GNU_SOURCE`), called
/// through `dlsym` with their C signatures.
enum GNU {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias Chdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static func function<T>(_ name: String, as type: T.Type) -> T {
        // RTLD_DEFAULT is a null handle in glibc.
        guard let symbol = dlsym(nil, name) else { preconditionFailure("glibc has no \(name)") }
        return unsafeBitCast(symbol, to: type)
    }

    /// `pipe2(2)`.
    static let pipe2 = function("pipe2", as: Pipe2.self)
    /// `posix_spawn_file_actions_addclosefrom_np(3)` (glibc 2.34).
    static let closeFrom = function("posix_spawn_file_actions_addclosefrom_np", as: CloseFrom.self)
    /// `posix_spawn_file_actions_addchdir_np(3)` (glibc 2.29).
    static let chdir = function("posix_spawn_file_actions_addchdir_np", as: Chdir.self)
}

