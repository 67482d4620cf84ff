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
        self._by_entry = set(self._articles.values())

    async def load(self, db: Database) -> None:
        self.use(await db.load_content())

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
        return entry.text(lang).questions[0]


NEUTRALITY = "bot.neutrality"
UNCOVERED_ARTICLE = "article.uncovered"  # intent: an article number no entry covers


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
