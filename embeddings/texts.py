"""Exactly what text is embedded (and tokenised for BM25) for a passage and for a sentence.

Kept in one place because vectors are only comparable when every row was made the same way:
changing either function must change :data:`EMBEDDING_TEXT_VERSION`, which is recorded in the
manifest and makes the next refresh rebuild everything.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["EMBEDDING_TEXT_VERSION", "passage_text", "sentence_text"]

EMBEDDING_TEXT_VERSION = "title-section-text/sentence/v1"


def passage_text(title: str, section: Sequence[str], text: str) -> str:
    """A passage in context: document title, heading path (outermost first) and the text.

    ``"{title}\\n{section 1} › {section 2}\\n{text}"``; empty parts (no title, no heading) are
    left out with their line. The same string is tokenised for the lexical index, so a question
    naming a document or a section finds its passages.
    """
    lines = [title.strip(), " › ".join(s.strip() for s in section if s.strip()), text]
    return "\n".join(line for line in lines if line)


def sentence_text(text: str) -> str:
    """A sentence on its own, as written (surrounding whitespace removed).

    No title prefix: sentence vectors are compared with the query only among the sentences of
    passages already retrieved, to pick the quote, so what matters is what each sentence says.
    """
    return text.strip()
