"""The trained matcher on the real content: what it answers, declines and learns again."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from conftest import I18N, copy_db

from bot import PROJECT_ROOT
from bot import library as library_module
from bot.content.models import Content
from bot.content.yaml_io import load_content
from bot.library import Library, fingerprint
from bot.search.recommend import asks_recommendation
from bot.storage import Database


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(PROJECT_ROOT / "data")


@pytest.fixture(scope="module")
def library(content: Content) -> Library:
    return Library(I18N, content)


@pytest.mark.parametrize(
    "question",
    ["када выбары", "кода выборы", "wen is election", "saılaý qashan", "сайлау кашан болад"],
)
def test_misspelt_questions_find_their_entry(library: Library, question: str):
    assert library.search_id(question) == "voting.next"


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("Кто победит на выборах в США?", "offtopic"),
        ("ҰБТ нәтижелері қашан шығады?", "offtopic"),
        ("do I need a visa to visit Japan", "offtopic"),
        ("Сәлем!", "smalltalk.greeting"),
        ("рахмет", "smalltalk.thanks"),
        ("kak dela?", "smalltalk.how_are_you"),
    ],
)
def test_what_is_not_an_election_question_is_told_apart(
    library: Library, question: str, intent: str
):
    result = library.search(question)
    assert (result.answer, result.suggestions, result.intent) == (None, (), intent)


@pytest.mark.parametrize(
    "question",
    [
        "who should I vote for?",
        "Which party is the best, Amanat or Ak Zhol?",
        "какая партия лучше",
        "за кого мне голосовать, за Respublica?",
        "кімге дауыс беру керек",
        "Qaı partııaǵa daýys bereıin?",
        "Байтаққа дауыс берейін бе?",
    ],
)
def test_recommendation_requests_get_the_neutrality_answer(library: Library, question: str):
    assert asks_recommendation(question)
    assert library.search_id(question) == "bot.neutrality"


@pytest.mark.parametrize(
    "question",
    ["who can vote?", "how do I vote for a party on the ballot", "Amanat party programme"],
)
def test_questions_about_voting_are_not_taken_for_recommendation_requests(question: str):
    assert not asks_recommendation(question)


def test_the_matcher_is_trained_again_when_the_content_changes(content: Content):
    library = Library(I18N, content)
    question = "zzyzx pamphlet distribution rules"
    assert library.search_id(question) != "voting.home"
    entry = content.entry("voting.home")
    assert entry is not None
    en = entry.en.model_copy(update={"questions": [*entry.en.questions, question]})
    changed = [e.model_copy(update={"en": en}) if e.id == entry.id else e for e in content.faq]
    library.use(content.model_copy(update={"faq": changed}))
    assert library.search_id(question) == "voting.home"


def test_an_empty_store_answers_nothing():
    result = Library(I18N, Content()).search("когда выборы")
    assert (result.answer, result.suggestions) == (None, ())


def _stored_keys(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT key FROM built_indexes WHERE kind = 'content'")
        return [row[0] for row in rows]


def _refuse_to_build(*_: object, **__: object) -> None:
    raise AssertionError("built again")


async def test_a_restart_loads_the_stored_indexes_instead_of_building_them(
    tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "saylau.db"
    copy_db(template_db, path)  # a store a first start has loaded once
    library = Library(I18N)
    monkeypatch.setattr(library_module, "_BUILT", library_module.OrderedDict())  # a new process
    monkeypatch.setattr(library_module, "Matcher", _refuse_to_build)
    monkeypatch.setattr(library_module, "StationIndex", _refuse_to_build)
    async with Database(path) as db:
        await library.load(db)
    assert library.search_id("когда выборы в Курултай") == "parliament.kurultai_election"
    assert library.stations.find("участок в Стамбуле").places


async def test_an_unreadable_stored_index_is_rebuilt(
    tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch, caplog
):
    path = tmp_path / "saylau.db"
    copy_db(template_db, path)
    [key] = _stored_keys(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE built_indexes SET data = ? WHERE key = ?", (b"not a pickle", key))
    monkeypatch.setattr(library_module, "_BUILT", library_module.OrderedDict())
    library = Library(I18N)
    with caplog.at_level(logging.WARNING, logger="bot.library"):
        async with Database(path) as db:
            await library.load(db)
    assert "rebuilding" in caplog.text
    assert library.search_id("когда выборы в Курултай") == "parliament.kurultai_election"
    assert _stored_keys(path) == [key]
    with sqlite3.connect(path) as conn:
        [data] = conn.execute("SELECT data FROM built_indexes WHERE key = ?", (key,)).fetchone()
        assert data != b"not a pickle"


async def test_changed_content_is_never_served_the_old_indexes(
    tmp_path: Path, template_db: Path, content: Content
):
    path = tmp_path / "saylau.db"
    copy_db(template_db, path)
    [old] = _stored_keys(path)
    question = "zzyzx pamphlet distribution rules"
    entry = content.entry("voting.home")
    assert entry is not None
    en = entry.en.model_copy(update={"questions": [*entry.en.questions, question]})
    faq = [e.model_copy(update={"en": en}) if e.id == entry.id else e for e in content.faq]
    changed = content.model_copy(update={"faq": faq})
    async with Database(path) as db:
        await db.save_content(changed, replace=True)
        library = Library(I18N)
        await library.load(db)
    assert library.search_id(question) == "voting.home"
    assert _stored_keys(path) == [fingerprint(changed)] != [old]
