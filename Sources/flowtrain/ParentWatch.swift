import Foundation
import Synchronization

/// `train --parent-process PID`, as `flowtrain search` starts its trials: when that process
/// ends (killed with SIGKILL, say, which it cannot pass on), this one is given another parent.
/// Before training has started it then exits at once (nothing of the run is lost: every file
/// is replaced whole); once training, it stops after its current step with a checkpoint, as on
/// SIGTERM. Either way the search's `--resume` finds the trial's directory free soon after.
enum ParentWatch {
    private static let ended = Atomic<Bool>(false)
    private static let training = Atomic<Bool>(false)

    static var parentEnded: Bool { ended.load(ordering: .relaxed) }

    /// Checks twice a second, on a thread of its own, whether `parent` is still this process's parent.
    static func start(parent: Int32) {
        let thread = Thread {
            while getppid() == parent { usleep(500_000) }
            ended.store(true, ordering: .relaxed)
            if !training.load(ordering: .relaxed) { _exit(128 + SIGTERM) }
        }
        thread.start()
    }

    /// From here on the parent's end stops the run after a step, with a checkpoint.
    static func trainingStarts() { training.store(true, ordering: .relaxed) }
}
