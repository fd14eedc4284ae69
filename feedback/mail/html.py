"""HTML to text for HTML-only replies, cutting quoted history in the tree first.

Quote markup is unambiguous in the tree (``div.gmail_quote``, ``blockquote``, Outlook's
``#divRplyFwdMsg``/``#appendonsend``) but not in the flattened text, so it is removed before
conversion. Signature containers (``.gmail_signature``, Outlook's ``#Signature``) get a ``-- ``
line in front so the signature step can split them off. The converter is a small walk over a
selectolax (lexbor) tree: ~15x faster than inscriptis on the corpus (docs/parsing.md), and it
keeps what matters here: block elements and ``<br>`` become line breaks, Word's ``MsoNormal``
paragraphs are single lines, other ``<p>`` are paragraphs.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

MAX_HTML_CHARS = 512 * 1024
MAX_NODES = 50_000

# quote containers removed on their own (the reply may continue after them: bottom/inline posts)
_QUOTE_SELECTORS = (
    "div.gmail_quote, blockquote, div.moz-cite-prefix, div.yahoo_quoted, div.protonmail_quote, "
    "div#mail-editor-reference-message-container, div.zmail_extra"
)
# markers after which everything is the forwarded/replied-to message (Outlook web/desktop)
_CUT_SELECTORS = "div#appendonsend, div#divRplyFwdMsg, div#x_divRplyFwdMsg, div.OutlookMessageHeader"
_SIGNATURE_SELECTORS = (
    "div.gmail_signature, div#Signature, div.moz-signature, div#ms-outlook-mobile-signature"
)

_BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
        "body",
        "html",
    ]
)
_SKIP = frozenset(
    ["head", "style", "script", "title", "meta", "link", "template", "noscript", "svg", "object"]
)
_QUOTE_MARK = "\u2063>\u2063"  # invisible separators around ">": its own line after flattening
_WS = re.compile(r"[ \t\r\n\f]+")
_BLANKS = re.compile(r"\n{3,}")


def _cut_from(node: LexborNode) -> None:
    """Remove ``node`` and everything after it in document order."""
    cur: LexborNode | None = node
    while cur is not None and cur.tag not in ("body", "html"):
        sib = cur.next
        while sib is not None:
            nxt = sib.next
            sib.decompose()
            sib = nxt
        cur = cur.parent
    node.decompose()


def html_to_text(html: str) -> tuple[str, bool]:
    """Text of the sender's own part of an HTML body, and whether quote markup was found."""
    tree = LexborHTMLParser(html[:MAX_HTML_CHARS])
    root = tree.body or tree.root
    if root is None:
        return "", False
    found = False
    cut = root.css_first(_CUT_SELECTORS)
    if cut is not None:
        found = True
        prev = cut.prev
        while prev is not None and prev.tag in ("-text", "hr"):  # Outlook's separator rule
            p, prev = prev, prev.prev
            if p.tag == "hr":
                p.decompose()
        _cut_from(cut)
    for node in root.css(_QUOTE_SELECTORS):
        found = True
        node.insert_before(_QUOTE_MARK)  # tells the text pass a quote was here (inline replies)
        node.decompose()
    for node in root.css(_SIGNATURE_SELECTORS):
        node.insert_before("\n-- \n")
    return _flatten(root), found


def _flatten(root: LexborNode) -> str:
    """Walk the tree iteratively (no recursion limit on deep markup) and emit text."""
    out: list[str] = []
    trailing = 2  # newlines at the end of ``out`` (2 = at the start of a paragraph)

    def newlines(k: int) -> None:
        nonlocal trailing
        if trailing < k:
            out.append("\n" * (k - trailing))
            trailing = k

    stack: list[tuple[LexborNode, bool]] = [(root, False)]
    count = 0
    while stack:
        node, closing = stack.pop()
        tag = node.tag or ""
        if closing:
            newlines(2 if tag == "p" and "MsoNormal" not in (node.attributes.get("class") or "") else 1)
            continue
        count += 1
        if count > MAX_NODES:
            break
        if tag == "-text":
            text = _WS.sub(" ", node.text_content or "")
            if text.strip(" "):
                if _QUOTE_MARK in text:
                    newlines(1)
                    out.append(">")
                    trailing = 0
                    newlines(1)
                    continue
                out.append(text)
                trailing = 0
            continue
        if tag.startswith("-") or tag in _SKIP or tag == "img":
            continue
        if tag == "br":
            out.append("\n")
            trailing += 1
            continue
        if tag in _BLOCK:
            newlines(1)
            stack.append((node, True))
        children: list[LexborNode] = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend((c, False) for c in reversed(children))
    text = "".join(out).replace("\xa0", " ")
    lines = [ln.strip(" ") for ln in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip("\n")
