"""The Debian question sets match the manuals as Kotae reads them (no model needed).

Every evidence string must occur exactly once in the extracted text of the corpus subset
(compared as ``kotae eval`` compares: NFKC, whitespace removed), in the page its ``source`` names,
and every answer inside its evidence or on the same extracted line.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter

import pytest

from knowledge.loading import load_documents
from tests.devsets import EVAL, corpora, require_corpus

CORPORA = corpora()


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


@pytest.mark.parametrize("name", sorted(CORPORA.CORPORA))
def test_question_set_is_about_the_pages_as_read(name, tmp_path):
    docs = {d.path: d.text for d in load_documents(require_corpus(name, tmp_path / name))}
    assert sorted(docs) == sorted(CORPORA.CORPORA[name].pages)
    normalized = {path: _norm(text) for path, text in docs.items()}
    rows = [json.loads(line) for line in (EVAL / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    kinds = Counter(r["kind"] for r in rows)
    assert len(rows) >= 60 and len({r["id"] for r in rows}) == len(rows)
    assert sum(r["lang"] == "en" for r in rows) >= 20 and kinds["unanswerable"] >= 10
    assert {"fact", "paraphrase", "number", "multi"} <= set(kinds)
    for row in rows:
        if row["kind"] == "unanswerable":
            assert not row["evidence"] and row["answer"] is None and row["note"], row["id"]
            continue
        sources = row["source"] if isinstance(row["source"], list) else [row["source"]]
        answers = row["answer"] if isinstance(row["answer"], list) else [row["answer"]]
        lines = []
        for evidence in row["evidence"]:
            assert "\n" not in evidence, row["id"]
            found = {path: text.count(_norm(evidence)) for path, text in normalized.items()}
            assert sum(found.values()) == 1, (row["id"], evidence, found)
            (path,) = (p for p, n in found.items() if n)
            assert path in sources, (row["id"], path)
            text = docs[path]
            at = text.find(evidence)
            assert at >= 0, (row["id"], "evidence is not verbatim", evidence)
            lines.append(text[text.rfind("\n", 0, at) + 1 : (text.find("\n", at) + 1 or len(text) + 1) - 1])
        for answer in answers:
            assert any(_norm(answer) in _norm(line) for line in lines), (row["id"], answer)
        if row["kind"] == "multi":
            assert row["evidence_mode"] == "all" and len(set(lines)) >= 2, row["id"]
