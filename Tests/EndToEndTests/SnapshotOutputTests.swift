import Foundation
import Glibc
import ModbusProtocol
import Testing
import TestSupport

/// Where `snapshot --out` writes: checked before any device is contacted, regular files
/// replaced atomically, anything else written through or refused, never replaced.
@Suite struct SnapshotOutputTests {
    static func snapshot(to out: String, server: FaultServer) throws -> CommandResult {
        let map = try RunProcessTests.write(RunProcessTests.map(name: "dev", port: server.port, interval: "1s"), "snap.yaml")
        return try runCommand(Paths.fieldpoll, ["snapshot", "--out", out, map], timeout: .seconds(20))
    }

    static func fileType(_ path: String) -> mode_t {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & S_IFMT : 0
    }

    @Test(arguments: [
        ("missing/folder/plant.json", "No such file or directory"),
        ("", "Is a directory"),
        ("file.txt/plant.json", "Not a directory"),
    ])
    func anOutputThatCannotBeWrittenIsRefusedBeforeAnyDeviceIsContacted(relative: String, reason: String) throws {
        let folder = Paths.temporaryDirectory().path
        _ = FileManager.default.createFile(atPath: "\(folder)/file.txt", contents: Data())
        let out = relative.isEmpty ? folder : "\(folder)/\(relative)"
        let server = try RunProcessTests.faultServer()
        let result = try Self.snapshot(to: out, server: server)
        #expect(result.status == 2)
        #expect(result.stderr == "fieldpoll snapshot: cannot write \(out): \(reason)\n")
        #expect(server.acceptedConnections == 0, "nothing was contacted")
    }

    @Test func aDanglingSymbolicLinkIsRefused() throws {
        let folder = Paths.temporaryDirectory().path
        let link = "\(folder)/twin.json"
        #expect(symlink("\(folder)/nowhere/twin.json", link) == 0)
        let server = try RunProcessTests.faultServer()
        let result = try Self.snapshot(to: link, server: server)
        #expect(result.status == 2)
        #expect(result.stderr == "fieldpoll snapshot: cannot write \(link): it is a symbolic link to a file that does not exist\n")
        #expect(Self.fileType(link) == S_IFLNK)
    }

    @Test func aRegularFileIsReplacedKeepingItsPermissions() throws {
        let folder = Paths.temporaryDirectory().path
        let out = "\(folder)/twin.json"
        _ = FileManager.default.createFile(atPath: out, contents: Data("old".utf8))
        #expect(chmod(out, 0o640) == 0)
        let server = try RunProcessTests.faultServer()
        let result = try Self.snapshot(to: out, server: server)
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.contains(#""0": [0, 1, 2, 3]"#))
        var status = stat()
        #expect(stat(out, &status) == 0 && status.st_mode & 0o777 == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["twin.json"], "no temporary file left")
    }

    @Test func aSymbolicLinkStaysALinkAndItsTargetIsReplaced() throws {
        let folder = Paths.temporaryDirectory().path
        try FileManager.default.createDirectory(atPath: "\(folder)/store", withIntermediateDirectories: true)
        let target = "\(folder)/store/twin-2026.json"
        _ = FileManager.default.createFile(atPath: target, contents: Data("old".utf8))
        let link = "\(folder)/twin.json"
        #expect(symlink(target, link) == 0)
        let server = try RunProcessTests.faultServer()
        let result = try Self.snapshot(to: link, server: server)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.fileType(link) == S_IFLNK)
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains(#""0": [0, 1, 2, 3]"#))
    }

    @Test func aFIFOIsWrittenThroughNotReplaced() throws {
        let folder = Paths.temporaryDirectory().path
        let fifo = "\(folder)/twin.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = Locked<String>("")
        let reader = Thread {
            let descriptor = open(fifo, O_RDONLY)
            guard descriptor >= 0 else { return }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            close(descriptor)
            received.withLock { $0 = String(decoding: bytes, as: UTF8.self) }
        }
        reader.start()
        let server = try RunProcessTests.faultServer()
        let result = try Self.snapshot(to: fifo, server: server)
        #expect(result.status == 0, "\(result.stderr)")
        let deadline = ContinuousClock.now + .seconds(10)
        while !reader.isFinished, ContinuousClock.now < deadline { usleep(10_000) }
        #expect(Self.fileType(fifo) == S_IFIFO)
        #expect(received.withLock { $0 }.contains(#""0": [0, 1, 2, 3]"#))
    }

    @Test func aCharacterDeviceIsWrittenThroughNotReplaced() throws {
        let folder = Paths.temporaryDirectory().path
        let node = "\(folder)/null"
        // A node of our own for the null device (1, 3): the test never touches /dev/null.
        #expect(mknod(node, S_IFCHR | 0o666, (1 << 8) | 3) == 0, "mknod needs root, as make test runs here")
        let server = try RunProcessTests.faultServer()
        let result = try Self.snapshot(to: node, server: server)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.fileType(node) == S_IFCHR)
    }
}
