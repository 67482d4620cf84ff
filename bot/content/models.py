"""The curated content: what `data/` holds, the store keeps and the bot answers from.

The same models validate an import, hold the in-memory snapshot the handlers read, and are
written back out by export, so the three can never disagree about the format.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot import LOCALES

Lang = Literal["kk", "ru", "en"]
Section = Literal["elections", "abroad", "parties", "constitution", "about"]
SECTIONS: tuple[Section, ...] = ("elections", "abroad", "parties", "constitution", "about")
StationStatus = Literal["operated", "suspended"]

# Telegram counts the text after entity parsing; leave room for the sources footer.
MAX_ANSWER_CHARS = 3500
# A one-column inline button on a phone shows about this many characters before Telegram cuts
# the label with an ellipsis.
MAX_TITLE_CHARS = 40
ALLOWED_TAGS = frozenset({"b", "strong", "i", "em", "u", "s", "a", "code", "pre", "blockquote"})
RENDER_KINDS = re.compile(r"^(next_vote|vote_history|party_list|party:[a-z0-9_]+)$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _TelegramHTML(HTMLParser):
    """Checks that text uses only the tags Telegram accepts, properly nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> is not allowed by Telegram")
        if tag == "a" and not dict(attrs).get("href"):
            self.problems.append("<a> needs an href")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes nothing open")
        else:
            self.stack.pop()


def check_html(text: str) -> str:
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.stack:
        parser.problems.append(f"<{parser.stack[-1]}> is never closed")
    if re.search(r"&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)", text):
        parser.problems.append("a bare '&' must be written &amp;")
    if parser.problems:
        raise ValueError("; ".join(dict.fromkeys(parser.problems)))
    return text


class L10n(_Model):
    """One text in each of the bot's languages."""

    kk: str = Field(min_length=1)
    ru: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return str(getattr(self, lang if lang in LOCALES else "en"))


class L10nList(_Model):
    kk: list[str] = []
    ru: list[str] = []
    en: list[str] = []

    def get(self, lang: str) -> list[str]:
        return list(getattr(self, lang if lang in LOCALES else "en"))


class Sourced(_Model):
    sources: list[str] = Field(min_length=1)
    verified: dt.date

    @field_validator("sources")
    @classmethod
    def _no_blank_sources(cls, value: list[str]) -> list[str]:
        if any(not s.strip() for s in value):
            raise ValueError("a source address is empty")
        return value


