"""HTML -> logical text: the page's content as blocks separated by blank lines, the way the
chunker reads text (``qa.layout``).

Written for manuals and articles alike: paragraphs keep none of the source's line wrapping;
headings, list items (``- ``), table rows (``| a | b |``) and definition terms are lines of their
own; preformatted code is kept verbatim between ``` fences. Left out: scripts and styles, page
furniture (navigation, headers and footers, sidebars, tables of contents, "copy" buttons,
heading anchors such as Sphinx's ¶) and blocks that are mostly links (menus, link lists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree, html

_DROPPED_TAGS = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "form",
    "button",
    "select",
    "input",
    "textarea",
    "nav",
    "aside",
    "head",
}
_FURNITURE_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary", "menu"}
# class or id words that name page furniture in the generators people use (Sphinx, DocBook,
# MkDocs, Javadoc, WordPress, news sites); matched as whole words of the attribute.
_FURNITURE_WORDS = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navheader|navfooter|navigation|menu|breadcrumbs?|"
    r"sphinxsidebar|related|toc|tocwrapper|footer|site-header|skip|cookie|share|social|"
    r"headerlink|copybutton|copy-button|advert|ads|banner|switchers|searchbox)(?:$|[\s_-])",
    re.IGNORECASE,
)
# A sidebar beside a page's text is furniture (a blog's widgets); one inside it is a box of the
# text's own (DocBook's <sidebar>: "BACK TO BASICS", "CULTURE" notes in a manual's sections).
_SIDEBAR = re.compile(r"(?:^|[\s_-])sidebar(?:$|[\s_-])", re.IGNORECASE)
_TEXT_BODY_WORDS = re.compile(
    r"(?:^|\s)(?:section|sect[1-5]|chapter|appendix|preface|refentry)(?:$|\s)", re.IGNORECASE
)
_MAIN_SELECTORS = (
    "//main",
    "//*[@role='main']",
    "//article",
    "//*[@itemprop='articleBody']",
)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "blockquote",
    "figure",
    "figcaption",
    "address",
    "center",
    "details",
    "summary",
    "caption",
    "body",
    "html",
    "hr",
}
_LINE_BREAK = "\x00"  # where a <br> broke the inline text (whitespace runs collapse around it)
_BLANK_LINES = re.compile(r"\n{3,}")
_ANCHOR_SYMBOLS = {"¶", "#", "§", "🔗", "⚓", "link"}
_DATE_META = (
    "article:published_time",
    "datePublished",
    "citation_publication_date",
    "dc.date.issued",
    "DC.date.issued",
    "dc.date",
    "DC.date",
    "date",
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_LINK_DENSE = 0.6  # a block whose text is mostly link text is a menu or a list of links
_LINK_DENSE_MIN_WORDS = 3


@dataclass
class _Writer:
    """Collects blocks of text; inline text is gathered into the current block."""

    blocks: list[str] = field(default_factory=list)
    inline: list[str] = field(default_factory=list)
    prefix: str = ""

    def text(self, value: str | None) -> None:
        if value:
            self.inline.append(value)

    def line_break(self) -> None:
        """A ``<br>``: the block goes on, on a new line. Text set in lines (a README wrapped at
        72 columns, an address, verse) keeps them, and ``qa.layout`` tells wraps from lines."""
        self.inline.append(_LINE_BREAK)

    def end_block(self) -> None:
        """The inline text gathered so far as a block: whitespace runs as one space, each
        ``<br>`` a line break, two or more in a row a blank line (a paragraph's end)."""
        lines = (" ".join(line.split()) for line in "".join(self.inline).split(_LINE_BREAK))
        words = _BLANK_LINES.sub("\n\n", "\n".join(lines).strip("\n"))
        self.inline.clear()
        if words:  # a list item's marker waits for the item's first words
            self.blocks.append(self.prefix + words)
            self.prefix = ""

    def verbatim(self, value: str) -> None:
        self.end_block()
        body = value.strip("\n").rstrip()
        if body.strip():
            self.blocks.append(f"```\n{body}\n```")


@dataclass(frozen=True)
class HtmlContent:
    text: str
    title: str | None  # the text's first <h1>, else <title>, else the page's first <h1>
    published: str | None  # a publication date the page declares (meta tags, <time>), as given


def html_to_text(data: str) -> HtmlContent:
    """The page's logical text, title and declared publication date."""
    # lxml refuses a str that still declares its encoding (XHTML's <?xml ... encoding=...?>).
    data = _XML_DECLARATION.sub("", data, count=1)
    try:
        root = html.document_fromstring(data)
    except (etree.ParserError, ValueError):
        return HtmlContent("", None, None)
    page_title, first_heading = _words_of(root, "//title"), _words_of(root, "//h1")
    published = _declared_date(root)
    for element in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        _drop(element)
    for element in list(root.iter()):
        if isinstance(element.tag, str) and _is_furniture(element):
            _drop(element)
    body = _main_content(root)
    # The text's own first <h1>; else the page's <title>; else a first <h1> that was furniture
    # (mdBook's menu bar names the site, "The Rust Programming Language", on every page).
    title = _words_of(body, ".//h1") or page_title or first_heading
    _drop_link_lists(body)
    writer = _Writer()
    _walk(body, writer)
    writer.end_block()
    return HtmlContent("\n\n".join(writer.blocks), title, published)


def _words_of(root: html.HtmlElement, path: str) -> str | None:
    """The words of the first element at ``path`` that has any (a heading's "¶" aside)."""
    for found in root.xpath(path):
        words = " ".join(found.text_content().split()).rstrip("¶#").strip()
        if words:
            return words
    return None


def _declared_date(root: html.HtmlElement) -> str | None:
    """The publication date in the page's metadata (news sites and blogs declare it)."""
    for name in _DATE_META:
        for meta in root.xpath(
            f"//meta[@property='{name}' or @name='{name}' or @itemprop='{name}']"
        ):
            if (meta.get("content") or "").strip():
                return str(meta.get("content")).strip()
    for time in root.xpath("//time[@datetime]"):
        return str(time.get("datetime")).strip() or None
    return None


def _is_furniture(element: html.HtmlElement) -> bool:
    if element.tag in _DROPPED_TAGS:
        return True
    if (element.get("role") or "").lower() in _FURNITURE_ROLES:
        return True
    if element.get("aria-hidden") == "true" or element.get("hidden") is not None:
        return True
    if element.tag == "a" and _in_heading(element):
        # A heading's self-link ("¶" after a Sphinx heading, "#" in MkDocs) is furniture; a link
        # holding the heading's words (back to a contents list: class "toc-backref") is not.
        return (element.text_content() or "").strip() in _ANCHOR_SYMBOLS
    marks = f"{element.get('class') or ''} {element.get('id') or ''}"
    if marks.strip() and _FURNITURE_WORDS.search(marks) and element.tag not in ("body", "html"):
        return True
    if _SIDEBAR.search(marks):
        return not _in_text_body(element)
    # A self-link elsewhere ("#" beside a term, a figure).
    if element.tag == "a" and (element.get("href") or "").startswith("#"):
        return (element.text_content() or "").strip() in _ANCHOR_SYMBOLS
    return False


def _in_text_body(element: html.HtmlElement) -> bool:
    """Whether ``element`` sits inside the page's text: an article, the main element, or a
    section or chapter as DocBook and similar generators mark them."""
    for ancestor in element.iterancestors():
        if ancestor.tag in ("article", "main", "section") or (ancestor.get("role") == "main"):
            return True
        if _TEXT_BODY_WORDS.search(ancestor.get("class") or ""):
            return True
    return False


def _in_heading(element: html.HtmlElement) -> bool:
    return any(ancestor.tag in _HEADINGS for ancestor in element.iterancestors())


def _main_content(root: html.HtmlElement) -> html.HtmlElement:
    """The page's main element when it marks one that holds most of the text, else the body."""
    body = root.find("body")
    body = body if body is not None else root
    total = len(body.text_content().split()) or 1
    for selector in _MAIN_SELECTORS:
        for candidate in root.xpath(selector):
            if len(candidate.text_content().split()) >= 0.3 * total:
                return candidate  # type: ignore[no-any-return]
    return body


def _drop_link_lists(body: html.HtmlElement) -> None:
    """Remove lists and divisions that are mostly links (menus, "see also" lists, indexes).
    A division holding a heading or a paragraph of its own words is a section of the page (a
    short paragraph before a list of links to read): it stays, and only its lists of links go."""
    for element in list(body.iter("ul", "ol", "div", "table", "dl")):
        if element.getparent() is None:
            continue
        if _link_dense(element) and not (element.tag == "div" and _holds_own_text(element)):
            _drop(element)


def _link_dense(element: html.HtmlElement) -> bool:
    words = len(element.text_content().split())
    linked = sum(len(a.text_content().split()) for a in element.iter("a"))
    return words >= _LINK_DENSE_MIN_WORDS and linked / words > _LINK_DENSE


def _holds_own_text(division: html.HtmlElement) -> bool:
    """A heading, or a paragraph of a few words that are mostly not links."""
    return any(
        element.tag in _HEADINGS
        or (
            len(element.text_content().split()) >= _LINK_DENSE_MIN_WORDS
            and not _link_dense(element)
        )
        for element in division.iter(*_HEADINGS, "p")
    )


def _drop(element: etree._Element) -> None:
    """Remove ``element`` but keep the text that follows it (its tail)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _walk(element: html.HtmlElement, writer: _Writer) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "pre":
        writer.verbatim(element.text_content())
        writer.text(element.tail)
        return
    if tag == "table":
        writer.end_block()
        _table(element, writer)
        writer.text(element.tail)
        return
    if tag == "br":
        writer.line_break()
        writer.text(element.tail)
        return
    starts_block = tag in _BLOCKS or tag in _HEADINGS or tag in ("li", "dt", "dd", "tr")
    if starts_block:
        writer.end_block()
        if tag == "li":
            writer.prefix = "- "
    writer.text(element.text)
    for child in element:
        _walk(child, writer)
    if starts_block:
        writer.end_block()
    writer.text(element.tail)


def _table(table: html.HtmlElement, writer: _Writer) -> None:
    """Each row a line of cells between bars; a one-cell row (a layout table) as a paragraph."""
    for row in table.iter("tr"):
        cells = [" ".join(cell.text_content().split()) for cell in row if cell.tag in ("td", "th")]
        cells = [cell.replace("|", "/") for cell in cells]
        if len([c for c in cells if c]) > 1:
            writer.blocks.append("| " + " | ".join(cells) + " |")
        elif any(cells):
            writer.blocks.append(next(c for c in cells if c))
