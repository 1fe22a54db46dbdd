import CBLAS
import Foundation
import Synchronization

/// The engine's threads: one pool for every loop, matrix products included. OpenBLAS itself
/// runs on one thread inside each worker (`MatrixProduct` splits the products), so that
/// products and the engine's own loops never compete for cores.
public enum EngineThreads {
    /// The most threads `--threads` accepts: far beyond any core count, far below what would
    /// exhaust the system's threads.
    public static let maximum = 1024

    /// Uses `count` threads from now on (`--threads`).
    public static func configure(_ count: Int) {
        ThreadPool.configure(threads: count)
    }
}

/// A loop the pool can split: an op runs `part` (its forward or backward loop, say) over a range
/// of its items. Ops hand themselves to the pool rather than a closure, because turning a
/// closure into one the workers can call allocates, and the training step must not. `worker`
/// (0 for the calling thread, up to the pool's threads − 1) picks per-worker scratch memory.
public protocol ParallelLoop: AnyObject {
    /// The loops the type hands the pool, by name.
    associatedtype Part: RawRepresentable<Int> = OnlyPart
    func run(_ items: Range<Int>, part: Part, worker: Int)
}

/// The part of a type with one loop.
public enum OnlyPart: Int { case only }

/// The parts of an op whose forward and backward passes are one loop each.
public enum ForwardOrBackward: Int { case forward, backward }

extension ParallelLoop {
    /// What a worker calls: the pool keeps the part as its raw value, since it holds loops of
    /// every type.
    fileprivate func run(_ items: Range<Int>, rawPart: Int, worker: Int) {
        guard let part = Part(rawValue: rawPart) else { return }
        run(items, part: part, worker: worker)
    }
}

