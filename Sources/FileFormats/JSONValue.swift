/// A JSON value as the header parser reads it. Numbers keep their text: the header's numbers
/// are dimensions and byte offsets, which must be read as exact integers, never through a
/// Double. Object members keep their order.
enum JSONValue {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null
}
