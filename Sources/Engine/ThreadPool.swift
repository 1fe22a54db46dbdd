import CBLAS
import Foundation

/// The engine's threads: one pool for every loop, matrix products included. OpenBLAS itself
/// runs on one thread inside each worker (`MatrixProduct` splits the products), so that
/// products and the engine's own loops never compete for cores.
public enum EngineThreads {
    /// The most threads `--threads` accepts: far beyond any core count, far below what would
    /// exhaust the system's threads.
    public static let maximum = 1024

    /// Uses `count` threads from now on (`--threads`).
    public static func configure(_ count: Int) {
        openblas_set_num_threads(1)
        ThreadPool.configure(threads: count)
    }
}

/// A loop the pool can split: an op runs `part` (its forward or backward loop, say) over a range
/// of its items. Ops hand themselves to the pool rather than a closure, because turning a
/// closure into one the workers can call allocates, and the training step must not. `worker`
/// (0 for the calling thread, up to the pool's threads − 1) picks per-worker scratch memory.
public protocol ParallelLoop: AnyObject {
    func run(_ items: Range<Int>, part: Int, worker: Int)
}

/// Persistent worker threads for the engine's own loops (im2col, pooling, normalisation,
/// elementwise ops), which split their batch into one contiguous chunk per thread.
///
/// A call hands the workers the loop, runs the first chunk itself, and returns when every
/// chunk is done. Chunks never overlap, and no loop
/// reduces across chunks in an order that depends on timing, so results are the same run to
/// run at a given thread count.
public final class ThreadPool: @unchecked Sendable {
    /// The pool the engine's ops use; `configure(threads:)` replaces it.
    nonisolated(unsafe) public private(set) static var shared = ThreadPool(threads: 1)

    /// Threads a parallel loop uses, the calling one included.
    public let threads: Int

    /// Held by the one caller the workers serve; another caller meanwhile (a second thread, a
    /// nested loop) runs its loop serially instead of waiting.
    private var callerLock = pthread_mutex_t()
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var finished = pthread_cond_t()
    private var generation = 0
    private var pending = 0
    private var count = 0
    private var loop: (any ParallelLoop)?
    private var part = 0
    private var stopping = false

    /// Sets the engine's thread count (its own loops; BLAS threads are set separately).
    public static func configure(threads: Int) {
        guard threads != shared.threads else { return }
        shared.stop()
        shared = ThreadPool(threads: threads)
    }

    public init(threads: Int) {
        self.threads = max(1, threads)
        pthread_mutex_init(&callerLock, nil)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        pthread_cond_init(&finished, nil)
        for index in 1..<self.threads {
            let thread = Thread { [self] in self.work(index) }  // workers keep the pool alive until they exit
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `loop.run(_, part:)` over `0..<count` split into one chunk per thread; serially when
    /// the work is too small to pay for waking threads (`count × costPerItem` under about 32k
    /// operations).
    public func parallelFor(_ count: Int, costPerItem: Int = 1, _ loop: any ParallelLoop, part: Int = 0) {
        guard threads > 1, count > 1, count * costPerItem >= 32_768, pthread_mutex_trylock(&callerLock) == 0 else {
            loop.run(0..<count, part: part, worker: 0)
            return
        }
        pthread_mutex_lock(&mutex)
        self.loop = loop
        self.part = part
        self.count = count
        pending = threads - 1
        generation &+= 1
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        loop.run(chunk(0, of: count), part: part, worker: 0)
        pthread_mutex_lock(&mutex)
        while pending > 0 { pthread_cond_wait(&finished, &mutex) }
        self.loop = nil
        pthread_mutex_unlock(&mutex)
        pthread_mutex_unlock(&callerLock)
    }

    /// The part of `0..<count` chunk `index` covers.
    private func chunk(_ index: Int, of count: Int) -> Range<Int> {
        (count * index / threads)..<(count * (index + 1) / threads)
    }

    private func work(_ index: Int) {
        var seen = 0
        pthread_mutex_lock(&mutex)
        while true {
            while generation == seen, !stopping { pthread_cond_wait(&wake, &mutex) }
            if stopping { break }
            seen = generation
            let loop = self.loop!, part = self.part, range = chunk(index, of: count)
            pthread_mutex_unlock(&mutex)
            loop.run(range, part: part, worker: index)
            pthread_mutex_lock(&mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(&finished) }
        }
        pthread_mutex_unlock(&mutex)
    }

    /// Waits for the loop in flight, then lets the workers exit. The caller lock stays taken,
    /// so a loop that still reaches this pool runs serially.
    private func stop() {
        pthread_mutex_lock(&callerLock)
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
    }
}
