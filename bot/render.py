"""Turns content into the Telegram HTML a user reads, in the current gettext locale.

Callers set the locale (the i18n middleware does for updates; code that runs outside an update,
such as reminders or the `ask` command, wraps calls in `i18n.use_locale(lang)`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from html import escape, unescape
from urllib.parse import urlsplit

from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from babel.numbers import format_decimal

from bot.content.models import Content, FaqEntry, Party, Vote

OFFICIAL_SITE = '<a href="https://www.election.gov.kz">election.gov.kz</a>'
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(html: str, *, links: bool = True) -> str:
    """Telegram HTML as plain text; a link keeps its address unless its text already is it."""

    def link(match: re.Match[str]) -> str:
        url, text = match.group(1), match.group(2)
        return text if not links or text in url else f"{text} <{url}>"

    return unescape(_TAG.sub("", _LINK.sub(link, html)))


def long_date(day: date, lang: str) -> str:
    return format_date(day, "long", locale=lang)


def month_year(month: str, lang: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return format_date(date(year, number, 1), "LLLL y", locale=lang)


def percent(value: float, lang: str) -> str:
    return format_decimal(value, "#,##0.##", locale=lang) + "%"


MAX_SOURCE_LINKS = 3  # what a phone shows under an answer; the rest is behind a button


def _site(source: str) -> str:
    if source.startswith(("http://", "https://")):
        return urlsplit(source).netloc.removeprefix("www.").rstrip(".") or source
    return source


def source_link(source: str) -> str:
    if source.startswith(("http://", "https://")):
        return f'<a href="{escape(source, quote=True)}">{escape(_site(source))}</a>'
    return escape(source)


def first_sources(sources: list[str]) -> list[str]:
    """What a compact sources line links: one source per site, at most MAX_SOURCE_LINKS."""
    per_site: dict[str, str] = {}
    for source in sources:
        per_site.setdefault(_site(source), source)
    return list(per_site.values())[:MAX_SOURCE_LINKS]


def hides_sources(sources: list[str]) -> bool:
    """Whether a compact sources line leaves some of these out."""
    return len(first_sources(sources)) < len(set(sources))


def sources_line(sources: list[str], *, compact: bool) -> str:
    """The "Sources: ..." line; compact: the first few and how many more there are."""
    unique = list(dict.fromkeys(sources))
    shown = first_sources(unique) if compact else unique
    links = ", ".join(dict.fromkeys(source_link(s) for s in shown))
    line = _("Sources: {sources}").format(sources=links)
    rest = len(unique) - len(shown)
    if rest:
        line += " " + _("and {n} more", "and {n} more", rest).format(n=rest)
    return line


def footer(sources: list[str], verified: date, lang: str, *, compact: bool = False) -> str:
    return (
        "\n\n"
        + sources_line(sources, compact=compact)
        + "\n"
        + _("Verified on {date}").format(date=long_date(verified, lang))
    )


def vote_when(vote: Vote, lang: str) -> str:
    if vote.date:
        return long_date(vote.date, lang)
    assert vote.month is not None  # a vote has one or the other (validated)
    return _("{month}, day not confirmed").format(month=month_year(vote.month, lang))


def announced_for(vote: Vote, lang: str) -> str:
    """The announced day, or the announced month when only that is known."""
    if vote.date:
        return long_date(vote.date, lang)
    assert vote.month is not None  # a vote has one or the other (validated)
    return month_year(vote.month, lang)


def vote_line(vote: Vote, lang: str) -> str:
    line = f"<b>{escape(vote.title.get(lang))}</b> ({vote_when(vote, lang)})"
    if vote.result:
        line += f"\n{escape(vote.result.get(lang))}"
    if vote.turnout is not None:
        line += "\n" + _("Turnout: {turnout}").format(turnout=percent(vote.turnout, lang))
    if vote.note:
        line += f"\n<i>{escape(vote.note.get(lang))}</i>"
    return line


@dataclass(frozen=True)
class Outlook:
    """Which votes the "next vote" answer talks about, on a given day."""

    upcoming: Vote | None  # the next announced vote (exact date first, else month only)
    lapsed: tuple[Vote, ...]  # announced, but the announced time has passed unconfirmed
    latest: Vote | None  # the most recent held vote, shown when nothing is upcoming

    @property
    def votes(self) -> list[Vote]:
        shown = [self.upcoming] if self.upcoming else [*self.lapsed, self.latest]
        return [v for v in shown if v is not None]


def outlook(content: Content, today: date) -> Outlook:
    announced = [v for v in content.votes if v.status == "announced"]
    this_month = today.strftime("%Y-%m")
    dated = sorted((v for v in announced if v.date and v.date >= today), key=lambda v: v.sort_key)
    undated = sorted(
        (v for v in announced if v.date is None and (v.month or "") >= this_month),
        key=lambda v: v.sort_key,
    )
    lapsed = tuple(v for v in announced if v not in dated and v not in undated)
    held = sorted(
        (v for v in content.votes if v.status == "held" and v.date and v.date <= today),
        key=lambda v: v.sort_key,
    )
    return Outlook((dated or undated or [None])[0], lapsed, held[-1] if held else None)


def next_vote(content: Content, lang: str, today: date) -> str:
    """The next announced vote with a countdown, or an honest "none announced" and the latest."""
    view = outlook(content, today)
    parts: list[str] = []
    if view.upcoming:
        parts.append(_("The next vote:") + "\n" + vote_line(view.upcoming, lang))
        if view.upcoming.date:
            days = (view.upcoming.date - today).days
            if days == 0:
                parts.append("<b>" + _("Voting is today, 07:00-20:00 local time.") + "</b>")
            else:
                parts.append(_("{n} day left", "{n} days left", days).format(n=days))
    else:
        parts.append(_("No upcoming vote with a date is announced in our data."))
        parts += [
            _(
                "Announced for {when}; that time has passed, and the outcome is not in our sources:"
            ).format(when=announced_for(v, lang))
            + "\n"
            + vote_line(v, lang)
            for v in view.lapsed
        ]
        if view.latest:
            # Our sources end where they end: a later vote may exist that they do not know of.
            parts.append(
                _("The most recent vote in our data:") + "\n" + vote_line(view.latest, lang)
            )
    parts += [escape(note.text.get(lang)) for note in content.election_notes]
    parts.append(_("Official dates and results: {site}").format(site=OFFICIAL_SITE))
    return "\n\n".join(parts)


def vote_history(content: Content, lang: str) -> str:
    held = sorted((v for v in content.votes if v.status == "held"), key=lambda v: v.sort_key)
    return "\n\n".join(vote_line(v, lang) for v in reversed(held))


# Kazakh order, which contains the Russian one; Latin letters sort by their base letter.
_ALPHABET = {ch: i for i, ch in enumerate("аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя")}


def alphabetical_key(name: str) -> tuple[int, ...]:
    """Alphabetical order in kk, ru and en, where code point order puts ә, ғ, қ after я."""
    key = []
    for ch in unicodedata.normalize("NFC", name).casefold():
        if ch in _ALPHABET:
            key.append(_ALPHABET[ch])
        elif ch.isalnum():
            key.append(1000 + ord(unicodedata.normalize("NFKD", ch)[0]))
        else:
            key.append(-1)  # spaces and hyphens before any letter
    return tuple(key)


def party_sort_key(party: Party, lang: str) -> tuple[int, ...]:
    return alphabetical_key(party.name.get(lang).strip("«»\"' "))


def parties_in_order(content: Content, lang: str) -> list[Party]:
    """Alphabetical in the reader's language: a neutral order, never by result."""
    return sorted(content.parties, key=lambda p: party_sort_key(p, lang))


