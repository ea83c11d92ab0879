"""qa.html_text: a page's content as logical blocks, without its furniture."""

from __future__ import annotations

from qa.html_text import html_to_text

SPHINX_PAGE = """<!DOCTYPE html>
<html><head><title>Sorting HOW TO &#8212; Python 3.11 documentation</title>
<meta charset="utf-8"></head>
<body>
<div class="related" role="navigation"><ul><li><a href="index.html">index</a></li>
<li><a href="next.html">next</a></li></ul></div>
<div class="document"><div class="body" role="main">
<section id="sorting-how-to">
<h1>Sorting HOW TO<a class="headerlink" href="#sorting-how-to" title="Permalink">¶</a></h1>
<p>Python lists have a built-in <code class="docutils literal">list.sort()</code> method that
modifies the list
in-place.  There is also a <a href="#x">sorted()</a> built-in function.</p>
<div class="highlight-pycon"><pre><span class="gp">&gt;&gt;&gt; </span>sorted([5, 2, 3])
[2, 3, 5]
</pre><button class="copybutton">Copy</button></div>
<ul><li><p>First, the list is decorated.</p></li><li><p>Second, it is sorted.</p></li></ul>
<table><tr><th>name</th><th>grade</th></tr><tr><td>john</td><td>A</td></tr></table>
</section></div></div>
<div class="footer">&#169; Copyright 2001-2023, Python Software Foundation.</div>
<script>alert("x")</script>
</body></html>"""


def test_sphinx_page_becomes_logical_blocks() -> None:
    content = html_to_text(SPHINX_PAGE)
    assert content.title == "Sorting HOW TO"
    blocks = content.text.split("\n\n")
    assert blocks[0] == "Sorting HOW TO"  # no ¶ anchor
    assert blocks[1] == (
        "Python lists have a built-in list.sort() method that modifies the list in-place. "
        "There is also a sorted() built-in function."
    )  # the source's line wrapping is gone
    assert blocks[2] == "```\n>>> sorted([5, 2, 3])\n[2, 3, 5]\n```"  # code verbatim, fenced
    assert blocks[3:5] == ["- First, the list is decorated.", "- Second, it is sorted."]
    assert blocks[5:] == ["| name | grade |", "| john | A |"]
    for furniture in ("index", "next", "Copyright", "Copy", "alert", "Permalink"):
        assert furniture not in content.text


def test_a_heading_that_links_back_to_the_contents_keeps_its_words() -> None:
    """docutils links each heading back to the page's contents list (class "toc-backref"):
    the link holds the heading's words, so it is not the contents list's furniture."""
    page = """<html><body><div role="main">
<nav class="contents"><ul><li><a href="#primer" id="id2">Primer</a></li></ul></nav>
<h2><a class="toc-backref" href="#id2" role="doc-backlink">Primer</a><a class="headerlink"
href="#primer" title="Permalink">¶</a></h2>
<p>In this primer, we start with the most basic example.</p>
</div></body></html>"""
    assert html_to_text(page).text.split("\n\n") == [
        "Primer",
        "In this primer, we start with the most basic example.",
    ]


def test_xhtml_with_an_encoding_declaration_and_a_declared_date() -> None:
    page = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>News</title>'
        '<meta property="article:published_time" content="2019-10-16T09:00:00Z"/></head>'
        "<body><div class='navheader'><a href='a'>Prev</a> <a href='b'>Next</a></div>"
        "<h2>Inspectors praise services</h2><p>The services are good.</p></body></html>"
    )
    content = html_to_text(page)
    assert content.text == "Inspectors praise services\n\nThe services are good."
    assert content.published == "2019-10-16T09:00:00Z"


def test_a_menu_of_links_is_left_out_but_a_paragraph_with_a_link_is_kept() -> None:
    page = (
        "<body><ul><li><a href='1'>Home</a></li><li><a href='2'>About us</a></li>"
        "<li><a href='3'>Contact us</a></li></ul>"
        "<p>Read the <a href='r'>full report</a> for the details of every finding.</p></body>"
    )
    assert html_to_text(page).text == "Read the full report for the details of every finding."


def test_a_section_ending_in_links_keeps_its_heading_and_paragraph() -> None:
    """DocBook puts each section in a <div>; one whose list of links outweighs its words is
    still a section: its heading and paragraph stay, its list of links goes."""
    links = "".join(f"<li><a href='{n}'>Guide number {n} to the agent</a></li>" for n in range(4))
    page = (
        "<body><div class='section'><h3>6.1.1. Spoofing the User-Agent string</h3>"
        "<p>You may need to spoof the <a href='ua'>User-Agent</a> string. See:</p>"
        f"<ul>{links}</ul></div></body>"
    )
    assert html_to_text(page).text.split("\n\n") == [
        "6.1.1. Spoofing the User-Agent string",
        "You may need to spoof the User-Agent string. See:",
    ]


def test_broken_markup_gives_text_not_an_error() -> None:
    assert html_to_text("<p>Unclosed <b>bold <i>text").text == "Unclosed bold text"
    assert html_to_text("").text == ""


def test_text_set_in_lines_keeps_them_and_two_breaks_end_a_paragraph() -> None:
    # A README shown as a DocBook "literallayout": one line per <br>, a blank line as two. Each
    # line as a paragraph of its own cut every sentence at the wrap.
    page = (
        '<html><body><div class="literallayout"><p><br>'
        "7. See if it works. Either this works, or it<br>"
        "bombs out with some complaint.<br><br>"
        "Important! Do not move the installation.<br></p></div></body></html>"
    )
    assert html_to_text(page).text == (
        "7. See if it works. Either this works, or it\nbombs out with some complaint.\n\n"
        "Important! Do not move the installation."
    )


def test_a_sidebar_inside_a_section_is_text_and_one_beside_the_article_is_furniture() -> None:
    # DocBook sets a manual's "BACK TO BASICS" boxes as <div class="sidebar"> in the section; a
    # blog's sidebar of widgets stands beside the article.
    page = (
        "<html><body>"
        '<div class="section"><h2>6.1. Filling in the sources.list file</h2>'
        "<p>Each active line of the file describes a package source.</p>"
        '<div class="sidebar"><p class="title"><b>BACK TO BASICS Package sources</b></p>'
        "<p>A package source is a place where packages can be found and downloaded.</p></div>"
        "</div>"
        '<div class="sidebar widget-area"><p>Subscribe to our newsletter for weekly tips.</p></div>'
        "</body></html>"
    )
    text = html_to_text(page).text
    assert "A package source is a place where packages can be found" in text
    assert "newsletter" not in text


def test_the_title_is_the_texts_own_heading_not_the_site_name_in_its_menu_bar() -> None:
    # mdBook: the site's name is an <h1> in the menu bar on every page.
    menu = '<div id="menu-bar" class="menu-bar"><h1 class="menu-title">The Rust Book</h1></div>'
    head = "<head><title>Error Handling - The Rust Book</title></head>"
    with_h1 = f"<html>{head}<body>{menu}<main><h1>Error Handling</h1><p>Rust groups errors.</p></main></body></html>"
    with_h2 = f"<html>{head}<body>{menu}<main><h2>Error Handling</h2><p>Rust groups errors.</p></main></body></html>"
    assert html_to_text(with_h1).title == "Error Handling"
    assert html_to_text(with_h2).title == "Error Handling - The Rust Book"
    assert "The Rust Book" not in html_to_text(with_h1).text
