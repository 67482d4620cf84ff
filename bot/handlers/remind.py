"""/remind and the menu's reminders button, "remind me about this station", and /forget with
its confirmation. What is planned and sent lives in bot.delivery.reminders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.delivery.reminders import (
    DEFAULTS,
    MOMENTS,
    applies,
    dated_votes,
    moment_label,
    plan_user,
    utc_now,
)
from bot.handlers.common import acknowledge, show
from bot.keyboards import ForgetCb, MenuCb, RemindCb, StationRemindCb, menu_button
from bot.library import Library
from bot.render import long_date
from bot.storage import Database, Forgotten, ReminderPrefs

ACTIONS = frozenset({"show", "defaults", "toggle", "announce", "off"})
NOTHING = ReminderPrefs(announce=False, moments=None)


def _button(text: str, data: RemindCb | ForgetCb) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=text, callback_data=data.pack())]


def remind_view(
    library: Library, prefs: ReminderPrefs, station_id: str | None, lang: str, today: date
) -> tuple[str, InlineKeyboardMarkup]:
    votes = dated_votes(library.content, today)
    lines = ["<b>🔔 " + _("Reminders") + "</b>"]
    if votes and votes[0].date:
        lines.append(
            _("Next vote: {vote}, {date}.").format(
                vote=escape(votes[0].title.get(lang)), date=long_date(votes[0].date, lang)
            )
        )
    else:
        lines.append(_("No upcoming vote has a date in our data yet."))
    rows = []
    if prefs.moments is None:
        lines.append(
            _(
                "Reminders come a week before a vote, the day before and on the morning of "
                "voting day; at home also on the last day for an absentee certificate. Turn "
                "them all on with one tap, then switch off any you do not want."
            )
        )
        rows.append(_button("✅ " + _("Turn on reminders"), RemindCb(action="defaults")))
    else:
        lines.append(_("Tap a reminder to switch it on or off."))
        for name in MOMENTS:
            if applies(name, station_id):
                mark = "✅ " if name in prefs.moments else "▫️ "
                rows.append(
                    _button(mark + moment_label(name), RemindCb(action="toggle", moment=name))
                )
    if not votes:
        mark = "✅ " if prefs.announce else "▫️ "
        label = mark + _("Tell me when the next vote is announced")
        rows.append(_button(label, RemindCb(action="announce")))
    station = library.stations.station(station_id) if station_id else None
    if station is not None:
        lines.append(
            _("Times are local time at your polling station in {city}.").format(
                city=escape(station.city.get(lang))
            )
        )
    else:
        lines.append(
            _(
                "Times are Astana time. Voting abroad? Open your station's card and tap "
                "“Remind me about this station”."
            )
        )
    if prefs.moments or prefs.announce:
        rows.append(_button(_("Turn all reminders off"), RemindCb(action="off")))
    rows.append([menu_button()])
    return "\n\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def changed(prefs: ReminderPrefs, action: str, moment: str) -> ReminderPrefs:
    if action == "defaults":
        return DEFAULTS
    if action == "off":
        return ReminderPrefs(announce=False, moments=())
    if action == "announce":
        return ReminderPrefs(not prefs.announce, prefs.moments)
    if action == "toggle":
        on = set(prefs.moments or ()) ^ {moment}
        return ReminderPrefs(prefs.announce, tuple(m for m in MOMENTS if m in on))
    return prefs


async def _view(
    db: Database, library: Library, user_id: int, lang: str, today: date
) -> tuple[str, InlineKeyboardMarkup]:
    await library.refresh(db)  # a vote dated by `python -m bot import` shows at once
    prefs = await db.reminder_prefs(user_id) or NOTHING
    return remind_view(library, prefs, await db.user_station(user_id), lang, today)


async def _replan(db: Database, library: Library, user_id: int) -> None:
    prefs = await db.reminder_prefs(user_id)
    station = await db.user_station(user_id)
    await plan_user(db, library.content, user_id, station, prefs, utc_now())


async def remind(
    message: Message, db: Database, library: Library, i18n: I18n, today: Callable[[], date]
) -> None:
    if message.from_user is None:
        return
    text, markup = await _view(db, library, message.from_user.id, i18n.current_locale, today())
    await message.answer(text, reply_markup=markup)


async def reminders_button(
    callback: CallbackQuery, db: Database, library: Library, i18n: I18n, today: Callable[[], date]
) -> None:
    await acknowledge(callback)
    await show(
        callback, *await _view(db, library, callback.from_user.id, i18n.current_locale, today())
    )


async def remind_button(
    callback: CallbackQuery,
    callback_data: RemindCb,
    db: Database,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
) -> None:
    action, moment = callback_data.action, callback_data.moment
    if action not in ACTIONS or (action == "toggle" and moment not in MOMENTS):
        await acknowledge(callback, _("This button is out of date."))
        return
    await acknowledge(callback)
    user_id, lang = callback.from_user.id, i18n.current_locale
    if action != "show":
        prefs = await db.reminder_prefs(user_id) or NOTHING
        await db.set_reminder_prefs(user_id, lang, changed(prefs, action, moment))
        await _replan(db, library, user_id)
    await show(callback, *await _view(db, library, user_id, lang, today()))


async def station_button(
    callback: CallbackQuery,
    callback_data: StationRemindCb,
    db: Database,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
) -> None:
    station = library.stations.station(callback_data.station_id)
    if station is None:
        await acknowledge(callback, _("This button is out of date."))
        return
    user_id, lang = callback.from_user.id, i18n.current_locale
    await db.set_station(user_id, lang, station.id)
    prefs = await db.reminder_prefs(user_id) or NOTHING
    if prefs.moments is None:  # asking to be reminded about a station is saying yes
        await db.set_reminder_prefs(user_id, lang, ReminderPrefs(prefs.announce, MOMENTS))
    await _replan(db, library, user_id)
    await acknowledge(
        callback,
        _("Reminders will come at {city} local time, with this station's card.").format(
            city=station.city.get(lang)
        ),
    )
    if callback.bot is not None:  # the card stays; the reminders follow it
        text, markup = await _view(db, library, user_id, lang, today())
        await callback.bot.send_message(user_id, text, reply_markup=markup)


# --- /forget --------------------------------------------------------------------------------


def forget_question() -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Delete everything the bot stores about you: your language, your station, your "
        "reminders, the feedback you wrote and the record of your messages and of what it sent "
        "you? This cannot be undone."
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            _button("🗑 " + _("Yes, delete"), ForgetCb(confirm=True))
            + _button(_("Cancel"), ForgetCb(confirm=False))
        ]
    )
    return text, markup


def forgotten_text(gone: Forgotten, retention_days: int) -> str:
    deleted = []
    if gone.language:
        deleted.append(_("your language choice"))
    if gone.station:
        deleted.append(_("the polling station you chose"))
    if gone.reminders:
        deleted.append(_("your reminder settings"))
    if gone.messages:
        deleted.append(
            _(
                "the record of {n} message to the bot",
                "the record of {n} messages to the bot",
                gone.messages,
            ).format(n=gone.messages)
        )
    if gone.sent:
        deleted.append(
            _(
                "{n} announcement or reminder sent or waiting",
                "{n} announcements and reminders sent or waiting",
                gone.sent,
            ).format(n=gone.sent)
        )
    if gone.feedback:
        deleted.append(
            _(
                "{n} feedback message you wrote",
                "{n} feedback messages you wrote",
                gone.feedback,
            ).format(n=gone.feedback)
        )
    head = (
        _("Done. Deleted: {items}.").format(items="; ".join(deleted))
        if deleted
        else _("Done. The bot stored nothing about you.")
    )
    kept = _(
        "Kept: questions the bot could not answer, stored without your name or Telegram "
        "account so that people can improve its answers, and deleted after {days} days."
    ).format(days=retention_days)
    return head + "\n" + kept


async def forget(message: Message) -> None:
    text, markup = forget_question()
    await message.answer(text, reply_markup=markup)


async def forget_button(
    callback: CallbackQuery, callback_data: ForgetCb, db: Database, settings: Settings
) -> None:
    await acknowledge(callback)
    if not callback_data.confirm:
        await show(callback, _("Nothing was deleted."), None)
        return
    gone = await db.forget_user(callback.from_user.id)
    await show(callback, forgotten_text(gone, settings.unanswered_retention_days), None)


def build() -> Router:
    router = Router(name="remind")
    router.message.register(remind, Command("remind"))
    router.callback_query.register(reminders_button, MenuCb.filter(F.action == "reminders"))
    router.callback_query.register(remind_button, RemindCb.filter())
    router.callback_query.register(station_button, StationRemindCb.filter())
    router.message.register(forget, Command("forget"))
    router.callback_query.register(forget_button, ForgetCb.filter())
    return router
