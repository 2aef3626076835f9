import Foundation

/// Sockets this process holds, found through /proc, so tests can count a client's
/// connections even while other tests open descriptors of their own in parallel.
public enum OpenSockets {
    /// How many of this process's descriptors are TCP sockets whose remote end is
    /// 127.0.0.1:`port` (in any state but TIME_WAIT, which holds no descriptor).
    public static func connected(toPort port: Int) -> Int {
        let inodes = tcpInodes { _, remotePort in remotePort == port }
        guard !inodes.isEmpty else { return 0 }
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.filter { descriptor in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)"),
                target.hasPrefix("socket:[")
            else { return false }
            return inodes.contains(String(target.dropFirst(8).dropLast()))
        }.count
    }

    /// Inodes of the TCP sockets (IPv4 and IPv6) matching `predicate(localPort, remotePort)`.
    static func tcpInodes(_ predicate: (Int, Int) -> Bool) -> Set<String> {
        var inodes: Set<String> = []
        for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
            // /proc files have no size: read to the end (a sized read stops after one page).
            guard let data = FileHandle(forReadingAtPath: table)?.readDataToEndOfFile() else { continue }
            let text = String(decoding: data, as: UTF8.self)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9,
                    let localPort = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                    let remotePort = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                    fields[3] != "06", predicate(localPort, remotePort)
                else { continue }
                inodes.insert(String(fields[9]))
            }
        }
        return inodes
    }
}
