import Foundation
import Synchronization

/// Ctrl-C or SIGTERM (`kill`, a batch scheduler's stop) during training: the first one asks the
/// run to stop after its current step (it writes a checkpoint and exits 128 + the signal's
/// number); a second one stops the process at once, as usual.
enum Interruption {
    /// The signal that asked the run to stop; 0 while none has.
    private static let requested = Atomic<Int32>(0)

    /// Installs the handler; until then SIGINT and SIGTERM end the process (loading data, say).
    static func catchFirstSignal() {
        for stop in [SIGINT, SIGTERM] {
            signal(stop) { number in
                Interruption.requested.store(number, ordering: .relaxed)
                // async-signal-safe; the next stop signal is not caught
                signal(SIGINT, SIG_DFL)
                signal(SIGTERM, SIG_DFL)
            }
        }
        // A parent may have started us with the signals blocked (some process launchers do),
        // which would leave them pending until exit.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static var wasRequested: Bool { requested.load(ordering: .relaxed) != 0 }

    /// 128 + the signal's number, as shells report a process that signal ended (130 for Ctrl-C).
    static var exitStatus: Int32 { 128 + requested.load(ordering: .relaxed) }
}