def party_card(party: Party, lang: str) -> str:
    lines = [f"<b>{escape(party.name.get(lang))}</b>"]
    former = party.former_names.get(lang)
    lines.append(
        _("Former names: {names}").format(names=escape("; ".join(former)) if former else "—")
    )
    mergers = party.mergers.get(lang)
    lines.append(
        _("Mergers: {mergers}").format(mergers=escape("; ".join(mergers)) if mergers else "—")
    )
    points = party.programme.get(lang)
    lines.append(_("Programme points:"))
    lines += [f"• {escape(p)}" for p in points] or ["• " + _("not given in our sources")]
    if party.result_2023:
        lines.append(
            _("2023 Mazhilis election, party lists: {percent}, {seats} seats").format(
                percent=percent(party.result_2023.percent, lang), seats=party.result_2023.seats
            )
        )
    else:
        lines.append(_("2023 Mazhilis election: did not take part"))
    if party.note:
        lines.append(f"<i>{escape(party.note.get(lang))}</i>")
    lines.append(_("Saylau recommends no party or candidate."))
    return "\n".join(lines)


def party_list(content: Content, lang: str) -> str:
    """The confirmed parties, then apart those whose registration our sources cannot confirm."""
    ordered = parties_in_order(content, lang)
    lines = [f"• {escape(p.name.get(lang))}" for p in ordered if not p.unconfirmed]
    reported = [escape(p.name.get(lang)) for p in ordered if p.unconfirmed]
    if reported:
        lines += ["", _("Reported registered, not confirmed in our sources:")]
        lines += [f"• {name}" for name in reported]
    return "\n".join(lines)


