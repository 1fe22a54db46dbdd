import Foundation
import Synchronization

/// Ctrl-C during training: the first SIGINT asks the run to stop after its current step (it
/// writes a checkpoint and exits 130); a second one stops the process at once, as usual.
enum Interruption {
    private static let requested = Atomic<Bool>(false)

    /// Installs the handler; until then SIGINT ends the process (loading data, say).
    static func catchFirstSignal() {
        signal(SIGINT) { _ in
            Interruption.requested.store(true, ordering: .relaxed)
            signal(SIGINT, SIG_DFL)  // async-signal-safe; the next Ctrl-C is not caught
        }
        // A parent may have started us with SIGINT blocked (some process launchers do), which
        // would leave the signal pending until exit.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static var wasRequested: Bool { requested.load(ordering: .relaxed) }
}
