"""What the English glossary costs as a vocabulary grows: looking its words up in JMdict at
index time, the size of ``english.json``, reading it on the first English question, and
translating one question. Vocabularies are the sample index's own and the first N kanji
headwords of the dictionary itself (a stand-in for a large corpus's vocabulary)."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import arguments, median, ms, report, sample_index

QUESTION = "Who represented the US State Department at the 6th Japan-US internet economy meeting?"


def _dictionary_words(n: int) -> list[str]:
    from embeddings.glossary import dictionary_path

    path = dictionary_path()
    if path is None:
        raise SystemExit("jamdict-data is not installed: pip install jamdict-data")
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [w for (w,) in con.execute("SELECT DISTINCT text FROM Kanji LIMIT ?", (n,))]
    finally:
        con.close()


def _measure(words: list[str], repeats: int) -> dict[str, object]:
    from embeddings.glossary import build_glossary, load_glossary, save_glossary

    builds, loads, translations = [], [], []
    size = glossed = 0
    for _ in range(repeats):
        t = time.perf_counter()
        glosses = build_glossary(words)
        builds.append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as tmp:
            save_glossary(Path(tmp), glosses)
            size = (Path(tmp) / "english.json").stat().st_size
            t = time.perf_counter()
            glossary = load_glossary(Path(tmp))
            loads.append(time.perf_counter() - t)
        assert glossary is not None
        t = time.perf_counter()
        for _ in range(100):
            glossary.translate(QUESTION)
        translations.append((time.perf_counter() - t) / 100)
        glossed = len(glosses)
    return {
        "words looked up": len(words),
        "words glossed": glossed,
        "build s (index time)": round(median(builds), 3),
        "english.json KiB": size // 1024,
        "read s (first English question)": round(median(loads), 3),
        "translate ms": round(ms(median(translations)), 4),
    }


def main(argv: list[str]) -> None:
    ap = arguments("glossary", __doc__, repeats=3)
    args = ap.parse_args(argv)
    _, index_dir = sample_index(args.tiny)
    vocab = list(json.loads((index_dir / "current" / "lexical" / "vocab.index.json").read_text(encoding="utf-8")))
    rows = [{"vocabulary": "sample index", **_measure(vocab, 1 if args.tiny else args.repeats)}]
    for n in () if args.tiny else (50_000, 200_000):
        rows.append({"vocabulary": f"{n:,} JMdict headwords", **_measure(_dictionary_words(n), args.repeats)})
    report("glossary", rows, tiny=args.tiny, notes={"question": QUESTION})
