import Evaluation
import FileFormats
import FlowSpec
import Tasks
import Training

/// What a command has just added to a run directory, and the one way the run's report catches
/// up with it: the plots (and interpretation) drawn from what was added, then `report.html`
/// assembled anew from the directory's files. `train`, `eval`, `calibrate` and
/// `tune-thresholds` each end with `refresh`, so the page never shows a stale view.
public enum RunReport {
    /// What was added, with what its plots are drawn from.
    public enum Addition {
        /// A finished training: `metrics.csv` (learning curves) and, with diagnostics on,
        /// `worst_samples.csv`.
        case training
        /// `eval` on `split`: learning curves, the evaluation and reliability plots, and the best
        /// and worst samples per task (`interpretation/`).
        case evaluation(SplitPredictions, split: String)
        /// `calibrate` on `split`: a reliability diagram per task at the fitted temperatures
        /// (which the decoders carry).
        case calibration(SplitOutputs, tasks: [ResolvedTask], decoders: [TaskDecoder], split: String)
        /// `tune-thresholds` on `split`: the metric by threshold of every tuned decision.
        case thresholds([ThresholdTuning.Tuned], objective: BestThreshold.Objective, split: String)
    }

    /// Draws the plots of `addition` into `run`, then writes `report.html`.
    public static func refresh(_ run: RunDirectory, flow: ResolvedFlow, after addition: Addition) throws(Problem) {
        switch addition {
        case .training:
            try RunPlots.writeLearningCurves(run, tasks: flow.tasks)
            try WorstSamplesChart.write(run)
        case let .evaluation(predictions, split):
            try RunPlots.writeLearningCurves(run, tasks: flow.tasks)
            try RunPlots.writeEvaluation(predictions, split: split, run: run)
            try RunPlots.writeReliability(predictions.outputs, tasks: predictions.tasks, decoders: predictions.decoders,
                                          split: split, run: run)
            try Interpretation.write(predictions, flow: flow, split: split, run: run)
        case let .calibration(outputs, tasks, decoders, split):
            try RunPlots.writeReliability(outputs, tasks: tasks, decoders: decoders, split: split, run: run)
        case let .thresholds(tuned, objective, split):
            try RunPlots.writeThresholds(tuned, objective: objective, split: split, run: run)
        }
        try ReportPage.write(run, flow: flow)
    }
}
