"""The trained matcher on the real content: what it answers, declines and learns again."""

from __future__ import annotations

import time

import pytest
from conftest import I18N

from bot import PROJECT_ROOT
from bot.content.models import Content
from bot.content.yaml_io import load_content
from bot.library import Library
from bot.search.recommend import asks_recommendation


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


def test_training_and_search_are_fast_enough(library: Library, content: Content):
    """Loose bounds for a shared CI machine; bench/search.py measures the real figures."""
    start = time.perf_counter()
    Library(I18N, content)
    assert time.perf_counter() - start < 10
    start = time.perf_counter()
    for _ in range(100):
        library.search("когда будут выборы в Курултай?")
    assert (time.perf_counter() - start) / 100 < 0.05
