"""What the bot knows right now: the content snapshot and the indexes built from it.

Loaded from the store at start-up and rebuilt after an import, so handlers read memory, not
SQLite, on the hot path. One object per process, kept in the Dispatcher's workflow data.
"""

from __future__ import annotations

from datetime import date

from aiogram.utils.i18n import I18n

from bot import LOCALES
from bot.content.models import Content, FaqEntry
from bot.render import html_to_text, render_answer
from bot.search.articles import article_numbers
from bot.search.engine import FaqIndex, Match, SearchDoc, SearchResult
from bot.stations.index import StationIndex
from bot.storage import Database


class Library:
    def __init__(self, i18n: I18n, content: Content | None = None) -> None:
        self.i18n = i18n
        self.use(content if content is not None else Content())

    def use(self, content: Content) -> None:
        self.content = content
        self.stations = StationIndex(content)
        self.index = FaqIndex(self.documents(content))
        self._articles: dict[int, str] = {n: e.id for e in content.published() for n in e.articles}

    async def load(self, db: Database) -> None:
        self.use(await db.load_content())

    def documents(self, content: Content) -> list[SearchDoc]:
        """What the search indexes: each published entry's phrasings, answers and names."""
        today = date.today()
        docs = []
        for entry in content.published():
            answers = []
            for lang in LOCALES:
                with self.i18n.context(), self.i18n.use_locale(lang):
                    answers.append(
                        html_to_text(
                            render_answer(content, entry, lang, today, with_footer=False),
                            links=False,
                        )
                    )
            docs.append(
                SearchDoc(
                    entry.id,
                    tuple(q for lang in LOCALES for q in entry.text(lang).questions),
                    tuple(answers),
                    _keywords(content, entry),
                )
            )
        return docs

    def search(self, question: str) -> SearchResult:
        """An article number the content knows ("9-бап", "статья 9") answers directly;
        anything else goes to the free-text search."""
        for number in article_numbers(question):
            entry = self._articles.get(number)
            if entry is not None:
                return SearchResult(Match(entry, 1.0), (), (Match(entry, 1.0),))
        return self.index.search(question)

    def search_id(self, question: str) -> str | None:
        return self.index.search(question).entry_id

    def entry(self, entry_id: str) -> FaqEntry | None:
        entry = self.content.entry(entry_id)
        return entry if entry is not None and entry.published else None

    def title(self, entry: FaqEntry, lang: str) -> str:
        return entry.text(lang).questions[0]


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
