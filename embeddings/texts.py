"""Exactly what text is embedded (and tokenised for BM25) for a passage and for a sentence.

Kept in one place because vectors are only comparable when every row was made the same way:
changing either function — or where passages and sentences are cut (``knowledge.chunking``,
``knowledge.sentences``) — must change :data:`EMBEDDING_TEXT_VERSION`, which is recorded in the
manifest and makes the next refresh rebuild everything.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["EMBEDDING_TEXT_VERSION", "passage_text", "sentence_text"]

EMBEDDING_TEXT_VERSION = "title-section-text/heading-sentence/v3"  # v3: sentences run on across one blank line


def passage_text(title: str, section: Sequence[str], text: str) -> str:
    """A passage in context: document title, heading path (outermost first) and the text.

    ``"{title}\\n{section 1} › {section 2}\\n{text}"``; empty parts (no title, no heading) are
    left out with their line. The same string is tokenised for the lexical index, so a question
    naming a document or a section finds its passages.
    """
    lines = [title.strip(), " › ".join(s.strip() for s in section if s.strip()), text]
    return "\n".join(line for line in lines if line)


def sentence_text(text: str, context: str = "") -> str:
    """A sentence, prefixed with the heading (or title) it sits under: ``"{context}：{sentence}"``.

    The heading tells the model what a terse sentence is about (slide bullets, table rows); on
    the development set it raised the best-sentence ranker's hit@1 from 0.60 to 0.67. A blank
    sentence gives ``""`` (nothing to embed), whatever the context.
    """
    sentence = text.strip()
    if not sentence:
        return ""
    context = context.strip()
    return f"{context}：{sentence}" if context else sentence
