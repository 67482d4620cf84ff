"""Chooses the matcher's constants (bot/search/engine.py: C and Thresholds) by cross-validation.

    python bench/tune.py [--dev ../shared/questions-dev.jsonl]

Two kinds of questions the matcher was not trained on are scored:
- the store's own phrasings (and the off-topic examples), in grouped folds: the phrasings of
  one entry that are translations or re-spellings of each other (the same position in the kk,
  ru and en lists, or the same words once folded) fall in the same fold, so a question is
  never scored by a model that learnt its twin;
- the public dev questions, by a model trained on everything.
Every combination of constants is then counted on both, and the one with the best utility
(right answers minus the cost of wrong ones and of answered off-topic ones, summed over both) is
printed. The
held-out questions in tests/data are never read here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import LOCALES  # noqa: E402
from bot.content.yaml_io import load_content  # noqa: E402
from bot.library import Library  # noqa: E402
from bot.search.engine import Matcher, SearchDoc, Thresholds  # noqa: E402
from bot.search.text import folded_words  # noqa: E402

# What a mistake costs against a right answer: a wrong entry misleads, an off-topic question
# answered with an entry looks careless; a "did you mean" or "I don't know" costs nothing.
WRONG_COST, OFFTOPIC_COST = 4.0, 2.0
FOLDS = 5
GRID = {
    "c": (0.5, 1.0, 2.0),
    "answer": (-0.4, -0.3, -0.25, -0.2, -0.15, -0.1, 0.0),
    "margin": (0.0, 0.05, 0.1, 0.2, 0.3),
    "suggest": (-0.7, -0.6, -0.5),
}


@dataclass
class Scored:
    want: str | None  # the right entry, None when off-topic
    scores: list[tuple[str, float]]


def phrasings(content) -> list[tuple[str, str, str, int]]:  # type: ignore[no-untyped-def]
    """(label, text, language, position) of every phrasing and off-topic example."""
    rows = []
    for entry in content.published():
        for lang in LOCALES:
            for n, q in enumerate(entry.text(lang).questions):
                rows.append((entry.id, q, lang, n))
    for intent in content.intents:
        for lang in LOCALES:
            for n, q in enumerate(getattr(intent, lang)):
                rows.append((intent.id, q, lang, n))
    return rows


def groups(rows: list[tuple[str, str, str, int]]) -> list[int]:
    """Union-find over twins: same label and position (the lists are written as translations of
    each other), or the same words once folded (one phrasing in two scripts)."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    words = [set(folded_words(text)) for _, text, _, _ in rows]
    by_label: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_label.setdefault(row[0], []).append(i)
    for members in by_label.values():
        for i, j in itertools.combinations(members, 2):
            if rows[i][3] == rows[j][3] or words[i] == words[j]:
                parent[find(i)] = find(j)
    return [find(i) for i in range(len(rows))]


def train(rows: list[tuple[str, str, str, int]], keep: list[int], entries, c: float) -> Matcher:  # type: ignore[no-untyped-def]
    texts: dict[str, list[str]] = {}
    for i in keep:
        texts.setdefault(rows[i][0], []).append(rows[i][1])
    docs = [
        SearchDoc(d.entry_id, tuple(texts.get(d.entry_id, ())), d.keywords)
        for d in entries
        if texts.get(d.entry_id) or d.keywords
    ]
    known = {d.entry_id for d in entries}
    intents = [SearchDoc(label, tuple(t)) for label, t in texts.items() if label not in known]
    return Matcher(docs, intents, c=c)


def collect(content, dev: list[dict], c: float) -> tuple[list[Scored], list[Scored], Matcher]:  # type: ignore[no-untyped-def]
    rows = phrasings(content)
    entries = Library.documents(content)
    entry_ids = {e.entry_id for e in entries}
    cv: list[Scored] = []
    for fit, test in GroupKFold(FOLDS).split(rows, groups=groups(rows)):
        matcher = train(rows, list(fit), entries, c)
        for i in test:
            label = rows[i][0]
            cv.append(Scored(label if label in entry_ids else None, matcher.scores(rows[i][1])))
    full = train(rows, list(range(len(rows))), entries, c)
    on_dev = [Scored(r["id"], full.scores(r["q"])) for r in dev]
    return cv, on_dev, full


def utility(rates: dict[str, float]) -> float:
    return rates["right"] - WRONG_COST * rates["wrong"] - OFFTOPIC_COST * (1 - rates["refused"])


def count(matcher: Matcher, scored: list[Scored], limits: Thresholds) -> dict[str, float]:
    right = wrong = inside = refused = outside = 0
    for s in scored:
        got = matcher.decide(s.scores, limits).entry_id
        if s.want is None:
            outside += 1
            refused += got is None
        else:
            inside += 1
            right += got == s.want
            wrong += got is not None and got != s.want
    return {
        "right": right / max(inside, 1),
        "wrong": wrong / max(inside, 1),
        "refused": refused / max(outside, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "questions-dev.jsonl")
    args = parser.parse_args()
    content = load_content(ROOT / "data")
    dev = [json.loads(line) for line in args.dev.read_text(encoding="utf-8").splitlines() if line]
    results = []
    for c in GRID["c"]:
        cv, on_dev, matcher = collect(content, dev, c)
        for answer, margin, suggest in itertools.product(
            GRID["answer"], GRID["margin"], GRID["suggest"]
        ):
            limits = Thresholds(answer=answer, margin=margin, suggest=suggest)
            a, b = count(matcher, cv, limits), count(matcher, on_dev, limits)
            results.append((utility(a) + utility(b), c, limits, a, b))
    results.sort(key=lambda r: -r[0])
    for value, c, limits, a, b in results[:10]:
        print(f"{value:.3f} C={c} {limits}")
        for name, rates in (("cv", a), ("dev", b)):
            print(f"    {name:3}", "  ".join(f"{k} {v:.1%}" for k, v in rates.items()))


if __name__ == "__main__":
    main()
