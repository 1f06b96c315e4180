"""An English question's vector is mixed with that of the Japanese words its words gloss."""

from __future__ import annotations

import numpy as np
import pytest

from bot.answer import glossed_words, question_vector


class _Embedder:
    """Japanese text → (0, 1), anything else → (1, 0); records what it embedded."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed_query(self, text: str) -> np.ndarray:
        self.seen.append(text)
        japanese = any("\u3040" <= ch <= "\u9fff" for ch in text)
        return np.array([0.0, 1.0] if japanese else [1.0, 0.0], dtype=np.float32)


class _Index:
    def english_words(self, question: str) -> list[str]:
        return ["フィンランド", "政策", "フィンランド"] if "Finland" in question else []


def test_an_english_question_leans_toward_its_glossed_words():
    embedder = _Embedder()
    words = glossed_words(_Index(), "Who is the counterpart in Finland?", "en")
    vec, glossed = question_vector(embedder, "Who is the counterpart in Finland?", words, 0.2)
    assert words == ["フィンランド", "政策"]  # each word once
    assert embedder.seen == ["Who is the counterpart in Finland?", "フィンランド 政策"]
    assert glossed and vec == pytest.approx(np.array([1.0, 0.2]) / np.hypot(1.0, 0.2))
    assert np.linalg.norm(vec) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("index", "question", "language", "weight"),
    [
        (_Index(), "フィンランドの相手は？", "ja", 0.2),  # Japanese: its own words
        (_Index(), "Who is the counterpart?", "en", 0.2),  # nothing glossed
        (_Index(), "Who is the counterpart in Finland?", "en", 0.0),  # switched off
        (object(), "Who is the counterpart in Finland?", "en", 0.2),  # an index without a glossary
    ],
)
def test_otherwise_the_question_is_embedded_once_as_asked(index, question, language, weight):
    embedder = _Embedder()
    vec, glossed = question_vector(embedder, question, glossed_words(index, question, language), weight)
    assert embedder.seen == [question]
    assert not glossed and vec.tolist() == embedder.embed_query(question).tolist()
