"""Routing questions to knowledge bases, and several real indexes sharing one model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels_file import load_channels_file
from bot.knowledge_bases import KnowledgeBase, KnowledgeBases, open_knowledge_bases, settings_index_for
from bot.settings import Settings
from embeddings.lazy import LazyEmbedder
from knowledge.errors import ConfigError, NoKnowledgeBaseError
from tests.embeddings.helpers import DOCS
from tests.fakes import FakeEmbedderFactory
from tests.reliability.helpers import write_tree
from tests.slack.fakes import FakeAnswerer, reply_for

HR_DOCS = {"leave.md": "# 休暇規程\n\n年次有給休暇は入社6か月後に10日付与される。\n"}


def named(name: str, *, answered: bool = True, score: float = 0.5) -> FakeAnswerer:
    def build(question: str, version: str):
        reply = reply_for(f"{name}:{question}", version, answered=answered)
        return replace(reply, passages=tuple(replace(p, score=score) for p in reply.passages))

    service = FakeAnswerer(builder=build)
    service.suggested_questions = lambda limit=4: [f"{name}-{n}" for n in range(limit)]  # type: ignore[method-assign]
    return service


def bases(**options) -> KnowledgeBases:
    services = [KnowledgeBase("general", named("general")), KnowledgeBase("hr", named("hr")),
                KnowledgeBase("eng", named("eng"))]
    return KnowledgeBases(services, channels={"C0HR000001": "hr", "C0ENG00001": "eng"}, **options)


def test_a_listed_channel_sees_its_knowledge_base_only_and_others_the_default():
    kb = bases(default="general")
    assert kb.route("C0HR000001", is_dm=False).names == ("hr",)
    assert kb.route("C0ENG00001", is_dm=False).names == ("eng",)
    assert kb.route("C0ELSEWHERE", is_dm=False).names == ("general",)
    assert kb.route("D0DIRECT01", is_dm=True).names == ("general",)  # DMs: the default only


def test_without_a_default_unlisted_channels_and_dms_see_nothing():
    kb = bases(default=None)
    assert kb.route("C0ELSEWHERE", is_dm=False) is None
    assert kb.route("D0DIRECT01", is_dm=True) is None
    assert kb.route("C0HR000001", is_dm=False).names == ("hr",)
    assert "channels not listed: refused (no default)" in kb.summary()


def test_dms_may_search_several_and_get_the_best_supported_reply():
    services = [KnowledgeBase("general", named("general", answered=False, score=0.9)),
                KnowledgeBase("eng", named("eng", score=0.4)), KnowledgeBase("hr", named("hr", score=0.7))]
    kb = KnowledgeBases(services, default="general", direct_messages=["general", "eng", "hr"])
    base, reply = kb.route("D0DIRECT01", is_dm=True).answer("質問")
    assert base.name == "hr" and reply.question == "hr:質問"  # answered beats abstained; then evidence
    assert kb.route("D0DIRECT01", is_dm=True).suggested_questions(4) == ["general-0", "eng-0", "hr-0", "general-1"]
    only_abstaining = KnowledgeBases(services[:1], default="general")
    assert only_abstaining.route("D1", is_dm=True).answer("q")[1].answered is False


def test_lookup_by_name_for_the_command_line():
    kb = bases(default="general")
    assert kb.get(None).name == "general" and kb.get("hr").name == "hr"
    with pytest.raises(NoKnowledgeBaseError, match="choose one of: general, hr, eng"):
        kb.get("payroll")
    with pytest.raises(NoKnowledgeBaseError, match="--kb NAME"):
        bases(default=None).get(None)
    assert [name for name, _ in kb.services()] == ["general", "hr", "eng"]


def test_summary_says_who_sees_what():
    lines = bases(default="general", direct_messages=["general", "eng"]).summary()
    assert lines == ["general: every other channel; DMs and the AI-app panel",
                     "hr: channels C0HR000001",
                     "eng: channels C0ENG00001; DMs and the AI-app panel"]


def test_inconsistent_names_are_refused():
    with pytest.raises(ConfigError, match="unknown knowledge base"):
        bases(default="payroll")
    with pytest.raises(ConfigError, match="distinct names"):
        KnowledgeBases([KnowledgeBase("a", named("a")), KnowledgeBase("a", named("b"))])


def _write_config(root: Path, extra: str = "") -> Path:
    write_tree(root / "general", DOCS)
    write_tree(root / "hr", HR_DOCS)
    path = root / "kotae-channels.yaml"
    path.write_text("knowledge_bases:\n  - {name: general, docs: general}\n"
                    "  - {name: hr, docs: hr, channels: [C0HR000001]}\ndefault: general\n" + extra, encoding="utf-8")
    return path


def test_each_knowledge_base_has_its_own_index_and_they_share_one_model_loaded_once(tmp_path):
    path = _write_config(tmp_path)
    settings = Settings.load({"channels_file": str(path), "model": "fake:v1"},
                             env={"KOTAE_DATA_DIR": str(tmp_path / "data")})
    factory = FakeEmbedderFactory()
    config = load_channels_file(path, settings_index_for(settings))
    kb = KnowledgeBases.from_config(config, settings, LazyEmbedder("fake:v1", lambda: factory("fake:v1")))
    assert factory.loads == 0  # nothing loaded until something is embedded
    for _, service in kb.services():
        service.refresh(progress=False)
    assert factory.loads == 1
    general, hr = (s for _, s in kb.services())
    assert general.settings.index_dir != hr.settings.index_dir
    assert general.settings.index_dir == settings.for_documents(tmp_path / "general").index_dir
    assert {p.doc_path for p in hr.index.passages} == {"leave.md"}
    assert "leave.md" not in {p.doc_path for p in general.index.passages}
    assert general.embedder is hr.embedder
    # A refresh that finds nothing changed never loads the model.
    again = FakeEmbedderFactory()
    kb2 = KnowledgeBases.from_config(config, settings, LazyEmbedder("fake:v1", lambda: again("fake:v1")))
    assert all(s.refresh(progress=False).nothing_changed for _, s in kb2.services())
    assert again.loads == 0


def test_open_knowledge_bases_without_a_file_is_one_default(tmp_path):
    settings = Settings.load({"docs_dir": str(write_tree(tmp_path / "docs", DOCS))},
                             env={"KOTAE_DATA_DIR": str(tmp_path / "data")})
    kb = open_knowledge_bases(settings)
    assert kb.names == ("default",) and kb.get(None).service.settings == settings
    assert kb.route("C0ANYWHERE", is_dm=False).names == ("default",)
    assert kb.route("D0ANYWHERE", is_dm=True).names == ("default",)
