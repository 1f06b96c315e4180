"""The channels file: its shape, and a message naming the line and key for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels_file import load_channels_file
from bot.settings import Settings
from knowledge.errors import ChannelsFileError, ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "slack" / "kotae-channels.example.yaml"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("general", "hr", "eng"):
        (tmp_path / name).mkdir()
    return tmp_path


def settings_for(folder: Path) -> Settings:
    return Settings.load({}, env={"KOTAE_DATA_DIR": str(folder / "data")})


def load(folder: Path, text: str):
    path = folder / "kotae-channels.yaml"
    path.write_text(text, encoding="utf-8")
    settings = settings_for(folder)
    return load_channels_file(path, lambda docs, index: settings.for_documents(docs, index).index_dir)


GOOD = """\
knowledge_bases:
  - name: general
    docs: general
  - name: hr
    docs: hr
    index: indexes/hr
    channels: [C0HRCHAN01, G0HRLEAD01]
default: general
"""


def _more(entry: str) -> str:
    """GOOD with one more knowledge base (starting at line 8)."""
    return GOOD.replace("default: general\n", entry + "default: general\n")


def test_a_good_file_resolves_paths_from_its_folder_and_derives_index_folders(folder):
    config = load(folder, GOOD)
    general, hr = config.bases
    assert (general.name, general.docs_dir, general.channels) == ("general", folder / "general", frozenset())
    assert hr.channels == {"C0HRCHAN01", "G0HRLEAD01"} and hr.index_dir == folder / "indexes" / "hr"
    # Without `index:`, the same folder `kotae index --docs general` would use.
    expected = Settings.load({"docs_dir": str(folder / "general")},
                             env={"KOTAE_DATA_DIR": str(folder / "data")}).index_dir
    assert general.index_dir == expected
    assert config.default == "general"
    assert config.direct_messages == ("general",)  # the safe default: the default one only
    assert (general.line, hr.line) == (2, 4)


def test_no_default_means_no_direct_messages_unless_listed(folder):
    config = load(folder, GOOD.replace("default: general\n", ""))
    assert config.default is None and config.direct_messages == ()
    config = load(folder, GOOD.replace("default: general\n", "default: null\ndirect_messages: [hr, general]\n"))
    assert config.default is None and config.direct_messages == ("hr", "general")
    config = load(folder, GOOD + "direct_messages: []\n")
    assert config.default == "general" and config.direct_messages == ()


def test_the_commented_example_is_valid_once_its_folders_exist(folder):
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("/srv/kotae/docs/general", "general").replace("/srv/kotae/docs/hr", "hr")
    text = text.replace("../docs/engineering", "eng").replace("/srv/kotae/indexes/hr", "indexes/hr")
    config = load(folder, text)
    assert config.names == ("general", "hr", "engineering")
    assert config.default == "general" and config.direct_messages == ("general", "engineering")
    assert config.bases[1].channels == {"C0123HRCHAT", "G0456HRLEADS"}


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        (GOOD.replace("default:", "defualt:"), 8, "defualt", "unknown key 'defualt'"),
        (GOOD.replace("    docs: hr\n", ""), 4, "knowledge_bases[1]", "'docs:' is missing"),
        (GOOD.replace("C0HRCHAN01", "'#hr'"), 7, "knowledge_bases[1].channels[0]", "not a channel ID"),
        (GOOD.replace("C0HRCHAN01", "hr"), 7, "knowledge_bases[1].channels[0]", "Channel names change"),
        (GOOD.replace("C0HRCHAN01", "D0DIRECT01"), 7, "knowledge_bases[1].channels[0]", "direct_messages"),
        (GOOD.replace("channels: [C0HRCHAN01, G0HRLEAD01]", "channels: C0HRCHAN01"), 7,
         "knowledge_bases[1].channels", "expected a list"),
        (GOOD.replace("default: general", "default: payroll"), 8, "default", "no knowledge base is named 'payroll'"),
        (GOOD + "direct_messages: [general, hr2]\n", 9, "direct_messages[1]", "the names are: general, hr"),
        (GOOD.replace("name: hr", "name: general"), 4, "knowledge_bases[1].name", "already used at line 2"),
        (GOOD.replace("name: hr", "name: 人事 部"), 4, "knowledge_bases[1].name", "not a usable name"),
        (GOOD.replace("docs: hr", "docs: missing-folder"), 5, "knowledge_bases[1].docs", "does not exist"),
        (GOOD.replace("    index: indexes/hr\n", "    docs: hr\n"), 6, "knowledge_bases[1].docs", "appears twice"),
        (_more("  - name: hr-copy\n    docs: hr\n    index: indexes/hr\n"), 8, "knowledge_bases[2]",
         "share the index folder"),
        (_more("  - name: hr-again\n    docs: hr\n    index: indexes/hr2\n    channels: [C0HRCHAN01]\n"), 8,
         "knowledge_bases[2].channels", "channel C0HRCHAN01 is already listed under 'hr'"),
        ("knowledge_bases: []\n", 1, "knowledge_bases", "the list is empty"),
        ("default: general\n", 1, "", "no 'knowledge_bases:' list"),
        ("- general\n- hr\n", 1, "", "expected keys"),
        ("knowledge_bases:\n  - name: general\n   docs: general\n", 3, "", "not valid YAML"),
    ],
)
def test_mistakes_name_the_line_and_key_to_fix(folder, text, line, key, words):
    with pytest.raises(ChannelsFileError) as caught:
        load(folder, text)
    error = caught.value
    assert isinstance(error, ConfigError)  # the CLI turns it into exit code 1 with the message
    assert (error.line, error.key) == (line, key), str(error)
    assert words in str(error)
    assert str(error).startswith(f"{folder / 'kotae-channels.yaml'}, line {line}")


@pytest.mark.parametrize(("content", "words"), [(None, "no such file"), (b"", "is empty"),
                                                (b"\xff\xfe\x00bad", "not UTF-8"),
                                                (b"#" * 1_000_001, "over 1 MB"), ("dir", "is a folder")])
def test_unreadable_files_say_what_to_do(folder, content, words):
    path = folder / "kotae-channels.yaml"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ChannelsFileError, match=words):
        load_channels_file(path, lambda docs, index: folder / "index")


def test_the_path_is_a_setting_that_excludes_docs_and_index(folder, monkeypatch):
    path = folder / "kotae-channels.yaml"
    settings = Settings.load({}, env={"KOTAE_CHANNELS_FILE": str(path)})
    assert settings.channels_file == path
    assert Settings.load({"channels_file": str(path)}, env={}).channels_file == path
    with pytest.raises(ConfigError, match="cannot be combined with a channels file"):
        Settings.load({}, env={"KOTAE_CHANNELS_FILE": str(path), "KOTAE_DOCS": str(folder / "hr")})
    with pytest.raises(ConfigError, match="--index"):
        Settings.load({"channels_file": str(path), "index_dir": str(folder / "i")}, env={})