/// Persistent worker threads for the engine's loops (matrix products, im2col, pooling,
/// normalisation, elementwise ops), which split their items into one contiguous chunk per
/// thread.
///
/// A call hands the workers the loop, runs chunks itself (the first, and any no worker has
/// started when it is done: a worker descheduled by the system would otherwise hold up every
/// loop), and returns when every chunk is done. A training step is a few dozen such calls back
/// to back, so waiting is a short spin on an atomic before sleeping on a condition variable:
/// waking a sleeping thread costs tens of microseconds on a virtual machine, as much as a small
/// matrix product. Chunks never overlap, and no loop reduces across chunks in an order that
/// depends on timing, so results are the same run to run at a given thread count.
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
    /// The loop under way and its next unclaimed chunk: generation × 2¹⁶ + chunk. A new loop
    /// stores it with chunk 0 after the loop's fields, with release ordering, so a thread that
    /// claims a chunk of it sees them. Each chunk is claimed once, by whichever thread gets to
    /// it first: a worker the system has not scheduled leaves its chunk to the caller, who
    /// would otherwise wait for it (on a shared machine, a scheduler tick per loop).
    private let claims = Atomic<Int>(0)
    /// Chunks of the current loop done.
    private let chunksDone = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var count = 0
    private var loop: (any ParallelLoop)?
    private var part = 0

    /// How long a waiting thread spins before it sleeps: 250 µs, longer than the gaps between
    /// the loops of a step (a serial op, a loss, the optimiser's bookkeeping), far shorter than
    /// anything worth a core. Measured by the clock, not by iterations, whose speed varies
    /// between machines: 20,000 iterations, once thought 50 µs, were 14 µs on the 2-core
    /// machine, so the worker fell asleep inside steps and each wake cost tens of µs; at 250 µs
    /// the orders flow trains 1.6 times as many samples per second (docs/performance.md).
    private static let spinNanoseconds: UInt64 = 250_000

    /// Spins until `done()` or the spin time has passed; true if `done()`. The clock is read
    /// every 256 iterations (a read costs about as much as 20 of them).
    @inline(__always)
    private static func spin(until done: () -> Bool) -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + spinNanoseconds
        var iterations = 0
        while !done() {
            iterations &+= 1
            if iterations & 255 == 0, DispatchTime.now().uptimeNanoseconds >= deadline { return false }
        }
        return true
    }

    /// Sets the engine's thread count.
    public static func configure(threads: Int) {
        guard threads != shared.threads else { return }
        shared.stop()
        shared = ThreadPool(threads: threads)
    }

    public init(threads: Int) {
        // Every pool, not only the configured one: products run on the pool's threads, and
        // OpenBLAS's own threads would make the rounding depend on how many it has.
        openblas_set_num_threads(1)
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

    /// Runs `loop.run(_, part:, worker:)` over `0..<count` split into one chunk per thread;
    /// serially when the work is too small to pay for handing it out (`count × costPerItem`
    /// under about 32k operations).
    public func parallelFor<Loop: ParallelLoop>(_ count: Int, costPerItem: Int = 1, _ loop: Loop, part: Loop.Part) {
        guard threads > 1, count > 1, count * costPerItem >= 32_768, pthread_mutex_trylock(&callerLock) == 0 else {
            loop.run(0..<count, part: part, worker: 0)
            return
        }
        self.loop = loop
        self.part = part.rawValue
        self.count = count
        chunksDone.store(0, ordering: .relaxed)
        let generation = Self.generation(of: claims.load(ordering: .relaxed)) &+ 1
        pthread_mutex_lock(&mutex)  // a worker about to sleep sees the new loop or the broadcast
        claims.store(generation << Self.chunkBits, ordering: .releasing)
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        runChunks(of: generation)
        if !Self.spin(until: { chunksDone.load(ordering: .acquiring) == threads }) {
            pthread_mutex_lock(&mutex)
            while chunksDone.load(ordering: .acquiring) < threads { pthread_cond_wait(&finished, &mutex) }
            pthread_mutex_unlock(&mutex)
        }
        self.loop = nil
        pthread_mutex_unlock(&callerLock)
    }

    private static let chunkBits = 16

    private static func generation(of claims: Int) -> Int { claims >> chunkBits }

    /// Claims chunks of loop `generation` and runs them until none is left; chunk i runs as
    /// worker i (its scratch memory), whichever thread runs it.
    private func runChunks(of generation: Int) {
        var claim = claims.load(ordering: .acquiring)
        while Self.generation(of: claim) == generation, claim & (1 << Self.chunkBits - 1) < threads {
            let (exchanged, found) = claims.compareExchange(expected: claim, desired: claim &+ 1,
                                                            ordering: .acquiringAndReleasing)
            guard exchanged else {
                claim = found
                continue
            }
            let index = claim & (1 << Self.chunkBits - 1)
            loop?.run(chunk(index, of: count), rawPart: part, worker: index)
            if chunksDone.add(1, ordering: .acquiringAndReleasing).newValue == threads {
                pthread_mutex_lock(&mutex)  // the caller may be asleep: wake it under the lock
                pthread_cond_signal(&finished)
                pthread_mutex_unlock(&mutex)
            }
            claim = claims.load(ordering: .acquiring)
        }
    }

    /// `parallelFor` of a loop with one part.
    public func parallelFor<Loop: ParallelLoop>(_ count: Int, costPerItem: Int = 1, _ loop: Loop)
        where Loop.Part == OnlyPart {
        parallelFor(count, costPerItem: costPerItem, loop, part: .only)
    }

    /// The part of `0..<count` chunk `index` covers.
    private func chunk(_ index: Int, of count: Int) -> Range<Int> {
        (count * index / threads)..<(count * (index + 1) / threads)
    }

    private func work(_ index: Int) {
        var seen = 0
        func current() -> Int { Self.generation(of: claims.load(ordering: .acquiring)) }
        while true {
            let moved = Self.spin { current() != seen || stopping.load(ordering: .relaxed) }
            if !moved, current() == seen {
                pthread_mutex_lock(&mutex)
                while current() == seen, !stopping.load(ordering: .relaxed) { pthread_cond_wait(&wake, &mutex) }
                pthread_mutex_unlock(&mutex)
            }
            if stopping.load(ordering: .relaxed) { return }
            seen = current()
            runChunks(of: seen)
        }
    }

    /// Waits for the loop in flight, then lets the workers exit. The caller lock stays taken,
    /// so a loop that still reaches this pool runs serially.
    private func stop() {
        pthread_mutex_lock(&callerLock)
        pthread_mutex_lock(&mutex)
        stopping.store(true, ordering: .relaxed)
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
    }
}
