"""Search benchmark: the bot's engine beside two baselines over the same entries, on the public
dev questions and on the held-out set (aggregate figures only), then time per question and
training time on the real store and on a synthetic 5,000-entry store.

    python bench/search.py [--dev ../shared/questions-dev.jsonl] [--extra FILE ...]

The baselines: plain BM25 over words, and a character n-gram TF-IDF with a logistic regression
(the standard recipe the engine starts from), both answering with their best entry whatever it
scores. Pins itself to one core so the figures compare across runs on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import LOCALES  # noqa: E402
from bot.content.yaml_io import load_content  # noqa: E402
from bot.i18n import build_i18n  # noqa: E402
from bot.library import Library  # noqa: E402
from bot.search.engine import Matcher, SearchDoc, skeleton  # noqa: E402
from bot.search.text import words  # noqa: E402


class BM25:
    """Plain Okapi BM25 over lower-cased words, one document per entry (all its phrasings):
    no folding, no stemming, no typo handling, answers whenever any word matches."""

    def __init__(self, docs: list[SearchDoc], k1: float = 1.2, b: float = 0.75) -> None:
        self.ids = [d.entry_id for d in docs]
        self.tfs = [Counter(w for q in d.questions for w in words(q)) for d in docs]
        self.lengths = [sum(tf.values()) for tf in self.tfs]
        self.avg = sum(self.lengths) / len(self.lengths)
        df = Counter(w for tf in self.tfs for w in tf)
        n = len(docs)
        self.idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, tf in enumerate(self.tfs):
            for w in tf:
                self.postings[w].append(i)
        self.k1, self.b = k1, b

    def search(self, query: str) -> str | None:
        scores: dict[int, float] = defaultdict(float)
        for w in set(words(query)):
            for i in self.postings.get(w, ()):
                tf = self.tfs[i][w]
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg)
                scores[i] += self.idf[w] * tf * (self.k1 + 1) / (tf + norm)
        return self.ids[max(scores, key=scores.__getitem__)] if scores else None


class TfidfLogistic:
    """Char n-grams (2-5, within words) of the folded skeleton, TF-IDF, logistic regression over
    the entries' phrasings; no off-topic class, no threshold: the likeliest entry always."""

    def __init__(self, docs: list[SearchDoc]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts = [q for d in docs for q in d.questions]
        labels = [d.entry_id for d in docs for _ in d.questions]
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, preprocessor=skeleton
        )
        self.model = LogisticRegression(C=10, max_iter=300)
        self.model.fit(self.vectorizer.fit_transform(texts), labels)

    def search(self, query: str) -> str | None:
        return str(self.model.predict(self.vectorizer.transform([query]))[0])


def evaluate(name: str, rows: list[dict], answer: Callable[[str], str | None]) -> None:
    by_lang: dict[str, list[tuple[dict, str | None, float]]] = defaultdict(list)
    for row in rows:
        start = time.perf_counter()
        got = answer(row["q"])
        by_lang[row["lang"]].append((row, got, time.perf_counter() - start))
    print(f"\n{name}")
    print(f"  {'lang':4} {'in-topic':>9} {'correct':>8} {'wrong':>7} {'no answer':>10}"
          f" {'off-topic':>10} {'IDK':>6} {'median ms':>10} {'p99 ms':>8}")  # fmt: skip
    for lang in (*LOCALES, "all"):
        items = [i for k, v in by_lang.items() if lang in (k, "all") for i in v]
        inside = [(r, g) for r, g, _ in items if r["id"]]
        outside = [(r, g) for r, g, _ in items if not r["id"]]
        correct = sum(g == r["id"] for r, g in inside)
        wrong = sum(g is not None and g != r["id"] for r, g in inside)
        idk = sum(g is None for _, g in outside)
        times = sorted(t * 1000 for _, _, t in items)
        p99 = times[min(len(times) - 1, math.ceil(0.99 * len(times)) - 1)]
        print(
            f"  {lang:4} {len(inside):9} {correct / len(inside):8.1%} {wrong / len(inside):7.1%}"
            f" {(len(inside) - correct - wrong) / len(inside):10.1%} {len(outside):10}"
            f" {idk / max(len(outside), 1):6.1%} {statistics.median(times):10.3f} {p99:8.3f}"
        )


def synthetic_docs(
    docs: list[SearchDoc], count: int, phrasings: int, seed: int = 7
) -> list[SearchDoc]:
    """`count` entries whose phrasings recombine the real vocabulary, to see how cost grows."""
    rng = random.Random(seed)
    vocabulary = sorted({w for d in docs for q in d.questions for w in words(q)})
    return [
        SearchDoc(
            f"synthetic.{n}",
            tuple(" ".join(rng.sample(vocabulary, rng.randint(3, 9))) for _ in range(phrasings)),
        )
        for n in range(count)
    ]


def timing(name: str, search: Callable[[str], object], queries: list[str], repeat: int = 3) -> None:
    times = []
    for _ in range(repeat):
        for q in queries:
            start = time.perf_counter()
            search(q)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p99 = times[math.ceil(0.99 * len(times)) - 1]
    print(f"  {name}: median {statistics.median(times):.3f} ms, p99 {p99:.3f} ms"
          f" over {len(times)} searches")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "questions-dev.jsonl")
    parser.add_argument(
        "--extra",
        type=Path,
        nargs="*",
        default=[
            ROOT / "tests/data/questions-heldout-v2.jsonl",
            ROOT / "tests/data/questions-heldout.jsonl",
        ],
    )
    parser.add_argument("--synthetic", type=int, default=5000)
    parser.add_argument("--phrasings", type=int, default=3, help="per synthetic entry")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    content = load_content(ROOT / "data")
    library = Library(build_i18n(ROOT / "locales", "kk"), content)
    docs = library.documents(content)
    intents = [SearchDoc(i.id, tuple(i.examples())) for i in content.intents]
    start = time.perf_counter()
    Matcher(docs, intents)
    trained = time.perf_counter() - start
    print(f"store: {len(docs)} entries, {sum(len(d.questions) for d in docs)} phrasings,"
          f" {sum(len(d.questions) for d in intents)} off-topic and small-talk examples;"
          f" matcher trained in {trained * 1000:.0f} ms (one core)")  # fmt: skip
    bm25 = BM25(docs)
    start = time.perf_counter()
    logistic = TfidfLogistic(docs)
    print(f"TF-IDF + logistic regression baseline trained in {time.perf_counter() - start:.1f} s")
    for path in [args.dev, *args.extra]:
        if not path.exists():
            print(f"\n(skipped {path}: not found)")
            continue
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        print(f"\n=== {path.name}: {len(rows)} questions")
        evaluate("Saylau engine", rows, library.search_id)
        evaluate("BM25 baseline", rows, bm25.search)
        evaluate("TF-IDF + logistic regression baseline", rows, logistic.search)

    queries = [json.loads(line)["q"] for line in args.dev.read_text(encoding="utf-8").splitlines()]
    print("\n=== search time (dev questions)")
    timing(f"real store ({len(docs)} entries)", library.search, queries)
    if not args.synthetic:
        return
    synthetic = [*docs, *synthetic_docs(docs, args.synthetic, args.phrasings)]
    start = time.perf_counter()
    big = Matcher(synthetic, intents)
    built = time.perf_counter() - start
    name = f"synthetic store ({len(big.ids)} entries, trained in {built:.0f} s)"
    timing(name, big.search, queries)


if __name__ == "__main__":
    main()
