"""Operators' guided edits beyond an answer (behind the operator router's filter): an entry's
phrasings in one language and its sources, a new entry step by step, a station's status and
figures, a vote's date and status. Every change is previewed as users will see it and saved
only from the preview's Save button, through bot.operators.editing (validated as an import,
audited, revertible). Each step lives in the FSM storage (SQLite); /cancel leaves any step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _

from bot import LOCALES
from bot.content.models import SECTIONS, FaqEntry, Station, StationStatus, Vote
from bot.handlers.common import acknowledge, show, typed_html
from bot.handlers.operators import (
    SEP,
    _button,
    _out_of_date,
    _reason,
    _saved,
    changed_fields,
    entry_summary,
    operator_menu,
)
from bot.keyboards import LANGUAGE_NAMES, OpCb, section_titles
from bot.library import Library
from bot.operators import editing
from bot.operators.editing import EditRefused, Saved
from bot.operators.roles import Role
from bot.render import long_date, outlook, render_answer, source_link
from bot.stations.card import station_card
from bot.storage import AuditRow, Database

STATUSES: tuple[StationStatus, ...] = ("operated", "suspended")
UNCONFIRMED = "none"
VOTE_STATUSES = ("announced", "held")
MAX_VOTES_SHOWN = 10


class PhrasingSteps(StatesGroup):
    language = State()
    choose = State()
    text = State()


class SourceSteps(StatesGroup):
    text = State()
    record = State()  # of a vote or a station


class NewEntrySteps(StatesGroup):
    entry_id = State()
    section = State()
    language = State()
    title = State()
    question = State()
    answer = State()
    sources = State()


class StationSteps(StatesGroup):
    query = State()
    status = State()
    figure = State()


class VoteSteps(StatesGroup):
    date = State()


class ConfirmSteps(StatesGroup):
    confirm = State()


GROUPS = (PhrasingSteps, SourceSteps, NewEntrySteps, StationSteps, VoteSteps, ConfirmSteps)


def _cancel_row() -> list[Any]:
    return [_button("✖️ " + _("Cancel"), "ce_cancel")]


def _markup(*rows: list[Any]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=list(rows))


def _refused(refused: EditRefused) -> str:
    return _("Refused: {reason}. Nothing was changed. Send a corrected text, or /cancel.").format(
        reason=_reason(refused)
    )


async def _entry_in(state: FSMContext) -> FaqEntry:
    return FaqEntry.model_validate_json((await state.get_data())["entry"])


async def _confirm(
    message: Message, state: FSMContext, what: str, seen: str, new: str, kind: str = ""
) -> None:
    """The step before saving: the preview was sent, this asks to save it."""
    await state.update_data(what=what, seen=seen, new=new, kind=kind)
    await state.set_state(ConfirmSteps.confirm)
    await message.answer(
        _("Save this change?"),
        reply_markup=_markup([_button("💾 " + _("Save"), "ce_save"), *_cancel_row()]),
    )


async def _send_preview(message: Message, note: str, preview: str) -> None:
    await message.answer(note)
    await message.answer(preview, disable_web_page_preview=True)


async def cancel_button(callback: CallbackQuery, state: FSMContext, role: Role) -> None:
    await state.clear()
    await acknowledge(callback, _("Cancelled."))
    await show(callback, *operator_menu(role))


# --- an entry's phrasings in one language -------------------------------------------------


async def phrasings_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext, library: Library
) -> None:
    entry = library.content.entry(callback_data.arg)
    if entry is None:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await state.set_state(PhrasingSteps.language)
    await state.set_data({"entry": entry.model_dump_json()})
    rows = [[_button(LANGUAGE_NAMES[lang], "ph_lang", lang) for lang in LOCALES], _cancel_row()]
    await show(
        callback,
        _("Which language's phrasings of {entry_id} do you want to change?").format(
            entry_id=f"<code>{entry.id}</code>"
        ),
        _markup(*rows),
    )


async def phrasing_lang_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext
) -> None:
    lang = callback_data.arg
    if lang not in LOCALES:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    entry = await _entry_in(state)
    await state.update_data(lang=lang)
    await state.set_state(PhrasingSteps.choose)
    questions = entry.text(lang).questions
    lines = [
        _("Phrasings of {entry_id} in {language}: the search answers them with this entry.").format(
            entry_id=f"<code>{entry.id}</code>", language=LANGUAGE_NAMES[lang]
        ),
        *(f"{n}. {escape(q, quote=False)}" for n, q in enumerate(questions, start=1)),
    ]
    rows = [[_button("➕ " + _("Add a phrasing"), "ph_add")]]
    rows += [
        [_button(f"✏️ {n}", "ph_rep", str(n - 1)), _button(f"🗑 {n}", "ph_del", str(n - 1))]
        for n in range(1, len(questions) + 1)
    ]
    rows.append(_cancel_row())
    await show(callback, "\n".join(lines), _markup(*rows))


async def phrasing_add_button(callback: CallbackQuery, state: FSMContext) -> None:
    await acknowledge(callback)
    await state.update_data(index=None)
    await state.set_state(PhrasingSteps.text)
    await show(callback, _("Send the new phrasing, as a user would ask it. /cancel stops."))


async def phrasing_replace_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext
) -> None:
    data = await state.get_data()
    entry = FaqEntry.model_validate_json(data["entry"])
    questions = entry.text(data["lang"]).questions
    if not callback_data.arg.isdecimal() or int(callback_data.arg) >= len(questions):
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    index = int(callback_data.arg)
    await state.update_data(index=index)
    await state.set_state(PhrasingSteps.text)
    await show(
        callback,
        _("Send the phrasing that replaces this one, or /cancel:")
        + f"\n<pre>{escape(questions[index])}</pre>",
    )


async def phrasing_remove_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext
) -> None:
    data = await state.get_data()
    entry = FaqEntry.model_validate_json(data["entry"])
    arg = callback_data.arg
    try:
        if not arg.isdecimal():
            raise EditRefused("there is no such phrasing")
        new = editing.without_phrasing(entry, data["lang"], int(arg))
    except EditRefused as refused:
        await acknowledge(callback)
        await show(callback, _refused(refused))
        return
    await acknowledge(callback)
    if isinstance(callback.message, Message):
        await _phrasing_preview(callback.message, state, entry, new, data["lang"])


async def phrasing_typed(message: Message, state: FSMContext, library: Library) -> None:
    data = await state.get_data()
    entry = FaqEntry.model_validate_json(data["entry"])
    lang, index = data["lang"], data.get("index")
    try:
        text = message.text or ""
        new = (
            editing.adding_phrasing(entry, lang, text)
            if index is None
            else editing.replacing_phrasing(entry, lang, index, text)
        )
        editing.check_in(library.content, new)
    except EditRefused as refused:
        await message.answer(_refused(refused))
        return
    await _phrasing_preview(message, state, entry, new, lang)


async def _phrasing_preview(
    message: Message, state: FSMContext, entry: FaqEntry, new: FaqEntry, lang: str
) -> None:
    old = entry.text(lang).questions
    now = new.text(lang).questions
    lines = [
        _("Preview: the phrasings of {entry_id} in {language} after the change.").format(
            entry_id=f"<code>{entry.id}</code>", language=LANGUAGE_NAMES[lang]
        )
    ]
    lines += [("➕ " if q not in old else "• ") + escape(q, quote=False) for q in now]
    lines += ["➖ <s>" + escape(q, quote=False) + "</s>" for q in old if q not in now]
    await message.answer("\n".join(lines))
    await _confirm(message, state, "faq", entry.model_dump_json(), new.model_dump_json())


# --- an entry's sources -------------------------------------------------------------------


async def sources_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext, library: Library
) -> None:
    entry = library.content.entry(callback_data.arg)
    if entry is None:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await state.set_state(SourceSteps.text)
    await state.set_data({"entry": entry.model_dump_json()})
    current = escape("\n".join(entry.sources))
    await show(
        callback,
        _(
            "Send the whole new list of sources of {entry_id}, one a line. A source you add "
            "must be a web address (https://...). The current list, to copy:"
        ).format(entry_id=f"<code>{entry.id}</code>")
        + f"\n<pre>{current}</pre>\n/cancel",
    )


async def sources_typed(
    message: Message, state: FSMContext, library: Library, today: Callable[[], date]
) -> None:
    entry = await _entry_in(state)
    try:
        new = editing.with_sources(entry, message.text or "")
        editing.check_in(library.content, new)
    except EditRefused as refused:
        await message.answer(_refused(refused))
        return
    lang = get_i18n().current_locale
    await _send_preview(
        message,
        _("Preview: exactly what a user asking in {language} will see.").format(
            language=LANGUAGE_NAMES[lang]
        ),
        editing.preview(library, new, lang, today()),
    )
    await _confirm(message, state, "faq", entry.model_dump_json(), new.model_dump_json())


async def record_sources_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext, library: Library
) -> None:
    kind, _sep, record_id = callback_data.arg.partition(SEP)
    item = editing.record(library.content, kind, record_id)
    if item is None:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await state.set_state(SourceSteps.record)
    await state.set_data({"record": item.model_dump_json(), "kind": kind})
    current = escape("\n".join(item.sources)) or "—"
    await show(
        callback,
        _(
            "Send the whole new list of sources of {entry_id}, one a line. A source you add "
            "must be a web address (https://...). The current list, to copy:"
        ).format(entry_id=f"<code>{item.id}</code>")
        + f"\n<pre>{current}</pre>\n/cancel",
    )


async def record_sources_typed(
    message: Message, state: FSMContext, library: Library, today: Callable[[], date]
) -> None:
    data = await state.get_data()
    item = (Vote if data["kind"] == "vote" else Station).model_validate_json(data["record"])
    try:
        new = editing.with_sources(item, message.text or "")
        editing.check_record_in(library.content, new)
    except EditRefused as refused:
        await message.answer(_refused(refused))
        return
    if isinstance(item, Vote) and isinstance(new, Vote):
        await _vote_preview(message, state, library, item, new, today())
    elif isinstance(item, Station) and isinstance(new, Station):
        await _station_preview(message, state, library, item, new, today())


# --- a new entry, step by step -----------------------------------------------------------


async def new_button(callback: CallbackQuery, state: FSMContext) -> None:
    await acknowledge(callback)
    await state.set_state(NewEntrySteps.entry_id)
    await state.set_data({"texts": {}})
    await show(
        callback,
        _(
            "A new entry, step 1: send its id: lowercase words joined by dots, the first naming "
            "the topic, such as abroad.where_to_vote. /cancel stops."
        ),
    )


async def new_id_typed(message: Message, state: FSMContext, library: Library) -> None:
    try:
        entry_id = editing.check_new_id(library.content, message.text or "")
    except EditRefused as refused:
        await message.answer(_refused(refused))
        return
    await state.update_data(entry_id=entry_id)
    await state.set_state(NewEntrySteps.section)
    titles = section_titles()
    rows = [[_button(titles[s], "new_sec", s)] for s in SECTIONS]
    rows.append(_cancel_row())
    await message.answer(_("Step 2: which section is it in?"), reply_markup=_markup(*rows))


async def new_section_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext
) -> None:
    if callback_data.arg not in SECTIONS:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await state.update_data(section=callback_data.arg)
    if isinstance(callback.message, Message):
        await _ask_language(callback.message, state)


async def _ask_language(message: Message, state: FSMContext) -> None:
    await state.set_state(NewEntrySteps.language)
    written = (await state.get_data())["texts"]
    rows = [
        [_button(LANGUAGE_NAMES[lang], "new_lang", lang) for lang in LOCALES if lang not in written]
    ]
    if written:
        rows.append([_button("➡️ " + _("On to the sources"), "new_done")])
        names = ", ".join(LANGUAGE_NAMES[lang] for lang in LOCALES if lang in written)
        text = _(
            "Written in: {languages}. Write another language, or go on. A language left out "
            "gets a copy of the text for now, and coverage lists the entry until it is "
            "translated."
        ).format(languages=names)
    else:
        text = _("Step 3: in which language do you write it first?")
    rows.append(_cancel_row())
    await message.answer(text, reply_markup=_markup(*[r for r in rows if r]))


async def new_lang_button(callback: CallbackQuery, callback_data: OpCb, state: FSMContext) -> None:
    lang = callback_data.arg
    if lang not in LOCALES or lang in (await state.get_data())["texts"]:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await state.update_data(lang=lang)
    await state.set_state(NewEntrySteps.title)
    await show(
        callback,
        _("Send the button label in {language}: plain text, at most 40 characters.").format(
            language=LANGUAGE_NAMES[lang]
        ),
    )


async def new_title_typed(message: Message, state: FSMContext) -> None:
    title = message.text or ""
    try:
        editing.translation(title, "?")
    except EditRefused as refused:
        await message.answer(_refused(refused))
        return
    await state.update_data(title=title)
    await state.set_state(NewEntrySteps.question)
    await message.answer(_("Send the question, as a user would ask it."))


async def new_question_typed(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    try:
        editing.translation(data["title"], message.text or "")
    except EditRefused as refused:
        await message.answer(_refused(refused))
        return
    await state.update_data(question=message.text or "")
    await state.set_state(NewEntrySteps.answer)
    await message.answer(
        _(
            "Send the answer, formatted in the Telegram app or written as Telegram HTML. The "
            "sources and the verified date are added below it."
        )
    )


async def new_answer_typed(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    try:
        answer = typed_html(message)
        if not answer.strip():
            raise EditRefused("answer is empty")
        text = editing.translation(data["title"], data["question"], answer)
    except EditRefused as refused:
        await message.answer(_refused(refused))
        return
    await state.update_data(texts=data["texts"] | {data["lang"]: text})
    await _ask_language(message, state)


async def new_done_button(callback: CallbackQuery, state: FSMContext) -> None:
    if not (await state.get_data())["texts"]:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await state.set_state(NewEntrySteps.sources)
    await show(
        callback,
        _("Last step: send its sources, one web address (https://...) a line. /cancel stops."),
    )


async def new_sources_typed(
    message: Message,
    state: FSMContext,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
) -> None:
    data = await state.get_data()
    try:
        sources = editing.sources_from(message.text or "", keep=[])
        entry = editing.new_entry(
            data["entry_id"], data["section"], data["texts"], sources, today()
        )
        editing.check_in(library.content, entry)
    except EditRefused as refused:
        await message.answer(_refused(refused))
        return
    for lang in LOCALES:
        if lang in data["texts"]:
            with i18n.use_locale(lang):
                preview = editing.preview(library, entry, lang, today())
            await _send_preview(
                message,
                _("Preview: exactly what a user asking in {language} will see.").format(
                    language=LANGUAGE_NAMES[lang]
                ),
                preview,
            )
    await _confirm(message, state, "create", "", entry.model_dump_json())


# --- stations ----------------------------------------------------------------------------


async def stations_button(callback: CallbackQuery, state: FSMContext) -> None:
    await acknowledge(callback)
    await state.set_state(StationSteps.query)
    await show(
        callback,
        _("Send a station id, a city's name or a country code (such as TR). /cancel stops."),
    )


async def station_query_typed(message: Message, state: FSMContext, library: Library) -> None:
    found = editing.find_stations(library.content, message.text or "")
    if not found:
        await message.answer(_("No station found. Try another name, or /cancel."))
        return
    await state.clear()
    lang = get_i18n().current_locale
    rows = [[_button(f"{s.city.get(lang)} · {s.id}", "st", s.id)] for s in found]
    rows.append([_button("⬅️ " + _("Back"), "menu")])
    await message.answer(_("Stations found:"), reply_markup=_markup(*rows))


def station_view(
    library: Library, station: Station, today: date, note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    lang = get_i18n().current_locale
    card = station_card(library.stations, station, lang, today, pin=False)
    text = (note + "\n\n" if note else "") + f"<code>{station.id}</code>\n\n{card}"
    vote = _next_vote(library, today)
    rows = []
    if vote is not None:
        label = _("Status for {vote}").format(vote=vote.title.get(lang))
        rows.append([_button("🗳 " + label[:40], "st_vote", station.id)])
    names = {"address": _("Address"), "number": _("Station number"), "email": _("E-mail")}
    rows.append(
        [_button("✏️ " + name, "st_fig", f"{station.id}{SEP}{f}") for f, name in names.items()]
    )
    rows.append([_button("🔗 " + _("Sources"), "rec_src", f"station{SEP}{station.id}")])
    rows.append([_button("🕓 " + _("Changes and revert"), "rec_hist", f"station{SEP}{station.id}")])
    rows.append([_button("⬅️ " + _("Back"), "menu")])
    return text, _markup(*rows)


def _next_vote(library: Library, today: date) -> Vote | None:
    return outlook(library.content, today).upcoming


async def station_button(
    callback: CallbackQuery, callback_data: OpCb, library: Library, today: Callable[[], date]
) -> None:
    station = editing.record(library.content, "station", callback_data.arg)
    if not isinstance(station, Station):
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await show(callback, *station_view(library, station, today()))


async def station_vote_button(
    callback: CallbackQuery,
    callback_data: OpCb,
    state: FSMContext,
    library: Library,
    today: Callable[[], date],
) -> None:
    station = editing.record(library.content, "station", callback_data.arg)
    vote = _next_vote(library, today())
    if not isinstance(station, Station) or vote is None:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await state.set_state(StationSteps.status)
    await state.set_data({"record": station.model_dump_json(), "vote": vote.id})
    lang = get_i18n().current_locale
    names = {
        "operated": _("It will operate"),
        "suspended": _("It is suspended"),
        UNCONFIRMED: _("Not confirmed yet"),
    }
    rows = [[_button(name, "st_status", key)] for key, name in names.items()]
    rows.append(_cancel_row())
    await show(
        callback,
        _("{station}: its status for {vote}, as your source states it?").format(
            station=escape(station.city.get(lang)), vote=escape(vote.title.get(lang))
        ),
        _markup(*rows),
    )


async def station_status_button(
    callback: CallbackQuery,
    callback_data: OpCb,
    state: FSMContext,
    library: Library,
    today: Callable[[], date],
) -> None:
    status = callback_data.arg
    if status not in (*STATUSES, UNCONFIRMED):
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    data = await state.get_data()
    station = Station.model_validate_json(data["record"])
    new = editing.with_station_status(
        station,
        data["vote"],
        None if status == UNCONFIRMED else status,  # type: ignore[arg-type]
        today(),
    )
    if isinstance(callback.message, Message):
        await _station_preview(callback.message, state, library, station, new, today())


async def station_figure_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext, library: Library
) -> None:
    station_id, _sep, figure = callback_data.arg.partition(SEP)
    station = editing.record(library.content, "station", station_id)
    if not isinstance(station, Station) or figure not in editing.STATION_FIGURES:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await state.set_state(StationSteps.figure)
    await state.set_data({"record": station.model_dump_json(), "figure": figure})
    current = getattr(station, figure)
    prompt = {
        "address": _("Send the station's new address, as your source gives it."),
        "number": _("Send the station's new number (digits only)."),
        "email": _("Send the station's new e-mail address."),
    }[figure]
    text = prompt + " " + _("Send - to remove it. /cancel stops.")
    if current is not None:
        text += "\n" + _("Now:") + f" <pre>{escape(str(current))}</pre>"
    await show(callback, text)


async def station_figure_typed(
    message: Message, state: FSMContext, library: Library, today: Callable[[], date]
) -> None:
    data = await state.get_data()
    station = Station.model_validate_json(data["record"])
    try:
        new = editing.with_station_figure(station, data["figure"], message.text or "", today())
        editing.check_record_in(library.content, new)
    except EditRefused as refused:
        await message.answer(_refused(refused))
        return
    await _station_preview(message, state, library, station, new, today())


async def _station_preview(
    message: Message,
    state: FSMContext,
    library: Library,
    station: Station,
    new: Station,
    today: date,
) -> None:
    lang = get_i18n().current_locale
    await _send_preview(
        message,
        _("Preview: the station's card as a user in {language} will see it.").format(
            language=LANGUAGE_NAMES[lang]
        ),
        station_card(library.stations, new, lang, today, pin=False),
    )
    await _confirm(
        message, state, "record", station.model_dump_json(), new.model_dump_json(), "station"
    )


# --- votes -------------------------------------------------------------------------------


async def votes_button(callback: CallbackQuery, library: Library) -> None:
    await acknowledge(callback)
    lang = get_i18n().current_locale
    votes = sorted(library.content.votes, key=lambda v: v.sort_key, reverse=True)
    rows = [[_button(v.title.get(lang)[:40], "vote", v.id)] for v in votes[:MAX_VOTES_SHOWN]]
    rows.append([_button("⬅️ " + _("Back"), "menu")])
    await show(callback, _("Which vote?"), _markup(*rows))


def vote_summary(vote: Vote) -> str:
    lang = get_i18n().current_locale
    when = (
        long_date(vote.date, lang)
        if vote.date
        else _("only the month is known: {month}").format(month=vote.month)
    )
    status = _("held") if vote.status == "held" else _("announced")
    sources = "\n".join(f"• {source_link(s)}" for s in vote.sources)
    return (
        f"<b>{escape(vote.title.get(lang))}</b> · <code>{vote.id}</code>\n"
        + _("Date: {when}").format(when=when)
        + "\n"
        + _("Status: {status}").format(status=status)
        + "\n"
        + _("Sources:")
        + f"\n{sources}\n"
        + _("Verified on {date}").format(date=long_date(vote.verified, lang))
    )


def vote_view(vote: Vote, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    other = "held" if vote.status == "announced" else "announced"
    label = _("Mark as held") if other == "held" else _("Mark as announced")
    rows = [
        [_button("📅 " + _("Set the date"), "vt_date", vote.id)],
        [_button("🔁 " + label, "vt_status", f"{vote.id}{SEP}{other}")],
        [_button("🔗 " + _("Sources"), "rec_src", f"vote{SEP}{vote.id}")],
        [_button("🕓 " + _("Changes and revert"), "rec_hist", f"vote{SEP}{vote.id}")],
        [_button("⬅️ " + _("Back"), "votes")],
    ]
    return (note + "\n\n" if note else "") + vote_summary(vote), _markup(*rows)


async def vote_button(callback: CallbackQuery, callback_data: OpCb, library: Library) -> None:
    vote = library.content.vote(callback_data.arg)
    if vote is None:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await show(callback, *vote_view(vote))


async def vote_date_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext, library: Library
) -> None:
    vote = library.content.vote(callback_data.arg)
    if vote is None:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await state.set_state(VoteSteps.date)
    await state.set_data({"record": vote.model_dump_json()})
    await show(
        callback,
        _(
            "Send the date of {vote} as the official source states it, written YYYY-MM-DD. "
            "Voters who asked to be told when it is dated get a message once it is saved. "
            "/cancel stops."
        ).format(vote=escape(vote.title.get(get_i18n().current_locale))),
    )


async def vote_date_typed(
    message: Message,
    state: FSMContext,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
) -> None:
    vote = Vote.model_validate_json((await state.get_data())["record"])
    try:
        new = editing.with_vote_date(vote, message.text or "", today())
        editing.check_record_in(library.content, new)
    except EditRefused as refused:
        await message.answer(_refused(refused))
        return
    await _vote_preview(message, state, library, vote, new, today())


async def vote_status_button(
    callback: CallbackQuery,
    callback_data: OpCb,
    state: FSMContext,
    library: Library,
    today: Callable[[], date],
) -> None:
    vote_id, _sep, status = callback_data.arg.partition(SEP)
    vote = library.content.vote(vote_id)
    if vote is None or status not in VOTE_STATUSES or not isinstance(callback.message, Message):
        await _out_of_date(callback)
        return
    try:
        new = editing.with_vote_status(vote, status, today())
    except EditRefused as refused:
        await acknowledge(callback)
        await show(callback, _refused(refused))
        return
    await acknowledge(callback)
    await state.clear()
    await _vote_preview(callback.message, state, library, vote, new, today())


async def _vote_preview(
    message: Message, state: FSMContext, library: Library, vote: Vote, new: Vote, today: date
) -> None:
    """The vote as operators see it, then the answer about the next vote as users get it."""
    lang = get_i18n().current_locale
    await message.answer(_("Preview:") + "\n\n" + vote_summary(new))
    content = library.content.model_copy(
        update={"votes": [new if v.id == new.id else v for v in library.content.votes]}
    )
    shown = next((e for e in content.published() if e.render == "next_vote"), None)
    if shown is not None:
        await _send_preview(
            message,
            _("Preview: exactly what a user asking in {language} will see.").format(
                language=LANGUAGE_NAMES[lang]
            ),
            render_answer(content, shown, lang, today),
        )
    await _confirm(message, state, "record", vote.model_dump_json(), new.model_dump_json(), "vote")


# --- saving, history and revert of a record ---------------------------------------------


async def save_button(
    callback: CallbackQuery,
    state: FSMContext,
    db: Database,
    library: Library,
    today: Callable[[], date],
) -> None:
    data = await state.get_data()
    await state.clear()
    actor = callback.from_user.id
    try:
        if data["what"] == "faq":
            new = FaqEntry.model_validate_json(data["new"])
            saved = await editing.save(db, library, data["seen"], new, actor)
            await _saved(callback, saved, library, new.id)
            return
        if data["what"] == "create":
            new = FaqEntry.model_validate_json(data["new"])
            saved = await editing.create(db, library, new, actor)
            await _created(callback, saved, library, new.id)
            return
        kind = data["kind"]
        model = Vote if kind == "vote" else Station
        item = model.model_validate_json(data["new"])
        saved = await editing.save_record(db, library, data["seen"], item, actor, "edit")
    except EditRefused as refused:  # the content around it changed since the preview
        await acknowledge(callback)
        await show(
            callback, _("Refused: {reason}. Nothing was changed.").format(reason=_reason(refused))
        )
        return
    await record_saved(callback, saved, library, kind, item.id, today())


async def _created(callback: CallbackQuery, saved: Saved, library: Library, entry_id: str) -> None:
    if saved is Saved.CONFLICT:
        await acknowledge(callback, _("Nothing was saved: that id was taken meanwhile."))
        back = _markup([_button("⬅️ " + _("Back"), "menu")])
        await show(callback, _("Nothing was saved: that id was taken meanwhile."), back)
        return
    note = _("Saved. Users get it from now on.")
    await acknowledge(callback, note)
    entry = library.content.entry(entry_id)
    assert entry is not None  # just saved and loaded
    text, markup = entry_summary(entry)
    await show(callback, note + "\n\n" + text, markup)


async def record_saved(
    callback: CallbackQuery,
    saved: Saved,
    library: Library,
    kind: str,
    record_id: str,
    today: date,
) -> None:
    """How a change of a vote or a station went, and the record as it now is."""
    notes = {
        Saved.DONE: _("Saved. Users get it from now on."),
        Saved.UNCHANGED: _("Nothing to change: the record already is so."),
        Saved.CONFLICT: _(
            "Nothing was saved: the record was changed meanwhile. Here it is as it is now."
        ),
    }
    await acknowledge(callback, notes[saved])
    item = editing.record(library.content, kind, record_id)
    if isinstance(item, Station):
        await show(callback, *station_view(library, item, today, notes[saved]))
    elif isinstance(item, Vote):
        await show(callback, *vote_view(item, notes[saved]))
    else:
        await show(callback, notes[saved], _markup([_button("⬅️ " + _("Back"), "menu")]))


async def record_history_button(
    callback: CallbackQuery, callback_data: OpCb, db: Database, library: Library
) -> None:
    kind, _sep, record_id = callback_data.arg.partition(SEP)
    if editing.record(library.content, kind, record_id) is None:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    rows = await db.record_history(kind, record_id)
    await show(callback, *record_history_view(kind, record_id, rows))


def record_history_view(
    kind: str, record_id: str, rows: list[AuditRow]
) -> tuple[str, InlineKeyboardMarkup]:
    name = f"<code>{record_id}</code>"
    if not rows:
        text = _("{entry_id} has no recorded changes.").format(entry_id=name)
    else:
        text = _("Latest changes of {entry_id}, newest first:").format(entry_id=name)
        for row in rows:
            who = str(row.actor) if row.actor is not None else _("import")
            what = ", ".join(changed_fields(row.before, row.after))
            text += f"\n#{row.id} · {row.at[:16].replace('T', ' ')} UTC · {row.action} · {who}"
            text += f"\n    {escape(what)}"
    buttons = [
        [_button("↩️ " + _("Undo #{number}").format(number=row.id), "rec_undo", str(row.id))]
        for row in rows
        if editing.revertible(row)
    ]
    back = "st" if kind == "station" else "vote"
    buttons.append([_button("⬅️ " + _("Back"), back, record_id)])
    return text, _markup(*buttons)


async def record_revert_button(
    callback: CallbackQuery,
    callback_data: OpCb,
    db: Database,
    library: Library,
    today: Callable[[], date],
) -> None:
    row = await db.audit_row(int(callback_data.arg)) if callback_data.arg.isdecimal() else None
    if row is None or row.kind not in editing.EDITABLE_KINDS or not editing.revertible(row):
        await _out_of_date(callback)
        return
    saved = await editing.revert(db, library, row, callback.from_user.id)
    await record_saved(callback, saved, library, row.kind, row.record_id, today())


def register(router: Router, not_a_command: Any) -> None:
    """On the operators' router; `not_a_command`: what a typed answer to a step must be."""
    cb = router.callback_query.register
    msg = router.message.register
    cb(cancel_button, StateFilter(*GROUPS), OpCb.filter(F.action == "ce_cancel"))
    cb(save_button, ConfirmSteps.confirm, OpCb.filter(F.action == "ce_save"))

    cb(phrasings_button, OpCb.filter(F.action == "ph"))
    # Each step's buttons work only in that step: an old one falls through as out of date.
    cb(phrasing_lang_button, PhrasingSteps.language, OpCb.filter(F.action == "ph_lang"))
    cb(phrasing_add_button, PhrasingSteps.choose, OpCb.filter(F.action == "ph_add"))
    cb(phrasing_replace_button, PhrasingSteps.choose, OpCb.filter(F.action == "ph_rep"))
    cb(phrasing_remove_button, PhrasingSteps.choose, OpCb.filter(F.action == "ph_del"))
    msg(phrasing_typed, PhrasingSteps.text, not_a_command)

    cb(sources_button, OpCb.filter(F.action == "src"))
    msg(sources_typed, SourceSteps.text, not_a_command)

    cb(new_button, OpCb.filter(F.action == "new"))
    msg(new_id_typed, NewEntrySteps.entry_id, not_a_command)
    cb(new_section_button, NewEntrySteps.section, OpCb.filter(F.action == "new_sec"))
    cb(new_lang_button, NewEntrySteps.language, OpCb.filter(F.action == "new_lang"))
    cb(new_done_button, NewEntrySteps.language, OpCb.filter(F.action == "new_done"))
    msg(new_title_typed, NewEntrySteps.title, not_a_command)
    msg(new_question_typed, NewEntrySteps.question, not_a_command)
    msg(new_answer_typed, NewEntrySteps.answer, not_a_command)
    msg(new_sources_typed, NewEntrySteps.sources, not_a_command)

    cb(stations_button, OpCb.filter(F.action == "stations"))
    msg(station_query_typed, StationSteps.query, not_a_command)
    cb(station_button, OpCb.filter(F.action == "st"))
    cb(station_vote_button, OpCb.filter(F.action == "st_vote"))
    cb(station_status_button, StationSteps.status, OpCb.filter(F.action == "st_status"))
    cb(station_figure_button, OpCb.filter(F.action == "st_fig"))
    msg(station_figure_typed, StationSteps.figure, not_a_command)

    cb(votes_button, OpCb.filter(F.action == "votes"))
    cb(vote_button, OpCb.filter(F.action == "vote"))
    cb(vote_date_button, OpCb.filter(F.action == "vt_date"))
    msg(vote_date_typed, VoteSteps.date, not_a_command)
    cb(vote_status_button, OpCb.filter(F.action == "vt_status"))
    cb(record_sources_button, OpCb.filter(F.action == "rec_src"))
    msg(record_sources_typed, SourceSteps.record, not_a_command)
    cb(record_history_button, OpCb.filter(F.action == "rec_hist"))
    cb(record_revert_button, OpCb.filter(F.action == "rec_undo"))
