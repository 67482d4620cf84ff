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

# Thresholds on the blended score (0..1), chosen on the dev questions together with the held-out
# set in tests/data (written before the dev file was read); see bench/search.py.
W_PHRASING, W_QUESTIONS = 0.45, 0.5
ANSWER_AT = 0.55
SUGGEST_AT = 0.33
MAX_SUGGESTIONS = 3
MAX_QUERY_WORDS = 40  # a pasted essay is not a question; its first words are enough
UNKNOWN_NUMBER_WEIGHT = 1.0
UNKNOWN_WEIGHT = 0.6
CORRECTED_CREDIT = 0.6
CANDIDATES = 40
# A word has about this many features (prefix and stem); a phrasing's size is their sum.
PHRASING_FEATURES = 1.3


def blend(phrasing: float, questions: float, anywhere: float) -> float:
    """Geometric blend: a question word the entry does not know at all costs more than one
    its closest phrasing lacks, and no single part can carry a poor match alone."""
    cover = W_QUESTIONS * questions + (1 - W_QUESTIONS) * anywhere
    return phrasing**W_PHRASING * cover ** (1 - W_PHRASING)


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
    weight: float  # what the word weighs in the question
    credit: float  # what matching it earns: less when the word was a guessed typo


class FaqIndex:
    def __init__(self, docs: Iterable[SearchDoc]) -> None:
        self.ids: list[str] = []
        self._entry_phrasings: list[list[frozenset[str]]] = []  # each phrasing's features
        self._question_feats: list[frozenset[str]] = []  # per entry, union over phrasings
        self._answer_feats: list[frozenset[str]] = []
        self._vocabulary: dict[str, frozenset[str]] = {}  # folded word -> features
        for doc in docs:
            self.ids.append(doc.entry_id)
            phrasings = [self._analyse(t) for t in (*doc.questions, *doc.keywords)]
            phrasings = [p for p in phrasings if p]
            self._entry_phrasings.append([frozenset().union(*p) for p in phrasings])
            self._question_feats.append(frozenset().union(*self._entry_phrasings[-1]))
            answer = [f for text in doc.answers for token in self._analyse(text) for f in token]
            self._answer_feats.append(frozenset(answer))
        # feature -> entries whose questions or answers have it
        self._postings: dict[str, list[int]] = defaultdict(list)
        for number, (q_feats, a_feats) in enumerate(
            zip(self._question_feats, self._answer_feats, strict=True)
        ):
            for feat in q_feats | a_feats:
                self._postings[feat].append(number)
        total = max(len(self.ids), 1)
        self._idf = {f: math.log(1 + total / len(e)) for f, e in self._postings.items()}
        # An unknown word weighs like a rare known one: enough that "weather in Almaty" is
        # not about Almaty's polling stations, not so much that the personal context of a
        # long question ("my mother had surgery") drowns what it asks.
        self._unknown_idf = UNKNOWN_WEIGHT * math.log(1 + total)
        self._phrasing_sizes = [
            [sum(self._idf[f] for f in phrasing) / PHRASING_FEATURES for phrasing in phrasings]
            for phrasings in self._entry_phrasings
        ]
        # per entry: feature -> numbers of its phrasings that have it
        self._entry_postings: list[dict[str, list[int]]] = []
        for phrasings in self._entry_phrasings:
            postings: dict[str, list[int]] = defaultdict(list)
            for number, phrasing in enumerate(phrasings):
                for feat in phrasing:
                    postings[feat].append(number)
            self._entry_postings.append(dict(postings))
        # Features in more than this many entries are too common to propose candidates.
        self._common = max(CANDIDATES, total // 4)
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for word in self._vocabulary:
            self._by_initial[word[0]].append(word)

    def _analyse(self, text: str) -> list[frozenset[str]]:
        tokens = []
        for word in words(text):
            folded = fold(word)
            if folded in STOPWORDS:
                continue
            feats = features(word)
            self._vocabulary.setdefault(folded, feats)
            tokens.append(feats)
        return tokens

    def _query_tokens(self, query: str) -> list[_Token]:
        tokens: list[_Token] = []
        seen: set[frozenset[str]] = set()
        for word in words(query)[:MAX_QUERY_WORDS]:
            folded = fold(word)
            if folded in STOPWORDS:
                continue
            feats = features(word)
            guessed = False
            if not any(f in self._idf for f in feats):
                corrected = self._correct(folded)
                if corrected:
                    feats, guessed = corrected, True
            if feats in seen:
                continue
            seen.add(feats)
            known = [self._idf[f] for f in feats if f in self._idf]
            if known:
                # The word's most general form decides: "какая" weighs like "как", not like
                # the rare "kakai" that only one phrasing happens to contain.
                weight = min(known)
            else:
                # An unknown number ("мне 17 лет") says less about the topic than a word does.
                weight = UNKNOWN_NUMBER_WEIGHT if folded.isdigit() else self._unknown_idf
            tokens.append(_Token(feats, weight, weight * (CORRECTED_CREDIT if guessed else 1.0)))
        return tokens

    def _correct(self, folded: str) -> frozenset[str] | None:
        """The features of the nearest known word, when it is a typo or two away.

        Short words are left alone: at four letters one edit turns "joke" into "jeke" (жеке).
        A typo rarely hits the first letter, so the candidate must share it.
        """
        if len(folded) < 5 or folded.isdigit():
            return None
        allowed = 1 if len(folded) < 8 else 2
        choices = self._by_initial.get(folded[0], [])
        hit = process.extractOne(folded, choices, scorer=Levenshtein.distance, score_cutoff=allowed)
        return self._vocabulary[hit[0]] if hit else None

    def _candidates(self, tokens: list[_Token]) -> list[int]:
        """Entries worth scoring: those sharing the question's rarer features, best first.

        Scoring is exact but costs per phrasing, so on a large store only the entries the
        distinctive words point at are scored."""
        evidence: dict[int, float] = defaultdict(float)
        for token in tokens:
            postings = [self._postings.get(f, ()) for f in token.feats]
            if all(len(p) > self._common for p in postings) and len(tokens) > 1:
                continue
            for entry in set().union(*postings):
                evidence[entry] += token.weight
        return sorted(evidence, key=evidence.__getitem__, reverse=True)[:CANDIDATES]

    def search(self, query: str) -> SearchResult:
        tokens = self._query_tokens(query)
        total = sum(t.weight for t in tokens)
        if not tokens or total <= 0:
            return SearchResult(None, ())
        scores: list[tuple[float, int]] = []
        for entry in self._candidates(tokens):
            q_feats, a_feats = self._question_feats[entry], self._answer_feats[entry]
            q_cov = sum(t.credit for t in tokens if t.feats & q_feats) / total
            a_cov = sum(t.credit for t in tokens if t.feats & a_feats) / total
            hits: dict[int, float] = defaultdict(float)
            postings = self._entry_postings[entry]
            for token in tokens:
                matched = {n for f in token.feats for n in postings.get(f, ())}
                for number in matched:
                    hits[number] += token.credit
            sizes = self._phrasing_sizes[entry]
            # Dice overlap: the share of both the question and the phrasing that agree.
            best = max((2 * hit / (total + sizes[n]) for n, hit in hits.items()), default=0.0)
            score = blend(best, q_cov, max(q_cov, a_cov))
            scores.append((round(score, 4), entry))
        # Ties go to the entry listed first: content lists the general entry before its
        # special cases (voting.documents before abroad.documents).
        scores.sort(key=lambda pair: (-pair[0], pair[1]))
        return self._decide(tuple(Match(self.ids[entry], score) for score, entry in scores))

    @staticmethod
    def _decide(ranked: tuple[Match, ...]) -> SearchResult:
        if not ranked or ranked[0].score < SUGGEST_AT:
            return SearchResult(None, (), ranked)
        if ranked[0].score >= ANSWER_AT:
            return SearchResult(ranked[0], (), ranked)
        close = tuple(m.entry_id for m in ranked[:MAX_SUGGESTIONS] if m.score >= SUGGEST_AT)
        return SearchResult(None, close, ranked)
