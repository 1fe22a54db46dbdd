/// flowtrain's version: what `flowtrain --version` prints, `state.json` records and an exported
/// model carries in its metadata.
public enum FlowtrainVersion {
    public static let current = "0.1.0"
}
