"""Finds the FAQ entry a free-text question is about, or says honestly that none fits.

Each entry is indexed by the phrasings of its question (in all three languages, so a question
typed in another language still finds its answer) and, more weakly, by its answer text. Words
match on script-independent features (see bot.search.text); a word the index does not know is
corrected to the nearest known word when it is one or two typos away.

The score of an entry blends how closely the question resembles its best phrasing with how much
of the question's weight the entry explains at all. The second part is what keeps "what is the
weather in Almaty" from being answered with the entry that happens to mention Almaty: the
question's weight sits mostly in words no entry knows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.search.stopwords import STOPWORDS
from bot.search.text import features, fold, words

# Thresholds on the blended score (0..1), tuned on the dev questions; see bench/search.py.
ANSWER_AT = 0.42
SUGGEST_AT = 0.26
MARGIN = 0.04
MAX_SUGGESTIONS = 3
MAX_QUERY_WORDS = 40  # a pasted essay is not a question; its first words are enough


@dataclass(frozen=True)
class SearchDoc:
    entry_id: str
    questions: tuple[str, ...]
    answers: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # names the entry is about (party names, cities, ...)


@dataclass(frozen=True)
class Match:
    entry_id: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    answer: Match | None  # the entry to answer with, when confident
    suggestions: tuple[str, ...]  # "did you mean" ids, when unsure
    ranked: tuple[Match, ...] = field(default=())  # every scored entry, best first

    @property
    def entry_id(self) -> str | None:
        return self.answer.entry_id if self.answer else None


@dataclass
class _Token:
    feats: frozenset[str]
    weight: float


class FaqIndex:
    def __init__(self, docs: Iterable[SearchDoc]) -> None:
        self.ids: list[str] = []
        # feature -> phrasing numbers; feature -> entry numbers (questions / answers)
        self._phrasing_postings: dict[str, list[int]] = defaultdict(list)
        self._question_entries: dict[str, set[int]] = defaultdict(set)
        self._answer_entries: dict[str, set[int]] = defaultdict(set)
        self._phrasing_entry: list[int] = []
        self._phrasing_feats: list[list[frozenset[str]]] = []
        self._vocabulary: dict[str, frozenset[str]] = {}  # folded word -> features
        for number, doc in enumerate(docs):
            self.ids.append(doc.entry_id)
            for text in (*doc.questions, *doc.keywords):
                token_feats = self._analyse(text)
                if not token_feats:
                    continue
                phrasing = len(self._phrasing_entry)
                self._phrasing_entry.append(number)
                self._phrasing_feats.append(token_feats)
                for feat in set().union(*token_feats):
                    self._phrasing_postings[feat].append(phrasing)
                    self._question_entries[feat].add(number)
            for text in doc.answers:
                for feats in self._analyse(text):
                    for feat in feats:
                        self._answer_entries[feat].add(number)
        total = max(len(self.ids), 1)
        df: dict[str, int] = defaultdict(int)
        for feat in {*self._question_entries, *self._answer_entries}:
            df[feat] = len(
                self._question_entries.get(feat, set()) | self._answer_entries.get(feat, set())
            )
        self._idf = {feat: math.log(1 + total / count) for feat, count in df.items()}
        self._unknown_idf = math.log(1 + total / 0.5)
        self._phrasing_weight = [
            sum(self._token_weight(feats) for feats in tokens) for tokens in self._phrasing_feats
        ]
        self._fuzzy_choices = list(self._vocabulary)

    def _analyse(self, text: str) -> list[frozenset[str]]:
        tokens = []
        for word in words(text):
            if fold(word) in STOPWORDS:
                continue
            feats = features(word)
            self._vocabulary.setdefault(fold(word), feats)
            tokens.append(feats)
        return tokens

    def _token_weight(self, feats: frozenset[str]) -> float:
        return max((self._idf.get(f, 0.0) for f in feats), default=0.0)

    def _query_tokens(self, query: str) -> list[_Token]:
        tokens: list[_Token] = []
        seen: set[frozenset[str]] = set()
        for word in words(query)[:MAX_QUERY_WORDS]:
            folded = fold(word)
            if folded in STOPWORDS:
                continue
            feats = features(word)
            if not any(f in self._idf for f in feats):
                feats = self._correct(folded) or feats
            if feats in seen:
                continue
            seen.add(feats)
            known = [self._idf[f] for f in feats if f in self._idf]
            tokens.append(_Token(feats, max(known) if known else self._unknown_idf))
        return tokens

    def _correct(self, folded: str) -> frozenset[str] | None:
        """The features of the nearest known word, when it is a typo or two away."""
        if len(folded) < 4 or folded.isdigit():
            return None
        allowed = 1 if len(folded) < 7 else 2
        hit = process.extractOne(
            folded, self._fuzzy_choices, scorer=Levenshtein.distance, score_cutoff=allowed
        )
        return self._vocabulary[hit[0]] if hit else None

    def search(self, query: str) -> SearchResult:
        tokens = self._query_tokens(query)
        total = sum(t.weight for t in tokens)
        if not tokens or total <= 0:
            return SearchResult(None, ())
        phrasing_hits: dict[int, float] = defaultdict(float)
        question_cover: dict[int, float] = defaultdict(float)
        answer_cover: dict[int, float] = defaultdict(float)
        for token in tokens:
            phrasings: set[int] = set()
            entries_q: set[int] = set()
            entries_a: set[int] = set()
            for feat in token.feats:
                phrasings.update(self._phrasing_postings.get(feat, ()))
                entries_q |= self._question_entries.get(feat, set())
                entries_a |= self._answer_entries.get(feat, set())
            for phrasing in phrasings:
                phrasing_hits[phrasing] += token.weight
            for entry in entries_q:
                question_cover[entry] += token.weight
            for entry in entries_a:
                answer_cover[entry] += token.weight
        best_phrasing: dict[int, float] = defaultdict(float)
        for phrasing, hit in phrasing_hits.items():
            # Dice overlap: the share of both the question and the phrasing that agree.
            dice = 2 * hit / (total + self._phrasing_weight[phrasing])
            entry = self._phrasing_entry[phrasing]
            best_phrasing[entry] = max(best_phrasing[entry], dice)
        scores = []
        for entry in set(question_cover) | set(answer_cover):
            q_cov = question_cover.get(entry, 0.0) / total
            any_cov = max(q_cov, answer_cover.get(entry, 0.0) / total)
            score = 0.5 * best_phrasing.get(entry, 0.0) + 0.3 * q_cov + 0.2 * any_cov
            scores.append(Match(self.ids[entry], round(score, 4)))
        scores.sort(key=lambda m: (-m.score, m.entry_id))
        return self._decide(tuple(scores))

    @staticmethod
    def _decide(ranked: tuple[Match, ...]) -> SearchResult:
        if not ranked or ranked[0].score < SUGGEST_AT:
            return SearchResult(None, (), ranked)
        top = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if top.score >= ANSWER_AT and top.score - runner_up >= MARGIN:
            return SearchResult(top, (), ranked)
        close = tuple(m.entry_id for m in ranked[:MAX_SUGGESTIONS] if m.score >= SUGGEST_AT)
        return SearchResult(None, close, ranked)
