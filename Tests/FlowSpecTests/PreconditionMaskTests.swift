@testable import FlowSpec
import Testing

/// Masks on hand-made batches, against docs/semantics.md.
struct PreconditionMaskTests {
    static let flowText = """
        name: t
        data: {train: train.csv}
        inputs:
          x: {type: numeric, columns: [a]}
        flow:
          camera_blocked: {type: binary}
          door_open: {type: binary, when: not camera_blocked}
          door_locked: {type: binary, when: not door_open}
          shirt: {type: classification, classes: [coat, dress, jacket], when: door_open}
          warm: {type: binary, when: "shirt in [coat, jacket] or door_locked"}
          size: {type: regression, when: shirt == dress}
        """

    /// Rows of (camera_blocked, door_open, door_locked, shirt, warm, size); nil is a missing label.
    static let rows: [[Float?]] = [
        [0, 1, nil, 0, 1, nil],      // 0: open door, coat
        [0, 0, 1, nil, 1, 3],        // 1: closed, locked; shirt missing
        [1, 1, 1, 2, 1, 5],          // 2: camera blocked: nothing below it counts
        [nil, 1, 0, 1, 0, 4],        // 3: camera_blocked missing: door_open cannot count
        [0, 1, 1, 1, 0, 2],          // 4: open, dress: door_locked does not count
        [0, 0, 0, nil, 0, nil],      // 5: closed, unlocked: warm's `or` is false
    ]

    func counts() throws -> [String: [Bool]] {
        let flow = try FlowLoader.load(bytes: Array(Self.flowText.utf8), file: "t.yaml")
        let mask = PreconditionMask(tasks: flow.tasks, classes: [:])
        let order = flow.tasks.map(\.path.description)
        let columns = ["camera_blocked", "door_open", "door_locked", "shirt", "warm", "size"]
        let result = mask.counts(rows: Self.rows.count) { t, r in
            Self.rows[r][columns.firstIndex(of: order[t])!]
        }
        return Dictionary(uniqueKeysWithValues: zip(order, result))
    }

    @Test func masksFollowTheThreeValuedSemantics() throws {
        let c = try counts()
        #expect(c["camera_blocked"] == [true, true, true, false, true, true])
        #expect(c["door_open"] == [true, true, false, false, true, true])
        #expect(c["door_locked"] == [false, true, false, false, false, true])
        #expect(c["shirt"] == [true, false, false, false, true, false])
        // warm: row 0 coat → true; row 1 shirt unknown or locked → true; row 4 dress, locked
        // does not count → false or unknown → unknown; row 5 unlocked, shirt unknown → unknown.
        #expect(c["warm"] == [true, true, false, false, false, false])
        #expect(c["size"] == [false, false, false, false, true, false])
    }
}
