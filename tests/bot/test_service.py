"""AnswerService over a real on-disk index built with the deterministic fake embedder."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.answer import AnswerParams
from bot.service import AnswerService
from bot.settings import Settings
from tests.fakes import FakeEmbedder

DOCS = {
    "guide.md": (
        "# 経費精算ガイド\n\n## 締め日\n\n経費精算の締め日は毎月25日です。\n遅れた場合は翌月に回ります。\n\n"
        "## 交通費\n\n交通費は実費を精算します。定期区間は対象外です。\n"
    ),
    "security.txt": (
        "情報セキュリティ規程\n\n1 パスワード\n\nパスワードは12文字以上とし、90日ごとに変更する。\n\n"
        "2 持ち出し\n\n社外への持ち出しには上長の承認が必要である。\n"
    ),
}


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def make_service(tmp_path: Path, embedder: FakeEmbedder | None = None) -> AnswerService:
    settings = Settings.load(
        {"docs_dir": str(write_docs(tmp_path / "docs", DOCS)), "index_dir": str(tmp_path / "index")},
        env={"KOTAE_DATA_DIR": str(tmp_path / "data")},
    )
    return AnswerService(settings, embedder=embedder or FakeEmbedder(), params=AnswerParams(abstain_threshold=-10.0))


def test_answer_quotes_the_source_verbatim_at_the_cited_lines(tmp_path):
    service = make_service(tmp_path)
    service.refresh(progress=False)
    reply = service.answer("経費精算の締め日は毎月何日？")
    assert reply.answered and reply.language == "ja"
    assert "25日" in reply.quotes[0].text
    cite = next(c for c in reply.citations if c.n == reply.quotes[0].citation)
    assert (cite.title, cite.source) == ("経費精算ガイド", "guide.md")
    assert cite.section[-1] == "締め日"
    lines = (tmp_path / "docs" / "guide.md").read_text(encoding="utf-8").splitlines(keepends=True)
    assert reply.quotes[0].text in "".join(lines[cite.start_line - 1 : cite.end_line])
    assert reply.index_version == service.index_version


def test_refresh_after_answering_reuses_the_loaded_embedder(tmp_path):
    embedder = FakeEmbedder()
    service = make_service(tmp_path, embedder)
    service.refresh(progress=False)
    service.answer("パスワードの長さは？")
    (tmp_path / "docs" / "security.txt").write_text(
        DOCS["security.txt"] + "\n3 廃棄\n\n書類はシュレッダーで廃棄する。\n", encoding="utf-8"
    )
    report = service.refresh(progress=False)
    assert report.changed == ["security.txt"]
    assert "シュレッダー" in service.answer("書類の廃棄方法は？").quotes[0].text


def test_a_refresh_by_another_process_is_picked_up_without_restart(tmp_path):
    serving = make_service(tmp_path)
    serving.refresh(progress=False)
    old_version = serving.index_version
    assert serving.reload_if_changed() is False

    other = make_service(tmp_path)  # same folders, as a `kotae index` run would be
    (tmp_path / "docs" / "guide.md").unlink()
    other.refresh(progress=False)

    assert serving.reload_if_changed() is True
    assert serving.index_version != old_version
    reply = serving.answer("経費精算の締め日は？")
    assert all(c.source != "guide.md" for c in reply.citations)
    assert all(p.source != "guide.md" for p in reply.passages)


def test_answers_keep_flowing_while_the_index_is_swapped(tmp_path):
    service = make_service(tmp_path)
    service.refresh(progress=False)
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                assert service.answer("交通費の精算は？").quotes
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    other = make_service(tmp_path)
    for i in range(3):
        (tmp_path / "docs" / f"extra{i}.txt").write_text(f"追加資料{i}。交通費の補足{i}です。", encoding="utf-8")
        other.refresh(progress=False)
        service.reload_if_changed()
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert service.index.documents.keys() >= {"extra0.txt", "extra1.txt", "extra2.txt"}


def test_empty_questions_get_a_request_to_rephrase(tmp_path):
    service = make_service(tmp_path)
    service.refresh(progress=False)
    reply = service.answer("   ")
    assert not reply.answered and not reply.quotes
    assert "rephrase" in reply.lead


def test_suggested_questions_come_from_the_headings(tmp_path):
    service = make_service(tmp_path)
    service.refresh(progress=False)
    questions = service.suggested_questions(4)
    assert 1 <= len(questions) <= 4
    assert len(set(questions)) == len(questions)
    assert all(q.endswith("について教えて") for q in questions)
    assert any("締め日" in q or "パスワード" in q for q in questions)


def test_missing_index_says_how_to_build_it(tmp_path):
    from knowledge.errors import IndexMissingError

    service = make_service(tmp_path)
    with pytest.raises(IndexMissingError, match="kotae index"):
        service.answer("何か")


def test_a_damaged_refresh_is_reported_once_and_the_loaded_index_keeps_serving(tmp_path):
    import os
    import shutil

    from knowledge.errors import IndexCorruptError

    service = make_service(tmp_path)
    service.refresh(progress=False)
    good = service.index_version
    index = tmp_path / "index"
    shutil.copytree(index / "versions" / good, index / "versions" / "damaged")
    (index / "versions" / "damaged" / "manifest.json").write_text("{not json", encoding="utf-8")
    os.symlink("versions/damaged", index / "current.tmp")
    os.replace(index / "current.tmp", index / "current")

    with pytest.raises(IndexCorruptError, match="kotae index --full"):
        service.reload_if_changed()
    assert service.reload_if_changed() is False  # not read again
    assert service.index_version == good
    assert "25日" in service.answer("経費精算の締め日は？").quotes[0].text


def test_a_follow_up_is_searched_with_its_conversations_earlier_questions(tmp_path):
    """「いつ変更する？」 alone matches both documents' wording; after a question about passwords,
    the password rule is what it is answered from, and the earlier questions are embedded too."""
    embedder = FakeEmbedder()
    service = make_service(tmp_path, embedder)
    service.refresh(progress=False)
    alone = service.answer("それはいつまで？")
    followed = service.answer("それはいつまで？", context=("パスワードの規程は？",))
    assert followed.question == "それはいつまで？"
    assert followed.passages[0].source == "security.txt"
    assert alone.passages[0].source == "guide.md"  # without the thread, another subject wins
    assert any("パスワードの規程" in text for text in embedder.queries)
