"""What the bot knows right now: the content snapshot and the indexes built from it.

Loaded from the store at start-up and rebuilt after an import, so handlers read memory, not
SQLite, on the hot path. One object per process, kept in the Dispatcher's workflow data.
"""

from __future__ import annotations

from functools import lru_cache

from aiogram.utils.i18n import I18n

from bot import LOCALES
from bot.content.models import Content, FaqEntry
from bot.search.articles import article_numbers
from bot.search.engine import Match, Matcher, SearchDoc, SearchResult
from bot.search.recommend import asks_recommendation
from bot.stations.index import StationIndex
from bot.storage import Database


class Library:
    def __init__(self, i18n: I18n, content: Content | None = None) -> None:
        self.i18n = i18n
        self.version: int | None = None  # the store's content version loaded, if from one
        self.use(content if content is not None else Content())

    def use(self, content: Content) -> None:
        self.content = content
        self.stations = StationIndex(content)
        # Trained here, so every content change (start, import) retrains it.
        self.index = _trained(
            tuple(self.documents(content)),
            tuple(SearchDoc(i.id, tuple(i.examples())) for i in content.intents),
        )
        self._articles: dict[int, str] = {n: e.id for e in content.published() for n in e.articles}

    async def load(self, db: Database) -> None:
        version = await db.content_version()
        self.use(await db.load_content())
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
        for number in article_numbers(question):
            entry = self._articles.get(number)
            if entry is not None:
                return _certain(entry)
        if asks_recommendation(question) and self.entry(NEUTRALITY) is not None:
            return _certain(NEUTRALITY)
        return self.index.search(question)

    def search_id(self, question: str) -> str | None:
        return self.search(question).entry_id

    def entry(self, entry_id: str) -> FaqEntry | None:
        entry = self.content.entry(entry_id)
        return entry if entry is not None and entry.published else None

    def title(self, entry: FaqEntry, lang: str) -> str:
        return entry.text(lang).questions[0]


NEUTRALITY = "bot.neutrality"


def _certain(entry_id: str) -> SearchResult:
    return SearchResult(Match(entry_id, 1.0), (), (Match(entry_id, 1.0),))


@lru_cache(maxsize=4)
def _trained(docs: tuple[SearchDoc, ...], intents: tuple[SearchDoc, ...]) -> Matcher:
    """The same phrasings train the same model: a second Library over unchanged content (the
    `ask` command beside the bot, every test's dispatcher) reuses it instead of a second of
    training. A Matcher is never changed after training, so sharing it is safe."""
    return Matcher(docs, intents)


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
