import FlowSpec
import Foundation
import Tasks
import Training

/// `flowtrain calibrate`: for each binary, multilabel and classification task, the temperature
/// that minimises its mean negative log-likelihood on exactly the rows where its label is
/// present and its precondition holds on the labels — the rows its metrics and its loss count
/// (docs/semantics.md). A task gated on `door_open` is calibrated on open doors only, which is
/// where its scores are read in deployment.
///
/// A fitted temperature is kept only when it also leaves the task's expected calibration error
/// on those rows no higher; otherwise T stays 1, with a note giving both.
public enum TemperatureScaling {
    /// `calibration.yaml` for `outputs` (raw logits: the fit never starts from an earlier
    /// calibration, and ignores the decoders' temperatures), fitted on split `split`, in the
    /// model's task order; `decoders` give each task's output.
    public static func calibrate(_ outputs: SplitOutputs, tasks: [ResolvedTask], decoders: [TaskDecoder],
                                 split name: String) -> Calibration {
        let split = outputs.split
        var calibration = Calibration(split: name, tasks: [])
        for (t, task) in tasks.enumerated() where TemperatureFit.applies(to: decoders[t].output.type) {
            let output = decoders[t].output
            let type = output.type, width = output.units
            let targetWidth = output.targetShape.reduce(1, *)
            var logits: [Float] = [], labels: [Float] = []
            for r in 0..<split.rows where split.counts[t][r] {
                logits += outputs.logits(t, r)
                labels += split.targets[t][(r * targetWidth)..<((r + 1) * targetWidth)]
            }
            let fit = TemperatureFit.fit(type, logits: logits, labels: labels, width: width)
            func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }
            func ece(_ temperature: Float) -> Double? {
                var scores: [Float] = []
                scores.reserveCapacity(logits.count)
                for r in 0..<fit.rows {
                    scores += TaskPredictions.activate(type, Array(logits[(r * width)..<((r + 1) * width)]),
                                                       temperature: temperature)
                }
                let (confidences, outcomes) = CalibrationMetrics.pairs(type, scores: scores, labels: labels, width: width)
                return finite(CalibrationMetrics.expectedCalibrationError(
                    CalibrationMetrics.bins(confidences: confidences, outcomes: outcomes)))
            }
            var entry = Calibration.Entry(temperature: fit.temperature, rows: fit.rows, nllBefore: finite(fit.nllBefore),
                                          nllAfter: finite(fit.nllAfter), eceBefore: ece(1), eceAfter: ece(fit.temperature),
                                          note: fit.note)
            // A temperature is kept only when the calibration error on its own rows does not grow
            // either: the likelihood can improve while the binned error gets worse, where the
            // model's error is not one of scale (a bias), and calibrate must not hand back a
            // model that reads as less calibrated than the one it was given.
            if let before = entry.eceBefore, let after = entry.eceAfter, after > before {
                entry.note = String(format: "T = %.4g lowered the NLL (%.5f → %.5f) but not the ECE (%.5f → %.5f) "
                                    + "on these rows: T stays 1", Double(fit.temperature), fit.nllBefore, fit.nllAfter,
                                    before, after)
                (entry.temperature, entry.nllAfter, entry.eceAfter) = (1, entry.nllBefore, before)
            }
            calibration.tasks.append((task.path.description, entry))
        }
        return calibration
    }
}
