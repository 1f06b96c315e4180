"""Turning retrieval results into a :class:`Reply`: lead line, quotes, numbered sources."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bot.quotes import QuoteSpan
from bot.reply import Citation, Quote, Reply, RetrievedPassage
from bot.retrieval import Candidate
from knowledge.lines import count_breaks
from knowledge.passage import Passage
from knowledge.places import Location, locate

__all__ = ["LEADS", "DocLabel", "compose_reply", "refusal"]


class DocLabel(Protocol):
    """What a reply needs to know about a document (``embeddings.DocInfo`` has it)."""

    @property
    def title(self) -> str: ...

    @property
    def url(self) -> str | None: ...

    @property
    def kind(self) -> str: ...


LEADS = {
    "ja": {
        "one": "「{title}」には次のように書かれています。",
        "many": "資料には次のように書かれています（出典{count}件）。",
        "none": "ご質問に直接答える記述は、資料の中に見つかりませんでした。近い内容の箇所を示します。",
        "empty": "質問の内容を読み取れませんでした。言葉を変えて、もう一度質問してください。",
        "no_documents": (
            "検索できる資料がありません。資料フォルダに .txt .md .html .pdf .docx .pptx .xlsx を置き、"
            "`kotae index` で取り込んでください（読めなかったファイルは理由つきで表示されます）。"
        ),
    },
    "en": {
        "one": "Here is what “{title}” says.",
        "many": "Here is what the documents say ({count} sources).",
        "none": "The documents don't answer this directly. These are the closest passages.",
        "empty": "I couldn't find a question in that message. Please rephrase it and ask again.",
        "no_documents": (
            "There are no documents to search yet. Put .txt .md .html .pdf .docx .pptx .xlsx files in the "
            "documents folder and run `kotae index` (it lists every file it could not read, with why)."
        ),
    },
}


def _lines(passage: Passage, kind: str, start: int, end: int) -> tuple[int, int]:
    """Source lines of ``passage.text``'s slice [start, end) (absolute offsets)."""
    if kind not in ("text", "markdown"):
        return passage.start_line, passage.end_line  # lines of extracted text: cite the passage
    at, last_char = start - passage.start, max(end - 1, start) - passage.start
    first = passage.start_line + count_breaks(passage.text, 0, at)
    last = first + count_breaks(passage.text, at, last_char)
    return first, last


def _place(passage: Passage, kind: str, start: int, end: int) -> dict[str, Any]:
    """The page/slide/cells of ``[start, end)`` inside ``passage``, as Citation fields."""
    where = locate(kind, passage.places, start, end)
    if kind == "pdf" and where.page is None:  # no place recorded: the passage's own pages
        where = Location(page=passage.page, end_page=passage.end_page)
    return dataclasses.asdict(where)


def _citation(n: int, passage: Passage, doc: DocLabel, start: int, end: int) -> Citation:
    first, last = _lines(passage, doc.kind, start, end)
    return Citation(
        n=n,
        title=doc.title,
        source=passage.doc_path,
        section=passage.section,
        start_line=first,
        end_line=last,
        url=doc.url,
        **_place(passage, doc.kind, start, end),
    )


def _retrieved(
    passages: Sequence[Passage], docs: Mapping[str, DocLabel], ranked: Sequence[Candidate]
) -> tuple[RetrievedPassage, ...]:
    out = []
    for cand in ranked:
        p = passages[cand.row]
        out.append(
            RetrievedPassage(
                source=p.doc_path,
                title=docs[p.doc_path].title,
                section=p.section,
                start_line=p.start_line,
                end_line=p.end_line,
                text=p.text,
                score=round(cand.score, 4),
                **_place(p, docs[p.doc_path].kind, p.start, p.end),
            )
        )
    return tuple(out)


def compose_reply(
    question: str,
    language: str,
    passages: Sequence[Passage],
    docs: Mapping[str, DocLabel],
    ranked: Sequence[Candidate],
    quotes: Sequence[QuoteSpan],
    answered: bool,
    index_version: str,
) -> Reply:
    leads = LEADS[language]
    retrieved = _retrieved(passages, docs, ranked)
    if not answered or not quotes:
        suggestions = tuple(
            _citation(n, passages[c.row], docs[passages[c.row].doc_path], passages[c.row].start, passages[c.row].end)
            for n, c in enumerate(ranked[:3], start=1)
        )
        return Reply(question, language, False, leads["none"], (), suggestions, retrieved, index_version)

    citations: list[Citation] = []
    out_quotes: list[Quote] = []
    for q in quotes:
        passage = passages[q.row]
        cite = _citation(len(citations) + 1, passage, docs[passage.doc_path], q.start, q.end)
        same = next(
            (
                c
                for c in citations
                if dataclasses.replace(c, n=cite.n) == cite
            ),
            None,
        )
        if same is None:
            citations.append(cite)
            same = cite
        text = passage.text[q.start - passage.start : q.end - passage.start]
        out_quotes.append(Quote(text=text, citation=same.n))
    titles = {c.title for c in citations}
    lead = (
        leads["one"].format(title=citations[0].title) if len(titles) == 1 else leads["many"].format(count=len(titles))
    )
    return Reply(question, language, True, lead, tuple(out_quotes), tuple(citations), retrieved, index_version)


def refusal(question: str, language: str, reason: str, index_version: str = "") -> Reply:
    """A reply that quotes nothing: ``reason`` is a key of :data:`LEADS` ('empty', 'no_documents')."""
    return Reply(question, language, False, LEADS[language][reason], (), (), (), index_version)
