"""Exact top-k against a brute-force oracle, and the numpy vector store."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings import NumpyVectorStore, top_k


def oracle(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Full stable sort: highest score first, lower row first among equals."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    return [(i, float(scores[i])) for i in order[: max(k, 0)]]


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    m = rng.standard_normal((n, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 100, 1000])
def test_top_k_matches_oracle_on_random_scores(n):
    rng = np.random.default_rng(n)
    scores = rng.standard_normal(n).astype(np.float32)
    for k in [0, 1, 2, 3, 5, 10, 99, n - 1, n, n + 5]:
        assert top_k(scores, k) == oracle(scores, k), k


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(min_value=-3, max_value=3), min_size=0, max_size=40),
    k=st.integers(min_value=-1, max_value=45),
)
def test_top_k_breaks_ties_like_a_stable_sort(values, k):
    scores = np.asarray(values, dtype=np.float32)
    assert top_k(scores, k) == oracle(scores, k)


def test_search_is_exact_cosine_against_brute_force():
    rng = np.random.default_rng(7)
    store = NumpyVectorStore(32)
    blocks = {f"doc{i}.txt": unit_rows(rng, int(rng.integers(0, 40)), 32) for i in range(12)}
    for doc, block in blocks.items():
        store.add(doc, block)
    matrix = np.concatenate(list(blocks.values()))
    assert np.array_equal(store.matrix, matrix)
    for trial in range(20):
        q = rng.standard_normal(32).astype(np.float32) * (trial + 1)  # not normalised on purpose
        expected_scores = matrix @ (q / np.linalg.norm(q))
        for k in (1, 3, 10, len(matrix), len(matrix) + 3):
            got = store.search(q, k)
            want = oracle(expected_scores, k)
            assert [r for r, _ in got] == [r for r, _ in want]
            assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-5)


def test_duplicate_vectors_rank_by_row():
    store = NumpyVectorStore(2)
    v = np.array([[1.0, 0.0]] * 5, dtype=np.float32)
    store.add("a", v)
    assert [r for r, _ in store.search(np.array([1.0, 0.0]), 3)] == [0, 1, 2]


def test_query_of_wrong_width_is_refused():
    store = NumpyVectorStore(4)
    with pytest.raises(ValueError, match="4"):
        store.search(np.ones(3), 1)


def test_add_delete_and_rows_per_document():
    store = NumpyVectorStore(2)
    a = np.array([[1, 0], [0, 1]], dtype=np.float32)
    b = np.array([[0.6, 0.8]], dtype=np.float32)
    c = np.array([[0.8, 0.6], [1, 0]], dtype=np.float32)
    assert store.add("a", a) == 0
    assert store.add("b", b) == 2
    assert store.add("c", c) == 3
    with pytest.raises(ValueError, match="already"):
        store.add("b", b)
    store.delete("b")
    assert len(store) == 4
    assert store.rows_of("c") == (2, 2)
    assert np.array_equal(store.vectors_of("c"), c)
    assert np.array_equal(store.matrix, np.concatenate([a, c]))
    store.delete("missing")  # no error
    with pytest.raises(ValueError, match="shape"):
        store.add("d", np.zeros((1, 3), dtype=np.float32))


def test_save_and_load_round_trip_without_pickle(tmp_path):
    rng = np.random.default_rng(1)
    store = NumpyVectorStore(8)
    store.add("x", unit_rows(rng, 3, 8))
    store.add("y", unit_rows(rng, 2, 8))
    path = tmp_path / "v.npy"
    store.save(path)
    loaded = NumpyVectorStore.load(path, {"x": (0, 3), "y": (3, 2)})
    assert isinstance(loaded.matrix, np.memmap)
    assert np.array_equal(loaded.matrix, store.matrix)
    assert np.array_equal(loaded.vectors_of("y"), store.vectors_of("y"))
    # a loaded store can be changed like a fresh one
    loaded.delete("x")
    loaded.add("z", unit_rows(rng, 1, 8))
    assert loaded.rows_of("y") == (0, 2) and loaded.rows_of("z") == (2, 1)


@pytest.mark.parametrize(
    "ranges",
    [{"x": (0, 3)}, {"x": (0, 3), "y": (3, 3)}, {"x": (0, 3), "y": (2, 2)}, {"x": (1, 4)}],
)
def test_load_refuses_ranges_that_do_not_tile_the_matrix(tmp_path, ranges):
    store = NumpyVectorStore(2)
    store.add("x", np.ones((5, 2), dtype=np.float32))
    store.save(tmp_path / "v.npy")
    with pytest.raises(ValueError):
        NumpyVectorStore.load(tmp_path / "v.npy", ranges)