class Translation(_Model):
    questions: list[str] = Field(min_length=1)
    answer: str = ""
    title: str  # the entry's button label: short, plain text

    @field_validator("title")
    @classmethod
    def _title_fits(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("title is empty")
        if len(value) > MAX_TITLE_CHARS:
            raise ValueError(f"title is {len(value)} characters, more than {MAX_TITLE_CHARS}")
        if re.search(r"[<>]", value):
            raise ValueError("a title is plain text: no HTML tags")
        return value

    @field_validator("questions")
    @classmethod
    def _no_blank_questions(cls, value: list[str]) -> list[str]:
        if any(not q.strip() for q in value):
            raise ValueError("a question is empty")
        return value

    @field_validator("answer")
    @classmethod
    def _answer_fits(cls, value: str) -> str:
        if len(value) > MAX_ANSWER_CHARS:
            raise ValueError(f"answer is {len(value)} characters, more than {MAX_ANSWER_CHARS}")
        return check_html(value.strip())


class FaqEntry(Sourced):
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    section: Section
    published: bool = True
    render: str | None = None
    articles: list[int] = []
    kk: Translation
    ru: Translation
    en: Translation

    @field_validator("render")
    @classmethod
    def _known_render(cls, value: str | None) -> str | None:
        if value is not None and not RENDER_KINDS.match(value):
            raise ValueError("render must be next_vote, vote_history, party_list or party:<id>")
        return value

    @model_validator(mode="after")
    def _answer_or_render(self) -> FaqEntry:
        if self.render is None:
            for lang in LOCALES:
                if not self.text(lang).answer:
                    raise ValueError(f"{lang}: answer is empty (and no render is set)")
        return self

    def text(self, lang: str) -> Translation:
        return getattr(self, lang if lang in LOCALES else "en")  # type: ignore[no-any-return]


class Vote(Sourced):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    kind: Literal["parliamentary", "presidential", "referendum"]
    date: dt.date | None = None
    month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    status: Literal["held", "announced"]
    turnout: float | None = Field(default=None, ge=0, le=100)
    title: L10n
    result: L10n | None = None
    note: L10n | None = None

    @model_validator(mode="after")
    def _has_when(self) -> Vote:
        if self.date is None and self.month is None:
            raise ValueError("a vote needs a date or, when only that is announced, a month")
        if self.status == "held" and self.date is None:
            raise ValueError("a held vote needs its date")
        return self

    @property
    def sort_key(self) -> str:
        return self.date.isoformat() if self.date else f"{self.month}-99"


class ElectionNote(Sourced):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    text: L10n


class PartyResult(_Model):
    percent: float = Field(ge=0, le=100)
    seats: int = Field(ge=0)


class Party(Sourced):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: L10n
    # True where the party's registration rests on a report our sources cannot confirm: it is
    # listed apart from the confirmed ones.
    unconfirmed: bool = False
    former_names: L10nList = L10nList()
    mergers: L10nList = L10nList()  # parties that merged into it, or that it was formed from
    programme: L10nList = L10nList()
    result_2023: PartyResult | None = None
    note: L10n | None = None


StationFigure = Literal["number", "address", "email"]


class Station(Sourced):
    """`sources` name this station itself; `listed_in` are the reports a list of cities rests
    on without saying which of them names which city. A station has one or the other or both."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    geonameid: int
    city: L10n
    number: int | None = None
    address: str | None = None
    mission: Literal["embassy", "consulate"] | None = None
    email: str | None = None
    votes: dict[str, StationStatus] = {}
    sources: list[str] = []
    listed_in: list[str] = []
    # The year of the source a figure comes from, where the sources date it.
    as_of: dict[StationFigure, int] = {}

    @model_validator(mode="after")
    def _sourced(self) -> Station:
        if not self.sources and not self.listed_in:
            raise ValueError("a station needs sources or listed_in")
        if any(not s.strip() for s in self.listed_in):
            raise ValueError("a source address is empty")
        missing = [f for f in self.as_of if getattr(self, f) is None]
        if missing:
            raise ValueError(f"as_of dates a figure the station does not have: {missing}")
        return self


class StationCountry(Sourced):
    """A country known to have (had) a station whose city the sources do not give."""

    country: str = Field(pattern=r"^[A-Z]{2}$")
    votes: dict[str, StationStatus] = {}


IntentId = Literal[
    "offtopic", "feedback", "smalltalk.greeting", "smalltalk.thanks", "smalltalk.how_are_you"
]


class Intent(_Model):
    """Examples of messages that are not FAQ questions: off-topic questions, which the bot
    declines, and small talk, which it answers from the catalogues. They teach the search what
    is not an election question; they state no facts, so they carry no sources."""

    id: IntentId
    kk: list[str] = Field(min_length=1)
    ru: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)

    @field_validator("kk", "ru", "en")
    @classmethod
    def _no_blank_examples(cls, value: list[str]) -> list[str]:
        if any(not q.strip() for q in value):
            raise ValueError("an example is empty")
        return value

    def examples(self) -> list[str]:
        return [*self.kk, *self.ru, *self.en]


class Content(_Model):
    faq: list[FaqEntry] = []
    votes: list[Vote] = []
    election_notes: list[ElectionNote] = []
    parties: list[Party] = []
    stations: list[Station] = []
    countries: list[StationCountry] = []
    intents: list[Intent] = []

    def entry(self, entry_id: str) -> FaqEntry | None:
        return next((e for e in self.faq if e.id == entry_id), None)

    def published(self, section: str | None = None) -> list[FaqEntry]:
        return [e for e in self.faq if e.published and section in (None, e.section)]

    def party(self, party_id: str) -> Party | None:
        return next((p for p in self.parties if p.id == party_id), None)

    def vote(self, vote_id: str) -> Vote | None:
        return next((v for v in self.votes if v.id == vote_id), None)
