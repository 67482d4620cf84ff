"""The operator's announcement (admins only, behind the operator router's filters): audience ->
a text per language -> now or a time -> preview -> confirm, written through
bot.delivery.announcements as the command line writes it; the list of announcements with their
progress and a button that cancels what is not sent yet. Each step lives in the FSM storage
(SQLite), so a restart in between loses nothing; /cancel leaves any step."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot import ASTANA, LOCALES
from bot.delivery import announcements
from bot.delivery.announcements import AnnouncementError
from bot.handlers.common import acknowledge, show, typed_html
from bot.keyboards import LANGUAGE_NAMES, OpCb
from bot.library import Library
from bot.stations.card import country_label
from bot.storage import Database

SEP = "~"  # stands for the audience's ":" in a button (":" separates OpCb's fields)
TIME_FORMAT = "%Y-%m-%d %H:%M"
LISTED = 8  # announcements shown, newest last


class AnnounceSteps(StatesGroup):
    audience = State()
    text = State()
    when = State()
    confirm = State()


def _button(text: str, action: str, arg: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=OpCb(action=action, arg=arg).pack())


def _cancel_row() -> list[InlineKeyboardButton]:
    return [_button("✖️ " + _("Cancel"), "an_cancel")]


def audience_label(audience: str) -> str:
    kind, _sep, value = audience.partition(":")
    if kind == "lang":
        return _("people who use the bot in {language}").format(language=LANGUAGE_NAMES[value])
    if kind == "country":
        return _("voters who chose a station in {country}").format(
            country=country_label(value, get_i18n().current_locale)
        )
    return _("everyone who started the bot and has not stopped it")


# --- the list: progress and cancel ----------------------------------------------------------


def _status(row: dict[str, Any], now: datetime) -> str:
    if row["state"] == "cancelled":
        return _("cancelled")
    if row["queued"]:
        return _("queued") if datetime.fromisoformat(row["send_at"]) > now else _("sending")
    return _("done")


async def list_view(db: Database) -> tuple[str, InlineKeyboardMarkup]:
    rows = await db.outbox_report(announcements.KIND, LISTED)
    now = datetime.now(UTC)
    astana = _("Astana time")
    lines = ["<b>" + _("Announcements") + "</b>"]
    buttons = []
    for row in rows:
        at = datetime.fromisoformat(row["send_at"]).astimezone(ASTANA).strftime(TIME_FORMAT)
        counts = _("sent {sent}, failed {failed}, blocked {blocked}, waiting {waiting}").format(
            sent=row["sent"], failed=row["failed"], blocked=row["blocked"], waiting=row["queued"]
        )
        if row["cancelled"]:
            counts += ", " + _("cancelled {count}").format(count=row["cancelled"])
        audience = escape(audience_label(row["audience"]))
        lines.append(
            f"#{row['id']} · {at} ({astana}) · {audience}\n    {_status(row, now)}: {counts}"
        )
        if row["state"] != "cancelled" and (row["queued"] or row["state"] == "expanding"):
            label = "⛔ " + _("Cancel #{number}").format(number=row["id"])
            buttons.append([_button(label, "an_stop", str(row["id"]))])
    if not rows:
        lines.append(_("No announcements yet."))
    buttons.append([_button("➕ " + _("New announcement"), "an_new")])
    buttons.append([_button("🔄 " + _("Refresh"), "an_list"), _button("⬅️ " + _("Back"), "menu")])
    return "\n\n".join(lines), InlineKeyboardMarkup(inline_keyboard=buttons)


async def list_button(callback: CallbackQuery, db: Database) -> None:
    await acknowledge(callback)
    await show(callback, *await list_view(db))


async def stop_button(callback: CallbackQuery, callback_data: OpCb, db: Database) -> None:
    stopped = (
        await announcements.cancel(db, int(callback_data.arg))
        if callback_data.arg.isdecimal()
        else None
    )
    if stopped is None:
        await acknowledge(callback, _("This button is out of date."))
    else:
        await acknowledge(
            callback,
            _("Announcement #{number} cancelled: {count} sends stopped.").format(
                number=callback_data.arg, count=stopped
            ),
        )
    await show(callback, *await list_view(db))


# --- the flow: audience -> texts -> time -> preview -> confirm ------------------------------


async def new_button(callback: CallbackQuery, state: FSMContext, db: Database) -> None:
    await acknowledge(callback)
    await state.set_state(AnnounceSteps.audience)
    await state.set_data({})
    await show(callback, *await audience_view(db))


async def audience_view(db: Database) -> tuple[str, InlineKeyboardMarkup]:
    counts = await db.audience_counts("all")
    everyone = _("Everyone")
    rows = [[_button(f"{everyone} · {sum(counts.values())}", "an_aud", "all")]]
    rows.append(
        [
            _button(f"{LANGUAGE_NAMES[lang]} · {counts.get(lang, 0)}", "an_aud", f"lang{SEP}{lang}")
            for lang in LOCALES
        ]
    )
    rows.append([_button("🌍 " + _("Voters abroad, by country"), "an_countries")])
    rows.append(_cancel_row())
    text = _("Announcement, step 1 of 4: who gets it? (recipients now beside each)")
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def countries_button(callback: CallbackQuery, db: Database, library: Library) -> None:
    await acknowledge(callback)
    lang = get_i18n().current_locale
    counts = await db.station_country_counts()
    codes = sorted(
        {s.country for s in library.content.stations}, key=lambda c: country_label(c, lang)
    )
    buttons = [
        _button(f"{country_label(c, lang)} · {counts.get(c, 0)}", "an_aud", f"country{SEP}{c}")
        for c in codes
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_button("⬅️ " + _("Back"), "an_new"), *_cancel_row()])
    text = _("Voters who chose a station in which country? (recipients now beside each)")
    await show(callback, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def audience_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext, library: Library
) -> None:
    try:
        audience = announcements.parse_audience(callback_data.arg.replace(SEP, ":"))
    except AnnouncementError:
        audience = ""
    known = {s.country for s in library.content.stations}
    if not audience or (audience.startswith("country:") and audience[8:] not in known):
        await acknowledge(callback, _("This button is out of date."))
        return
    await acknowledge(callback)
    await state.update_data(audience=audience, texts={}, lang=0)
    await state.set_state(AnnounceSteps.text)
    await show(callback, *text_prompt(0, {}))


def text_prompt(index: int, texts: dict[str, str]) -> tuple[str, InlineKeyboardMarkup]:
    language = LANGUAGE_NAMES[LOCALES[index]]
    text = _(
        "Step 2 of 4: send the text in {language}, formatted in the Telegram app or written as "
        "Telegram HTML, at most {limit} characters. A language without a text of its own gets "
        "another's (Kazakh, then Russian, then English); the preview shows who gets which."
    ).format(language=language, limit=announcements.MAX_CHARS)
    rows = [[_button("⏭ " + _("No text in {language}").format(language=language), "an_skip")]]
    if texts:
        rows.append([_button("➡️ " + _("Use the texts given for the other languages"), "an_same")])
    rows.append(_cancel_row())
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def text_typed(message: Message, state: FSMContext) -> None:
    text = typed_html(message).strip()
    try:
        announcements.check_text(text, as_html=True)
    except AnnouncementError as refused:
        await message.answer(
            _("Refused: {reason}. Send a corrected text, or /cancel.").format(
                reason=escape(str(refused), quote=False)
            )
        )
        return
    data = await state.get_data()
    texts = data["texts"] | {LOCALES[data["lang"]]: text}
    await _next_language(message, state, texts, data["lang"] + 1)


async def skip_button(callback: CallbackQuery, state: FSMContext) -> None:
    await acknowledge(callback)
    data = await state.get_data()
    if isinstance(callback.message, Message):
        await _next_language(callback.message, state, data["texts"], data["lang"] + 1)


async def same_button(callback: CallbackQuery, state: FSMContext) -> None:
    await acknowledge(callback)
    data = await state.get_data()
    if isinstance(callback.message, Message):
        await _next_language(callback.message, state, data["texts"], len(LOCALES))


async def _next_language(
    message: Message, state: FSMContext, texts: dict[str, str], index: int
) -> None:
    if index < len(LOCALES):
        await state.update_data(texts=texts, lang=index)
        prompt, markup = text_prompt(index, texts)
        await message.answer(prompt, reply_markup=markup)
        return
    if not texts:  # every language skipped: start over with the first
        await state.update_data(texts={}, lang=0)
        await message.answer(_("An announcement needs a text in at least one language."))
        prompt, markup = text_prompt(0, {})
        await message.answer(prompt, reply_markup=markup)
        return
    await state.update_data(texts=texts)
    await state.set_state(AnnounceSteps.when)
    rows = [[_button("🚀 " + _("Now"), "an_now")], _cancel_row()]
    await message.answer(
        _(
            "Step 3 of 4: when? Tap Now, or send a date and time in Astana time, e.g. {example}."
        ).format(example="2026-12-05 10:00"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def when_typed(message: Message, state: FSMContext, db: Database) -> None:
    try:
        at = datetime.strptime((message.text or "").strip(), TIME_FORMAT).replace(tzinfo=ASTANA)
    except ValueError:
        await message.answer(
            _("Write the time as {example} (Astana time), or tap Now, or /cancel.").format(
                example="2026-12-05 10:00"
            )
        )
        return
    if at <= datetime.now(UTC):
        await message.answer(_("That time has passed. Send a later one, or tap Now."))
        return
    await state.update_data(at=at.isoformat())
    await preview(message, state, db)


async def now_button(callback: CallbackQuery, state: FSMContext, db: Database) -> None:
    await acknowledge(callback)
    await state.update_data(at=None)
    if isinstance(callback.message, Message):
        await preview(callback.message, state, db)


async def preview(message: Message, state: FSMContext, db: Database) -> None:
    """Each distinct text exactly as its recipients get it (the deliverer's own rendering),
    then who gets which, how many, when, and the buttons to send or cancel."""
    await state.set_state(AnnounceSteps.confirm)
    data = await state.get_data()
    texts: dict[str, str] = data["texts"]
    counts = await db.audience_counts(data["audience"])
    payload = {"texts": texts, "html": True}
    groups: dict[str, list[str]] = {}  # language of a text -> the language groups getting it
    for lang in LOCALES:
        groups.setdefault(announcements.text_for(texts, lang)[0], []).append(lang)
    for source, langs in groups.items():
        names = ", ".join(f"{LANGUAGE_NAMES[lang]} ({counts.get(lang, 0)})" for lang in langs)
        await message.answer(
            _("Preview of the {language} text, which these get: {groups}").format(
                language=LANGUAGE_NAMES[source], groups=names
            )
        )
        await message.answer((await announcements.render(payload, source, 0)).text)
    at = datetime.fromisoformat(data["at"]) if data.get("at") else None
    when = at.strftime(TIME_FORMAT) + " (" + _("Astana time") + ")" if at else _("now")
    summary = _("Step 4 of 4: send to {audience}, {count} recipients, {when}?").format(
        audience=escape(audience_label(data["audience"])), count=sum(counts.values()), when=when
    )
    rows = [[_button("✅ " + _("Send"), "an_send"), *_cancel_row()]]
    await message.answer(summary, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def send_button(callback: CallbackQuery, state: FSMContext, db: Database) -> None:
    data = await state.get_data()
    await state.clear()
    at = datetime.fromisoformat(data["at"]) if data.get("at") else None
    if at is not None and at <= datetime.now(UTC):
        at = None  # the preview took longer than the wait: it goes now, as the operator saw
    try:
        number, recipients = await announcements.announce(
            db, data["texts"], data["audience"], at, callback.from_user.id, as_html=True
        )
    except AnnouncementError as refused:  # checked at each step: only a forged state gets here
        await acknowledge(callback)
        await show(
            callback,
            _("Refused: {reason}. Nothing was sent.").format(
                reason=escape(str(refused), quote=False)
            ),
        )
        return
    await acknowledge(
        callback,
        _("Announcement #{number} written: {count} recipients.").format(
            number=number, count=recipients
        ),
    )
    await show(callback, *await list_view(db))


async def cancel_button(callback: CallbackQuery, state: FSMContext, db: Database) -> None:
    await state.clear()
    await acknowledge(callback, _("Cancelled."))
    await show(callback, *await list_view(db))


def register(router: Router, not_a_command: Any) -> None:
    """On the admins' router; `not_a_command`: what a typed answer to a step must be."""
    router.callback_query.register(list_button, OpCb.filter(F.action == "an_list"))
    router.callback_query.register(stop_button, OpCb.filter(F.action == "an_stop"))
    router.callback_query.register(new_button, OpCb.filter(F.action == "an_new"))
    # Each step's buttons work only in that step: an old one falls through as out of date.
    router.callback_query.register(
        countries_button, AnnounceSteps.audience, OpCb.filter(F.action == "an_countries")
    )
    router.callback_query.register(
        audience_button, AnnounceSteps.audience, OpCb.filter(F.action == "an_aud")
    )
    router.message.register(text_typed, AnnounceSteps.text, not_a_command)
    router.callback_query.register(
        skip_button, AnnounceSteps.text, OpCb.filter(F.action == "an_skip")
    )
    router.callback_query.register(
        same_button, AnnounceSteps.text, OpCb.filter(F.action == "an_same")
    )
    router.message.register(when_typed, AnnounceSteps.when, not_a_command)
    router.callback_query.register(
        now_button, AnnounceSteps.when, OpCb.filter(F.action == "an_now")
    )
    router.callback_query.register(
        send_button, AnnounceSteps.confirm, OpCb.filter(F.action == "an_send")
    )
    router.callback_query.register(
        cancel_button, AnnounceSteps(), OpCb.filter(F.action == "an_cancel")
    )
