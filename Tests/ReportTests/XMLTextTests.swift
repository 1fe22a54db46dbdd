import Testing
@testable import Report

@Suite struct XMLTextTests {
    @Test func escapesMarkupAndDropsControlCharacters() {
        #expect(XMLText.escape("a<b & \"c\" > 'd'") == "a&lt;b &amp; &quot;c&quot; &gt; &#39;d&#39;")
        #expect(XMLText.escape("x\u{1}y\tz\u{7F}") == "xy\tz\u{7F}")
        #expect(XMLText.escape("größe ⟨ok⟩") == "größe ⟨ok⟩")
    }
}
