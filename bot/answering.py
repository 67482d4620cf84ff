"""Answering without Telegram, for `python -m bot ask` and the benchmark: the same store,
library, search and rendering as the bot's question handler."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.dispatcher import astana_today, prepare
from bot.i18n import build_i18n
from bot.library import UNCOVERED_ARTICLE, Library
from bot.people.talk import small_talk
from bot.render import html_to_text, render_answer, uncovered_articles
from bot.search.articles import article_numbers
from bot.stations.replies import text_replies
from bot.storage import Database


class Answerer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_path)
        self.i18n = build_i18n(settings.locales_dir, settings.default_locale)
        self.library = Library(self.i18n)

    async def __aenter__(self) -> Answerer:
        await prepare(self.settings, self.db, self.library)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.db.close()

    def ask(self, question: str, lang: str) -> dict[str, Any]:
        result = self.library.search(question)
        entry = self.library.entry(result.entry_id) if result.entry_id else None
        answer = None
        today = astana_today()
        with self.i18n.context(), self.i18n.use_locale(lang):
            # A place gets what the chat sends for it (the station replies), not an entry.
            places = text_replies(self.library, question, result, lang, today)
            if places:
                entry = None
                answer = "\n\n".join(reply.text for reply in places)
            elif entry is not None:
                answer = render_answer(self.library.content, entry, lang, today)
            elif result.intent == UNCOVERED_ARTICLE:
                covered = [n for n, _entry in self.library.covered_articles()]
                answer = uncovered_articles(article_numbers(question), covered)
            else:  # a greeting or a thank-you gets the chat's reply
                answer = small_talk(result.intent)
        return {
            "q": question,
            "lang": lang,
            "id": entry.id if entry else None,
            "intent": result.intent,
            "score": result.ranked[0].score if result.ranked else 0.0,
            "answer": answer,
            "suggestions": list(result.suggestions),
        }

    @staticmethod
    def as_text(result: dict[str, Any]) -> str:
        if result["answer"]:
            return html_to_text(result["answer"]).strip()
        if result["suggestions"]:
            return "Not sure. Did you mean: " + ", ".join(result["suggestions"])
        return "I don't know (no entry fits)."
