"""A citation names the page (slide, cells) of the quoted text itself, not where its passage starts."""

from __future__ import annotations

from types import SimpleNamespace

from bot.compose import compose_reply
from bot.quotes import QuoteSpan
from bot.retrieval import Candidate
from knowledge.chunking import chunk_document
from knowledge.document import Document
from knowledge.passage import ChunkSettings

PAGES = ["Page one opens here. It ends on page one.", "Page two goes on. Still page two.", "Page three closes."]


def pdf_document() -> Document:
    text = "\n\n".join(PAGES)
    starts = tuple(text.index(p) for p in PAGES)
    return Document(path="r.pdf", title="R", text=text, sha256="x", encoding="pdf", kind="pdf",
                    page_starts=starts, places=starts, place_names=("1", "2", "3"), body=((0, len(text)),))


def reply_for(doc: Document, quotes: list[str]):
    passages = chunk_document(doc, ChunkSettings(max_chars=1000, overlap_chars=0))
    assert len(passages) == 1 and passages[0].page == 1  # one passage over every page
    spans = [QuoteSpan(0, doc.text.index(q), doc.text.index(q) + len(q), 1.0) for q in quotes]
    label = SimpleNamespace(title=doc.title, url=None, kind=doc.kind)
    cand = Candidate(0, 1.0, 1.0, 1.0, None, 1.0)
    return compose_reply("q", "en", passages, {doc.path: label}, [cand], spans, True, "v")


def test_each_quote_cites_its_own_page_and_a_quote_across_a_break_cites_the_range():
    quotes = ["Page two goes on.", "Page three closes.", "It ends on page one.", "Still page two.\n\nPage three"]
    reply = reply_for(pdf_document(), quotes)
    pages = {q.text: (reply.citations[q.citation - 1].page, reply.citations[q.citation - 1].end_page)
             for q in reply.quotes}
    assert pages == {
        "Page two goes on.": (2, 2),
        "Page three closes.": (3, 3),
        "It ends on page one.": (1, 1),
        "Still page two.\n\nPage three": (2, 3),
    }
    assert len(reply.citations) == 4  # one source entry per place
    assert reply.passages[0].page == 1 and reply.passages[0].end_page == 3
