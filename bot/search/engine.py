"""Finds the FAQ entry a free-text question is about, or says honestly that none fits.

A linear classifier (scikit-learn's LinearSVC, one class per entry) learns the phrasings of
every entry's question in all three languages, so a question typed in another language still
finds its answer. It reads character n-grams (2 to 5 letters, within words) of the folded
skeleton from bot.search.text: "Сайлау", "Saılaý" and "saylau" are one word to it, and a typo
or an unfamiliar ending changes a few n-grams of a word, not the whole word.

Besides the entries it learns classes that are not FAQ topics (data/offtopic.yaml): questions
about other things (other countries' elections, exams, visas, prices) and small talk. An
off-topic question is then recognised as such instead of being answered with the least bad
entry.

A class's score is its distance from the decision boundary. The answer needs the best score
above a threshold and a margin clear of the runner-up; a lower best score offers the top
entries as "did you mean" (see Thresholds). The constants come from cross-validation on the
store's phrasings and the public dev questions (bench/tune.py), never from the held-out
questions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.search.text import folded_words

MAX_SUGGESTIONS = 3
MAX_QUERY_WORDS = 60  # a pasted essay is not a question; its first words are enough
C = 2.0  # LinearSVC regularisation, chosen with the thresholds

OFFTOPIC = "offtopic"  # the intent whose questions the bot declines
FEEDBACK = "feedback"  # someone reporting a mistake: they are asked for their message


@dataclass(frozen=True)
class Thresholds:
    answer: float = -0.1  # the best entry's score needed to answer
    margin: float = 0.2  # and how far it must be above the runner-up
    suggest: float = -0.6  # below this nothing is offered
    intent: float = -0.2  # small talk is answered as such only when it is clearly small talk


@dataclass(frozen=True)
class SearchDoc:
    entry_id: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...] = ()  # names the entry is about (party names, cities, ...)


@dataclass(frozen=True)
class Match:
    entry_id: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    answer: Match | None  # the entry to answer with, when confident
    suggestions: tuple[str, ...]  # "did you mean" ids, when unsure
    ranked: tuple[Match, ...] = field(default=())  # every entry, best first
    intent: str | None = None  # a class that is not an entry: "offtopic", "smalltalk.thanks"

    @property
    def entry_id(self) -> str | None:
        return self.answer.entry_id if self.answer else None


def skeleton(text: str) -> str:
    return " ".join(folded_words(text)[:MAX_QUERY_WORDS])


def vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, preprocessor=skeleton
    )


class Matcher:
    """Trained on construction; a content change builds a new one (about half a second)."""

    def __init__(
        self,
        docs: Iterable[SearchDoc],
        intents: Iterable[SearchDoc] = (),
        thresholds: Thresholds = Thresholds(),
        c: float = C,
    ) -> None:
        self.thresholds = thresholds
        docs, intents = list(docs), list(intents)
        texts = [t for d in [*docs, *intents] for t in (*d.questions, *d.keywords)]
        labels = [d.entry_id for d in [*docs, *intents] for _ in (*d.questions, *d.keywords)]
        self.ids = [d.entry_id for d in docs]
        self._vectorizer = vectorizer()
        self._classes: list[str] = []
        if len(set(labels)) < 2:  # nothing to tell apart: an empty store answers nothing
            return
        model = LinearSVC(C=c).fit(self._vectorizer.fit_transform(texts), labels)
        self._classes = [str(c) for c in model.classes_]
        # Scoring by hand skips sklearn's input checks: a tenth of the time per question.
        self._weights = np.ascontiguousarray(model.coef_.T)
        self._bias = model.intercept_

    def scores(self, query: str) -> list[tuple[str, float]]:
        """Every class with its score, best first."""
        if not self._classes:
            return []
        x = self._vectorizer.transform([query])
        values = x @ self._weights + self._bias
        values = np.asarray(values).ravel()
        order = np.argsort(-values)
        return [(self._classes[i], float(values[i])) for i in order]

    def search(self, query: str) -> SearchResult:
        return self.decide(self.scores(query), self.thresholds)

    def decide(self, scored: list[tuple[str, float]], limits: Thresholds) -> SearchResult:
        if not scored:
            return SearchResult(None, ())
        entries = set(self.ids)
        ranked = tuple(Match(c, round(s, 4)) for c, s in scored if c in entries)
        best, top = scored[0]
        # A greeting beside a question ("привет, когда выборы?") does not make it less clear.
        second = max((s for c, s in scored[1:] if c in entries or c == OFFTOPIC), default=-1.0)
        if best not in entries:
            if best == OFFTOPIC or top < limits.intent:
                return SearchResult(None, (), ranked, OFFTOPIC)
            if best == FEEDBACK:  # "your answer about Moscow is wrong" is not a question
                return SearchResult(None, (), ranked, FEEDBACK)
            # "Hi, when is the election?" is a question with a greeting in front.
            question = self.decide([s for s in scored if s[0] in entries], limits)
            return question if question.answer else SearchResult(None, (), ranked, best)
        if top >= limits.answer and top - second >= limits.margin:
            return SearchResult(ranked[0], (), ranked)
        if top < limits.suggest:
            return SearchResult(None, (), ranked)
        close = tuple(m.entry_id for m in ranked[:MAX_SUGGESTIONS] if m.score >= limits.suggest)
        return SearchResult(None, close, ranked)
