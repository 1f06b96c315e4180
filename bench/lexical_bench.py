"""Lexical retrieval over the sample corpus: Kotae's BM25 (fugashi content words, bm25s,
memory-mapped) vs ``bm25s`` alone with its default tokenizer over the same passage texts.
Latency per question (top 40, as retrieval asks) and hit@5: a retrieved passage contains the
question's evidence string (eval/dev.jsonl)."""

from __future__ import annotations

import json
import time

from bench.common import ROOT, arguments, median, ms, pct, report, sample_index


def _evidence(tiny: bool) -> list[tuple[str, list[str]]]:
    if tiny:
        return [("ITUの加盟国は何か国？", ["193か国"]), ("WCIT-12はどこで開かれた？", ["ドバイ"])]
    out = []
    for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        out.append((d["question"], list(d.get("evidence") or [])))
    return out


def main(argv: list[str]) -> None:
    ap = arguments("lexical", __doc__, repeats=3)
    args = ap.parse_args(argv)
    import bm25s

    from embeddings import open_index, passage_text

    _, index_dir = sample_index(args.tiny)
    index = open_index(index_dir)
    texts = [passage_text(index.documents[p.doc_path].title, p.section, p.text) for p in index.passages]
    plain = bm25s.BM25()
    plain.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    items = _evidence(args.tiny)
    index.search_lexical(items[0][0], 40)

    def kotae(q: str) -> list[int]:
        return [r for r, _ in index.search_lexical(q, 40)]

    def alone(q: str) -> list[int]:
        toks = bm25s.tokenize([q], show_progress=False)
        if not toks.vocab:
            return []
        docs, scores = plain.retrieve(toks, k=min(40, len(texts)), show_progress=False)
        return [int(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    rows = []
    for what, fn in (("kotae LexicalIndex (fugashi + bm25s)", kotae), ("bm25s alone (default tokenizer)", alone)):
        lats, hits, answerable = [], 0, 0
        for rep in range(1 if args.tiny else args.repeats):
            for q, evidence in items:
                t = time.perf_counter()
                got = fn(q)
                lats.append(time.perf_counter() - t)
                if rep == 0 and evidence:
                    answerable += 1
                    top = " ".join(index.passages[r].text for r in got[:5])
                    hits += any(e in top for e in evidence)
        rows.append({"what": what, "median ms": ms(median(lats)), "p95 ms": ms(pct(lats, 95)),
                     "hit@5": round(hits / max(answerable, 1), 3)})
    report("lexical", rows, tiny=args.tiny, notes={"passages": len(texts), "questions": len(items)})
