/// The frame of flowtrain's self-contained pages (`report.html`, `search.html`): the document
/// around a body, with inline CSS — the rules every page shares, then the page's own — and
/// nothing fetched.
public enum HTMLPage {
    /// A whole document titled `title` (escaped here), holding `body` (HTML already), styled by
    /// the shared rules and then `style`.
    public static func document(title: String, style: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(XMLText.escape(title))</title>
        <style>
        body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
        h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
        .meta { color: #666; margin-top: 0; }
        table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
        th, td { border-bottom: 1px solid #e4e4e4; padding: 0.25em 0.7em; text-align: left; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        th { background: #f4f4f4; }
        .plots { display: flex; flex-wrap: wrap; gap: 1em; }
        .empty { color: #888; font-style: italic; }
        \(style)
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }
}
