"""Lines that are context, not quotes: breadcrumbs, URL lines, captions, column names."""

from __future__ import annotations

import numpy as np

from bot.context_lines import is_context
from bot.quotes import QuoteParams, select_quotes
from bot.retrieval import Candidate
from knowledge.passage import Passage

CONTEXT = [
    "総務省トップ > 広報・報道 > 報道資料一覧 > デジタルエコノミーに関する日米対話(第14回会合)の結果",
    "https://www.soumu.go.jp/menu_news/s-news/01tsushin08_02000149.html",
    "*2 コンテンツ海外展開協議会：http://www.soumu.go.jp/main_sosiki/kenkyu/contents_kaigai/index.html",
    "^{*8} ICANN : <http://www.icann.org/>",
    "G7群馬高崎デジタル・技術大臣会合の模様",
    "表3.1 ブートローダーのリスト",
    "Table 2 Results of the meeting",
]
SENTENCES = [
    "会議はアラブ首長国連邦・ドバイで開催された。",
    "詳細は https://www.soumu.go.jp/ を参照してください。",
    "本部はジュネーブにある。",
    "chage パスワードのエージング情報管理",  # a table row that answers: not a column-name row
    "ldap 389 ldaps 636",
    "会合の模様を写真で紹介します。",
    'Debian 8 jessie (2015年リリース) 以降では "/sbin/init" は "/lib/systemd/systemd" にシムリンクされています。',
]


def test_breadcrumbs_urls_captions_and_table_captions_are_context():
    for line in CONTEXT:
        assert is_context(line), line


def test_sentences_and_table_rows_are_not_context():
    for line in SENTENCES:
        assert not is_context(line), line
    assert not is_context("パッケージ ポプコン サイズ 説明")  # only under a table caption


def test_column_names_under_a_table_caption_are_context():
    assert is_context("パッケージ ポプコン サイズ 説明", before="表3.1 ブートローダーのリスト")
    assert is_context("コマンド 機能", before="表4.3 アカウント情報を管理するコマンドのリスト")
    # the first data row follows the column names, not the caption; a row with numbers is data
    assert not is_context("chage パスワードのエージング情報管理", before="passwd アカウントのパスワード管理")
    assert not is_context("0 KERN_EMERG システムは不安定", before="表3.4 カーネルエラーレベルのリスト")
    assert not is_context("これは表の説明です。", before="表1 結果")


def test_a_caption_closest_to_the_question_is_skipped_for_the_sentence_after_it():
    text = "G7群馬高崎デジタル・技術大臣会合の模様\n会合は2023年4月に群馬県高崎市で開催された。"
    cut = text.index("\n")
    passage = Passage("a.txt", 0, 0, len(text), 1, 2, (), text)

    class Index:
        def __init__(self) -> None:
            self.passages = [passage]
            self.sentence_vectors = np.array([[1.0, 0.0], [0.8, 0.6]], dtype=np.float32)  # the caption is closer

        def passage_sentences(self, row: int) -> list[tuple[int, int, int]]:
            return [(0, cut, 0), (cut + 1, len(text), 1)]

    cand = Candidate(0, 1.0, 0.0, 1.0, None, 2.0)
    qvec = np.array([1.0, 0.0], dtype=np.float32)
    params = QuoteParams(max_quotes=1, lexical_bonus=0.0, min_chars=0)
    quotes = select_quotes(Index(), [cand], qvec, set(), lambda t: [], params)
    assert [text[q.start : q.end] for q in quotes] == [text[cut + 1 :]]
    kept = select_quotes(
        Index(),
        [cand],
        qvec,
        set(),
        lambda t: [],
        QuoteParams(max_quotes=1, lexical_bonus=0.0, min_chars=0, skip_context=False),
    )
    assert [text[q.start : q.end] for q in kept] == [text[:cut]]