def uncovered_articles(asked: list[int], covered: list[int]) -> str:
    """An article number the content does not cover: say so, and which numbers it does."""
    numbers = ", ".join(str(n) for n in asked)
    return (
        _(
            "Our answers do not cover article {numbers} of the new Constitution.",
            "Our answers do not cover articles {numbers} of the new Constitution.",
            len(asked),
        ).format(numbers=numbers)
        + " "
        + _(
            "Articles our answers cover: {articles}. Pick one below, or ask about a topic in "
            "your own words."
        ).format(articles=", ".join(str(n) for n in covered))
    )


def _built(content: Content, entry: FaqEntry, lang: str, today: date) -> str:
    """The part of an answer built from structured data."""
    kind = entry.render or ""
    if kind == "next_vote":
        return next_vote(content, lang, today)
    if kind == "vote_history":
        return vote_history(content, lang)
    if kind == "party_list":
        return party_list(content, lang)
    if kind.startswith("party:"):
        party = content.party(kind.split(":", 1)[1])
        if party:
            return party_card(party, lang)
    return ""


def _built_sources(content: Content, entry: FaqEntry, today: date) -> list[str]:
    """The sources of the data `_built` shows."""
    kind = entry.render or ""
    if kind == "next_vote":
        sources = [s for v in outlook(content, today).votes for s in v.sources]
        return sources + [s for n in content.election_notes for s in n.sources]
    if kind == "vote_history":
        return [s for v in content.votes for s in v.sources]
    if kind == "party_list":
        return [s for p in content.parties for s in p.sources]
    if kind.startswith("party:"):
        party = content.party(kind.split(":", 1)[1])
        if party:
            return party.sources
    return []


def answer_sources(content: Content, entry: FaqEntry, today: date) -> list[str]:
    """Every source an answer rests on: the entry's and those of the data it is built from."""
    sources = [*entry.sources, *_built_sources(content, entry, today)]
    return list(dict.fromkeys(sources))


def more_sources(content: Content, entry: FaqEntry, today: date) -> str | None:
    """The entry id for a "more sources" button when the answer shows only some sources."""
    return entry.id if hides_sources(answer_sources(content, entry, today)) else None


def render_answer(
    content: Content,
    entry: FaqEntry,
    lang: str,
    today: date,
    *,
    with_footer: bool = True,
    all_sources: bool = False,
) -> str:
    """The answer first, then its sources: at most MAX_SOURCE_LINKS of them unless
    `all_sources` (the "more sources" button shows them all)."""
    built = _built(content, entry, lang, today)
    body = "\n\n".join(part for part in (built, entry.text(lang).answer) if part)
    if not with_footer:
        return body
    sources = answer_sources(content, entry, today)
    return body + footer(sources, entry.verified, lang, compact=not all_sources)
