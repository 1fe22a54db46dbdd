import FlowSpec
import Foundation
import Tasks

/// `flowtrain calibrate`: for each binary, multilabel and classification task, the temperature
/// that minimises its mean negative log-likelihood on exactly the rows where its label is
/// present and its precondition holds on the labels — the rows its metrics and its loss count
/// (docs/semantics.md). A task gated on `door_open` is calibrated on open doors only, which is
/// where its scores are read in deployment.
///
/// A fitted temperature is kept only when the rows show the model is miscalibrated (a
/// likelihood-ratio test at 5%) and when it also leaves the task's expected calibration error
/// on those rows no higher; otherwise T stays 1, with a note giving the figures.
public enum TemperatureScaling {
    /// The 95% point of χ² with one degree of freedom: twice the log-likelihood gained by
    /// fitting T exceeds it by chance one time in twenty when the model is calibrated.
    public static let likelihoodRatioThreshold = 3.841
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
            // The NLL is a mean per decision: per row for classification, per label otherwise.
            let decisions = type == .classification ? fit.rows : logits.count
            let statistic = 2 * Double(decisions) * (fit.nllBefore - fit.nllAfter)
            if fit.temperature != 1, statistic.isFinite, statistic < likelihoodRatioThreshold {
                // A temperature fitted to noise (a calibrated model, T a percent from 1) moves
                // held-out scores at random, as likely to raise their calibration error as to
                // lower it.
                entry.note = String(format: "T = %.4g lowered the NLL (%.5f → %.5f) by no more than chance would on %d "
                                    + "rows (likelihood ratio %.2f < %.2f, χ² at 5%%): the model reads as calibrated, "
                                    + "T stays 1", Double(fit.temperature), fit.nllBefore, fit.nllAfter, fit.rows,
                                    statistic, likelihoodRatioThreshold)
                (entry.temperature, entry.nllAfter, entry.eceAfter) = (1, entry.nllBefore, entry.eceBefore)
            } else if let before = entry.eceBefore, let after = entry.eceAfter, after > before {
                // The likelihood can improve while the binned error gets worse, where the model's
                // error is not one of scale (a bias): calibrate must not hand back a model that
                // reads as less calibrated than the one it was given.
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
