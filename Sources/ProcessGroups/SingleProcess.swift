import Foundation

/// A world of one process: every collective operation leaves its buffers as they are.
public final class SingleProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) {}
    public func allreduceSum(_ values: UnsafeMutablePointer<Double>, count: Int) {}
    public func allreduceSum(_ values: UnsafeMutablePointer<Int>, count: Int) {}
    public func allreduceMax(_ values: UnsafeMutablePointer<Int>, count: Int) {}
    public func broadcast(_ values: UnsafeMutablePointer<Float>, count: Int, from root: Int) {}
    public func broadcast(_ values: UnsafeMutablePointer<Double>, count: Int, from root: Int) {}
    public func broadcast(_ values: UnsafeMutablePointer<Int>, count: Int, from root: Int) {}
    public func allgather(_ values: [Float]) -> [Float] { values }
    public func allgather(bytes: [UInt8]) -> [[UInt8]] { [bytes] }
    public func abort(status: Int32) -> Never { exit(status) }
}
