"""Operator tools (/admin, /editors, /cancel, /feedback_inbox, /unanswered, and the /admin
buttons: find an entry, edit it, revert it, review unanswered questions, read feedback). One
router behind one role filter: a handler registered here cannot be reached by anyone else,
whose update falls through to the other routers and gets the same neutral reply as any unknown
command or out-of-date button."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _

from bot import LOCALES
from bot.config import Settings
from bot.content.models import ALLOWED_TAGS, FaqEntry
from bot.handlers import announcing
from bot.handlers.common import acknowledge, show, typed_html
from bot.keyboards import LANGUAGE_NAMES, OpCb
from bot.library import Library
from bot.operators import coverage, editing, exporting, review, usage
from bot.operators.editing import EditRefused, Saved
from bot.operators.roles import Role, grant_editor, revoke_editor, role_of
from bot.render import long_date, source_link
from bot.storage import AuditRow, Database

SEP = "~"  # between two values in one OpCb.arg (":" separates the fields themselves)
MAX_QUESTIONS_SHOWN = 5
MAX_GROUPS_SHOWN = 8
MAX_MESSAGE = 4096


class EditorSteps(StatesGroup):
    user_id = State()


class FindSteps(StatesGroup):
    query = State()


class CoverageSteps(StatesGroup):
    days = State()


class EditSteps(StatesGroup):
    language = State()
    text = State()
    confirm = State()


class OperatorOnly(Filter):
    """Passes admins and editors, in private chats only, and hands the handler their role."""

    async def __call__(
        self, event: Message | CallbackQuery, settings: Settings, db: Database
    ) -> bool | dict[str, Any]:
        message = event.message if isinstance(event, CallbackQuery) else event
        if event.from_user is None or message is None or message.chat.type != "private":
            return False
        role = await role_of(event.from_user.id, settings, db)
        return {"role": role} if role else False


class AdminOnly(Filter):
    async def __call__(self, event: Any, role: Role) -> bool:
        return role is Role.ADMIN


def role_name(role: Role) -> str:
    return _("admin") if role is Role.ADMIN else _("editor")


INBOX_ROWS = 20
INBOX_ITEM_CHARS = 500
INBOX_MAX_CHARS = 3800  # below Telegram's 4096 per message


def operator_menu(role: Role) -> tuple[str, InlineKeyboardMarkup]:
    rows = [
        [_button("🔎 " + _("Find an entry"), "find"), _button("➕ " + _("New entry"), "new")],
        [_button("🏛 " + _("Stations"), "stations"), _button("🗳 " + _("Votes"), "votes")],
        [_button("📝 " + _("Questions to review"), "review")],
        [_button("✍️ " + _("Feedback"), "feedback")],
        [_button("❓ " + _("Unanswered questions"), "unanswered")],
        [_button("📊 " + _("Coverage"), "coverage")],
        [_button("📈 " + _("Usage"), "usage")],
        [_button("📦 " + _("Export the content"), "export")],
    ]
    if role is Role.ADMIN:
        rows.append([_button("📣 " + _("Announcement"), "an_list")])
        rows.append([_button("👥 " + _("Editors"), "editors")])
    text = _("Operator tools. Your role: {role}. /cancel stops any step in progress.").format(
        role=role_name(role)
    )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def editors_view(editors: list[int]) -> tuple[str, InlineKeyboardMarkup]:
    if editors:
        lines = "\n".join(f"• <code>{user_id}</code>" for user_id in editors)
        text = _("Editors (Telegram user ids):") + "\n" + lines
    else:
        text = _("There are no editors yet. Admins are set by ADMIN_IDS.")
    rows = [
        [_button("➖ " + _("Revoke {user_id}").format(user_id=user_id), "revoke", str(user_id))]
        for user_id in editors
    ]
    rows.append([_button("➕ " + _("Add an editor"), "add_editor")])
    rows.append([_button("⬅️ " + _("Back"), "menu")])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def inbox_view(
    title: str, empty: str, rows: list[tuple[str, str, str]]
) -> tuple[str, InlineKeyboardMarkup]:
    """(text, lang, UTC ISO time) rows, newest first, as one message that fits Telegram's."""
    parts = [f"<b>{title}</b>"]
    size = len(parts[0])
    for text, lang, at in rows:
        short = text if len(text) <= INBOX_ITEM_CHARS else text[: INBOX_ITEM_CHARS - 1] + "…"
        item = f"<i>{at[:16].replace('T', ' ')} UTC · {lang}</i>\n{escape(short)}"
        if size + len(item) > INBOX_MAX_CHARS:
            break
        parts.append(item)
        size += len(item) + 2
    if len(parts) == 1:
        parts.append(empty)
    back = InlineKeyboardMarkup(inline_keyboard=[[_button("⬅️ " + _("Back"), "menu")]])
    return "\n\n".join(parts), back


async def feedback_view(db: Database) -> tuple[str, InlineKeyboardMarkup]:
    return inbox_view(
        _("Feedback, newest first"),
        _("No feedback yet."),
        await db.feedback(INBOX_ROWS),
    )


async def unanswered_view(db: Database) -> tuple[str, InlineKeyboardMarkup]:
    return inbox_view(
        _("Questions the bot could not answer, newest first"),
        _("No unanswered questions."),
        await db.unanswered(INBOX_ROWS),
    )


async def feedback_inbox(message: Message, db: Database) -> None:
    text, markup = await feedback_view(db)
    await message.answer(text, reply_markup=markup)


async def feedback_button(callback: CallbackQuery, db: Database) -> None:
    await acknowledge(callback)
    await show(callback, *await feedback_view(db))


async def unanswered(message: Message, db: Database) -> None:
    text, markup = await unanswered_view(db)
    await message.answer(text, reply_markup=markup)


async def unanswered_button(callback: CallbackQuery, db: Database) -> None:
    await acknowledge(callback)
    await show(callback, *await unanswered_view(db))


def _button(text: str, action: str, arg: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=OpCb(action=action, arg=arg).pack())


async def admin(message: Message, role: Role) -> None:
    text, markup = operator_menu(role)
    await message.answer(text, reply_markup=markup)


async def menu_button(callback: CallbackQuery, role: Role) -> None:
    await acknowledge(callback)
    await show(callback, *operator_menu(role))


async def cancel(message: Message, state: FSMContext, role: Role) -> None:
    had_step = await state.get_state() is not None
    await state.clear()
    text, markup = operator_menu(role)
    done = _("Cancelled.") if had_step else _("There was nothing to cancel.")
    await message.answer(done + "\n\n" + text, reply_markup=markup)


async def editors(message: Message, db: Database) -> None:
    text, markup = editors_view(await db.editor_ids())
    await message.answer(text, reply_markup=markup)


async def editors_button(callback: CallbackQuery, db: Database) -> None:
    await acknowledge(callback)
    await show(callback, *editors_view(await db.editor_ids()))


async def add_editor_button(callback: CallbackQuery, state: FSMContext) -> None:
    await acknowledge(callback)
    await state.set_state(EditorSteps.user_id)
    await show(
        callback,
        _("Send the Telegram user id of the new editor (a number), or /cancel."),
    )


async def editor_id_typed(
    message: Message, state: FSMContext, db: Database, settings: Settings
) -> None:
    text = (message.text or "").strip()
    if not text.isdecimal() or not 0 < int(text) < 2**53:
        await message.answer(_("That is not a Telegram user id. Send a number, or /cancel."))
        return
    await state.clear()
    user_id = int(text)
    assert message.from_user is not None  # OperatorOnly let it through
    if await grant_editor(db, settings, user_id, by=message.from_user.id):
        done = _("{user_id} is now an editor.").format(user_id=user_id)
    else:
        done = _("{user_id} is already an operator.").format(user_id=user_id)
    text, markup = editors_view(await db.editor_ids())
    await message.answer(done + "\n\n" + text, reply_markup=markup)


async def revoke_button(callback: CallbackQuery, callback_data: OpCb, db: Database) -> None:
    revoked = callback_data.arg.isdecimal() and await revoke_editor(
        db, int(callback_data.arg), by=callback.from_user.id
    )
    if revoked:
        await acknowledge(
            callback, _("{user_id} is no longer an editor.").format(user_id=callback_data.arg)
        )
    else:
        await acknowledge(callback, _("This button is out of date."))
    await show(callback, *editors_view(await db.editor_ids()))


def _not_a_command() -> Any:
    # A command typed during a step is a command (/cancel, /admin, /help), not the answer.
    return F.text & ~F.text.startswith("/")


def _reason(refused: EditRefused) -> str:
    return escape(str(refused), quote=False)


async def _out_of_date(callback: CallbackQuery) -> None:
    await acknowledge(callback, _("This button is out of date."))


# --- find an entry and show it --------------------------------------------------------------


async def find_button(callback: CallbackQuery, state: FSMContext) -> None:
    await acknowledge(callback)
    await state.set_state(FindSteps.query)
    await show(
        callback,
        _("Send an entry id, or type a question as a user would ask it. /cancel stops."),
    )


async def query_typed(message: Message, state: FSMContext, library: Library) -> None:
    await state.clear()
    found = editing.find_entries(library, message.text or "")
    if len(found) == 1 and found[0].id == (message.text or "").strip():
        await send_entry(message, found[0])
        return
    if not found:
        text = _("Nothing found. Try other words or an entry id.")
    else:
        text = _("Entries that fit best, best first:")
    rows = [[_button(f"{_title(entry)} · {entry.id}", "entry", entry.id)] for entry in found]
    rows.append([_button("🔎 " + _("Find again"), "find"), _button("⬅️ " + _("Back"), "menu")])
    await message.answer(text, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


def _title(entry: FaqEntry) -> str:
    return entry.text(get_i18n().current_locale).title


async def entry_button(callback: CallbackQuery, callback_data: OpCb, library: Library) -> None:
    entry = library.content.entry(callback_data.arg)
    if entry is None or not isinstance(callback.message, Message):
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await send_entry(callback.message, entry)


async def send_entry(message: Message, entry: FaqEntry) -> None:
    """The entry in each language (one message each: an answer alone may fill one), then its
    sources, verified date and the operator's buttons."""
    for lang in LOCALES:
        await message.answer(language_view(entry, lang), disable_web_page_preview=True)
    text, markup = entry_summary(entry)
    await message.answer(text, reply_markup=markup, disable_web_page_preview=True)


def language_view(entry: FaqEntry, lang: str) -> str:
    text = entry.text(lang)
    shown = text.questions[:MAX_QUESTIONS_SHOWN]
    lines = [
        f"<b>{LANGUAGE_NAMES[lang]}</b> · <code>{entry.id}</code>",
        _("Button: {title}").format(title=escape(text.title)),
    ]
    lines += [f"• {escape(q)}" for q in shown]
    if len(text.questions) > len(shown):
        more = len(text.questions) - len(shown)
        lines.append(_("… and {count} more phrasings").format(count=more))
    body = "\n".join(lines)
    if entry.render:
        body += "\n\n" + _("The bot adds current data to this answer ({render}).").format(
            render=escape(entry.render)
        )
    if text.answer:
        body += "\n\n" + text.answer
    return body


def entry_summary(entry: FaqEntry) -> tuple[str, InlineKeyboardMarkup]:
    lang = get_i18n().current_locale
    status = _("Published") if entry.published else _("Hidden from users")
    sources = "\n".join(f"• {source_link(s)}" for s in entry.sources)
    text = (
        f"<code>{entry.id}</code> · {status}\n"
        + _("Sources:")
        + f"\n{sources}\n"
        + _("Verified on {date}").format(date=long_date(entry.verified, lang))
    )
    publish = (
        _button("🙈 " + _("Unpublish"), "publish", f"{entry.id}{SEP}0")
        if entry.published
        else _button("👁 " + _("Publish"), "publish", f"{entry.id}{SEP}1")
    )
    rows = [
        [_button("✏️ " + _("Edit an answer"), "edit", entry.id)],
        [
            _button("🗣 " + _("Phrasings"), "ph", entry.id),
            _button("🔗 " + _("Sources"), "src", entry.id),
        ],
        [_button("✅ " + _("Mark verified today"), "verify", entry.id), publish],
        [_button("🕓 " + _("Changes and revert"), "history", entry.id)],
        [_button("⬅️ " + _("Back"), "menu")],
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


# --- edit an answer: language -> new text -> preview -> save --------------------------------


async def edit_button(
    callback: CallbackQuery, callback_data: OpCb, state: FSMContext, library: Library
) -> None:
    entry = library.content.entry(callback_data.arg)
    if entry is None:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    # What the operator saw: the save is refused if the entry changes before it.
    await state.set_state(EditSteps.language)
    await state.set_data({"entry": entry.model_dump_json()})
    rows = [[_button(LANGUAGE_NAMES[lang], "edit_lang", lang) for lang in LOCALES]]
    rows.append([_button("✖️ " + _("Cancel"), "edit_cancel")])
    await show(
        callback,
        _("Which language's answer of {entry_id} do you want to change?").format(
            entry_id=f"<code>{entry.id}</code>"
        ),
        InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def edit_lang_button(callback: CallbackQuery, callback_data: OpCb, state: FSMContext) -> None:
    lang = callback_data.arg
    if lang not in LOCALES:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    entry = FaqEntry.model_validate_json((await state.get_data())["entry"])
    await state.update_data(lang=lang)
    await state.set_state(EditSteps.text)
    tags = escape(" ".join(f"<{tag}>" for tag in sorted(ALLOWED_TAGS)))
    prompt = _(
        "Send the new answer in {language}, formatted in the Telegram app or written as "
        "Telegram HTML (allowed tags: {tags}). The sources and the verified date are added "
        "below it as now. /cancel stops."
    ).format(language=LANGUAGE_NAMES[lang], tags=tags)
    await show(callback, prompt)
    source = escape(entry.text(lang).answer)
    if source and isinstance(callback.message, Message) and len(source) < MAX_MESSAGE - 100:
        current = _("The current text, to copy:")
        await callback.message.answer(f"{current}\n<pre>{source}</pre>")


async def answer_typed(
    message: Message,
    state: FSMContext,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
) -> None:
    data = await state.get_data()
    entry = FaqEntry.model_validate_json(data["entry"])
    lang = data["lang"]
    try:
        new = editing.with_answer(entry, lang, typed_html(message))
        editing.check_in(library.content, new)
    except EditRefused as refused:
        await message.answer(
            _("Refused: {reason}. Nothing was changed. Send a corrected text, or /cancel.").format(
                reason=_reason(refused)
            )
        )
        return
    await state.update_data(answer=new.text(lang).answer)
    await state.set_state(EditSteps.confirm)
    with i18n.use_locale(lang):
        preview = editing.preview(library, new, lang, today())
    await message.answer(
        _("Preview: exactly what a user asking in {language} will see.").format(
            language=LANGUAGE_NAMES[lang]
        )
    )
    rows = [[_button("💾 " + _("Save"), "save"), _button("✖️ " + _("Cancel"), "edit_cancel")]]
    await message.answer(
        preview,
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
        disable_web_page_preview=True,
    )


async def save_button(
    callback: CallbackQuery, state: FSMContext, db: Database, library: Library
) -> None:
    data = await state.get_data()
    await state.clear()
    seen = FaqEntry.model_validate_json(data["entry"])
    try:
        new = editing.with_answer(seen, data["lang"], data["answer"])
        saved = await editing.save(db, library, data["entry"], new, callback.from_user.id)
    except EditRefused as refused:  # the content around it changed since the preview
        await acknowledge(callback)
        await show(
            callback,
            _("Refused: {reason}. Nothing was changed.").format(reason=_reason(refused)),
        )
        return
    await _saved(callback, saved, library, seen.id)


async def _saved(callback: CallbackQuery, saved: Saved, library: Library, entry_id: str) -> None:
    """Tells the operator how a change went and shows the entry as it now is."""
    notes = {
        Saved.DONE: _("Saved. Users get it from now on."),
        Saved.UNCHANGED: _("Nothing to change: the entry already is so."),
        Saved.CONFLICT: _(
            "Nothing was saved: the entry was changed meanwhile. Here it is as it is now."
        ),
    }
    await acknowledge(callback, notes[saved])
    entry = library.content.entry(entry_id)
    if entry is None:
        back = InlineKeyboardMarkup(inline_keyboard=[[_button("⬅️ " + _("Back"), "menu")]])
        await show(callback, _("This entry no longer exists."), back)
        return
    text, markup = entry_summary(entry)
    await show(callback, notes[saved] + "\n\n" + text, markup)


async def edit_cancel_button(callback: CallbackQuery, state: FSMContext, role: Role) -> None:
    await state.clear()
    await acknowledge(callback, _("Cancelled."))
    await show(callback, *operator_menu(role))


# --- one-tap changes: verified today, publish / unpublish, revert ---------------------------


async def verify_button(
    callback: CallbackQuery,
    callback_data: OpCb,
    db: Database,
    library: Library,
    today: Callable[[], date],
) -> None:
    entry = library.content.entry(callback_data.arg)
    if entry is None:
        await _out_of_date(callback)
        return
    new = editing.changed(entry, verified=today().isoformat())
    saved = await editing.save(
        db, library, entry.model_dump_json(), new, callback.from_user.id, "verify"
    )
    await _saved(callback, saved, library, entry.id)


async def publish_button(
    callback: CallbackQuery, callback_data: OpCb, db: Database, library: Library
) -> None:
    entry_id, _sep, target = callback_data.arg.partition(SEP)
    entry = library.content.entry(entry_id)
    if entry is None or target not in ("0", "1"):
        await _out_of_date(callback)
        return
    # The button names the state it sets, so pressing an old one twice cannot flip it back.
    published = target == "1"
    new = editing.changed(entry, published=published)
    action = "publish" if published else "unpublish"
    saved = await editing.save(
        db, library, entry.model_dump_json(), new, callback.from_user.id, action
    )
    await _saved(callback, saved, library, entry.id)


async def history_button(
    callback: CallbackQuery, callback_data: OpCb, db: Database, library: Library
) -> None:
    entry = library.content.entry(callback_data.arg)
    if entry is None:
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await show(callback, *history_view(entry, await db.entry_history(entry.id)))


def history_view(entry: FaqEntry, rows: list[AuditRow]) -> tuple[str, InlineKeyboardMarkup]:
    if not rows:
        text = _("{entry_id} has no recorded changes.").format(entry_id=f"<code>{entry.id}</code>")
    else:
        text = _("Latest changes of {entry_id}, newest first:").format(
            entry_id=f"<code>{entry.id}</code>"
        )
        for row in rows:
            who = str(row.actor) if row.actor is not None else _("import")
            what = ", ".join(changed_fields(row.before, row.after))
            text += f"\n#{row.id} · {row.at[:16].replace('T', ' ')} UTC · {row.action} · {who}"
            text += f"\n    {escape(what)}"
    buttons = [
        [_button("↩️ " + _("Undo #{number}").format(number=row.id), "revert", str(row.id))]
        for row in rows
        if editing.revertible(row)
    ]
    buttons.append([_button("⬅️ " + _("Back"), "entry", entry.id)])
    return text, InlineKeyboardMarkup(inline_keyboard=buttons)


def changed_fields(before: str | None, after: str | None) -> list[str]:
    """Which parts of an entry a change touched ("en.answer", "verified"), for the history."""
    old = json.loads(before) if before else {}
    new = json.loads(after) if after else {}
    found = []
    for key in dict.fromkeys([*old, *new]):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found += [f"{key}.{k}" for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]
        elif a != b:
            found.append(key)
    return found or ["—"]


async def revert_button(
    callback: CallbackQuery, callback_data: OpCb, db: Database, library: Library
) -> None:
    row = await db.audit_row(int(callback_data.arg)) if callback_data.arg.isdecimal() else None
    if row is None or row.kind != "faq" or not editing.revertible(row):
        await _out_of_date(callback)
        return
    saved = await editing.revert(db, library, row, callback.from_user.id)
    await _saved(callback, saved, library, row.record_id)


# --- review of unanswered and unsure questions ----------------------------------------------


async def review_button(callback: CallbackQuery, db: Database) -> None:
    await acknowledge(callback)
    await show(callback, *review_view(await review.pending_groups(db)))


def review_view(groups: list[review.Group]) -> tuple[str, InlineKeyboardMarkup]:
    if groups:
        text = _(
            "Questions the bot could not answer or was unsure of: {count} groups, most asked "
            "first. Tap one to deal with it."
        ).format(count=len(groups))
    else:
        text = _("There are no questions to review.")
    rows = [
        [_button(f"×{g.count} {g.lang}: {g.text[:40]}", "rv_group", g.id)]
        for g in groups[:MAX_GROUPS_SHOWN]
    ]
    rows.append([_button("⬅️ " + _("Back"), "menu")])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def group_button(
    callback: CallbackQuery, callback_data: OpCb, db: Database, library: Library
) -> None:
    group = await review.find_group(db, callback_data.arg)
    if group is None:
        await _out_of_date(callback)
        await show(callback, *review_view(await review.pending_groups(db)))
        return
    await acknowledge(callback)
    langs = ", ".join(f"{lang} {n}" for lang, n in group.langs)
    text = (
        f"<b>{escape(group.text)}</b>\n"
        + _("Times asked: {count} ({languages}).").format(count=group.count, languages=langs)
        + "\n\n"
        + _(
            "Add it as a phrasing ({language}) of one of the bot's best guesses, or dismiss it:"
        ).format(language=LANGUAGE_NAMES.get(group.lang, group.lang))
    )
    rows = []
    for entry_id in review.best_guesses(library, group):
        entry = library.content.entry(entry_id)
        assert entry is not None  # best_guesses keeps published entries only
        data = OpCb(action="rv_add", arg=f"{group.id}{SEP}{entry_id}").pack()
        if len(data.encode()) <= 64:  # Telegram's limit for callback data
            label = "➕ " + entry.text(group.lang).title
            rows.append([InlineKeyboardButton(text=label, callback_data=data)])
    rows.append([_button("🗑 " + _("Dismiss"), "rv_dismiss", group.id)])
    rows.append([_button("⬅️ " + _("Back"), "review")])
    await show(callback, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def add_phrasing_button(
    callback: CallbackQuery, callback_data: OpCb, db: Database, library: Library
) -> None:
    gid, _sep, entry_id = callback_data.arg.partition(SEP)
    group = await review.find_group(db, gid)
    try:
        saved = (
            Saved.CONFLICT
            if group is None
            else await review.add_as_phrasing(db, library, group, entry_id, callback.from_user.id)
        )
    except EditRefused as refused:
        await acknowledge(callback)
        await show(
            callback,
            _("Refused: {reason}. Nothing was changed.").format(reason=_reason(refused)),
        )
        return
    if saved is Saved.CONFLICT:
        await _out_of_date(callback)
    else:
        await acknowledge(
            callback, _("Added as a phrasing of {entry_id}.").format(entry_id=entry_id)
        )
    await show(callback, *review_view(await review.pending_groups(db)))


async def dismiss_button(callback: CallbackQuery, callback_data: OpCb, db: Database) -> None:
    group = await review.find_group(db, callback_data.arg)
    if group is None or not await review.dismiss(db, group, callback.from_user.id):
        await _out_of_date(callback)
    else:
        await acknowledge(callback, _("Dismissed. It will not come back."))
    await show(callback, *review_view(await review.pending_groups(db)))


# --- coverage: what the content lacks -----------------------------------------------------

MAX_IDS_SHOWN = 5


async def coverage_button(
    callback: CallbackQuery,
    db: Database,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
    role: Role,
) -> None:
    await acknowledge(callback)
    await show(callback, *await coverage_view(db, library, i18n, today(), role))


async def coverage_view(
    db: Database, library: Library, i18n: I18n, today: date, role: Role
) -> tuple[str, InlineKeyboardMarkup]:
    found = coverage.coverage(library.content, i18n, today, await coverage.stale_days(db))
    lang = get_i18n().current_locale
    lines = [
        "<b>" + _("Coverage of the published entries") + "</b>",
        _("Missing a language: {count}").format(count=len(found.missing_language)),
        _("Not verified for more than {days} days: {count}").format(
            days=found.stale_days, count=len(found.stale)
        ),
        _("Answers of {near} characters or more (Telegram's limit is {limit}): {count}").format(
            near=coverage.NEAR_LIMIT, limit=coverage.TELEGRAM_LIMIT, count=len(found.near_limit)
        ),
    ]
    if found.vote is None:
        lines.append(_("No upcoming vote is announced: no station status to check."))
    else:
        lines.append(
            _("Stations without a confirmed status for {vote}: {count}").format(
                vote=escape(found.vote.title.get(lang)), count=len(found.stations)
            )
        )
        shown = found.stations[:MAX_IDS_SHOWN]
        if shown:
            more = len(found.stations) - len(shown)
            lines.append(
                ", ".join(f"<code>{s}</code>" for s in shown) + (f" (+{more})" if more else "")
            )
    rows = [
        [_button(f"🌐 {entry_id} · {'/'.join(langs)}", "entry", entry_id)]
        for entry_id, langs in found.missing_language[:MAX_IDS_SHOWN]
    ]
    rows += [
        [_button(f"🕓 {entry_id}", "entry", entry_id)] for entry_id in found.stale[:MAX_IDS_SHOWN]
    ]
    rows += [
        [_button(f"📏 {entry_id} · {lang_} · {size}", "entry", entry_id)]
        for entry_id, lang_, size in found.near_limit[:MAX_IDS_SHOWN]
    ]
    if role is Role.ADMIN:
        rows.append(
            [_button("⚙️ " + _("Change the {days} days").format(days=found.stale_days), "cov_days")]
        )
    rows.append([_button("⬅️ " + _("Back"), "menu")])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def stale_days_button(callback: CallbackQuery, state: FSMContext) -> None:
    await acknowledge(callback)
    await state.set_state(CoverageSteps.days)
    await show(
        callback,
        _(
            "After how many days without a verification is an entry shown as not verified? "
            "Send a number from 1 to {most}, or /cancel."
        ).format(most=coverage.MAX_STALE_DAYS),
    )


async def stale_days_typed(
    message: Message,
    state: FSMContext,
    db: Database,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
    role: Role,
) -> None:
    text = (message.text or "").strip()
    if not text.isdecimal() or not 1 <= int(text) <= coverage.MAX_STALE_DAYS:
        await message.answer(
            _("Send a number from 1 to {most}, or /cancel.").format(most=coverage.MAX_STALE_DAYS)
        )
        return
    await state.clear()
    await coverage.set_stale_days(db, int(text))
    view, markup = await coverage_view(db, library, i18n, today(), role)
    await message.answer(view, reply_markup=markup)


# --- usage: counts only ----------------------------------------------------------------------


async def usage_button(callback: CallbackQuery, db: Database, today: Callable[[], date]) -> None:
    await acknowledge(callback)
    await show(callback, *usage_view(await usage.usage(db, today())))


def usage_view(found: usage.Usage) -> tuple[str, InlineKeyboardMarkup]:
    lang = get_i18n().current_locale
    users = " · ".join(f"{code} {n}" for code, n in found.users.items()) or "0"
    share = round(100 * found.answered / found.asked) if found.asked else 0
    lines = [
        "<b>" + _("Usage (counts only, nothing about any one person)") + "</b>",
        _("Users by the language they chose: {counts}").format(counts=users),
        "",
        _("Questions per day, the last {days} days:").format(days=usage.DAYS),
        *(f"{long_date(day, lang)}: {n}" for day, n in found.per_day),
        _("Answered: {answered} of {asked} ({share}%)").format(
            answered=found.answered, asked=found.asked, share=share
        ),
        "",
        _("Most asked entries:"),
        *(f"• <code>{entry_id}</code> ×{n}" for entry_id, n in found.top_entries),
        "",
        _("Most frequent unanswered questions:"),
        *(f"• ×{n} {escape(text[:100])}" for text, n in found.top_unanswered),
    ]
    back = InlineKeyboardMarkup(inline_keyboard=[[_button("⬅️ " + _("Back"), "menu")]])
    return "\n".join(lines), back


# --- export ----------------------------------------------------------------------------------


async def export(message: Message, db: Database, today: Callable[[], date]) -> None:
    data = await exporting.export_zip(db)
    name = f"saylau-content-{today().isoformat()}.zip"
    await message.answer_document(
        BufferedInputFile(data, filename=name),
        caption=_(
            "The content as stored now, in the format of data/. Unpacked, it can be imported "
            "with: python -m bot import FOLDER"
        ),
    )


async def export_button(callback: CallbackQuery, db: Database, today: Callable[[], date]) -> None:
    if not isinstance(callback.message, Message):
        await _out_of_date(callback)
        return
    await acknowledge(callback)
    await export(callback.message, db, today)


def build() -> Router:
    # Imported here: those handlers build on this module's views.
    from bot.handlers import content_edit

    router = Router(name="operators")
    router.message.filter(OperatorOnly())
    router.callback_query.filter(OperatorOnly())
    router.message.register(admin, Command("admin"))
    router.message.register(cancel, Command("cancel"))
    router.callback_query.register(menu_button, OpCb.filter(F.action == "menu"))
    router.message.register(feedback_inbox, Command("feedback_inbox"))
    router.callback_query.register(feedback_button, OpCb.filter(F.action == "feedback"))
    router.message.register(unanswered, Command("unanswered"))
    router.callback_query.register(unanswered_button, OpCb.filter(F.action == "unanswered"))

    router.callback_query.register(find_button, OpCb.filter(F.action == "find"))
    router.message.register(query_typed, FindSteps.query, _not_a_command())
    router.callback_query.register(entry_button, OpCb.filter(F.action == "entry"))
    router.callback_query.register(edit_button, OpCb.filter(F.action == "edit"))
    # Each step's buttons work only in that step: an old one falls through as out of date.
    router.callback_query.register(
        edit_lang_button, EditSteps.language, OpCb.filter(F.action == "edit_lang")
    )
    router.message.register(answer_typed, EditSteps.text, _not_a_command())
    router.callback_query.register(save_button, EditSteps.confirm, OpCb.filter(F.action == "save"))
    router.callback_query.register(
        edit_cancel_button, EditSteps(), OpCb.filter(F.action == "edit_cancel")
    )
    router.callback_query.register(verify_button, OpCb.filter(F.action == "verify"))
    router.callback_query.register(publish_button, OpCb.filter(F.action == "publish"))
    router.callback_query.register(history_button, OpCb.filter(F.action == "history"))
    router.callback_query.register(revert_button, OpCb.filter(F.action == "revert"))
    router.callback_query.register(review_button, OpCb.filter(F.action == "review"))
    router.callback_query.register(group_button, OpCb.filter(F.action == "rv_group"))
    router.callback_query.register(add_phrasing_button, OpCb.filter(F.action == "rv_add"))
    router.callback_query.register(dismiss_button, OpCb.filter(F.action == "rv_dismiss"))
    router.callback_query.register(coverage_button, OpCb.filter(F.action == "coverage"))
    router.callback_query.register(usage_button, OpCb.filter(F.action == "usage"))
    router.message.register(export, Command("export"))
    router.callback_query.register(export_button, OpCb.filter(F.action == "export"))
    content_edit.register(router, _not_a_command())

    # Admin-only: a sub-router is reached only through the operator filter above.
    admins = Router(name="admins")
    admins.message.filter(AdminOnly())
    admins.callback_query.filter(AdminOnly())
    admins.message.register(editors, Command("editors"))
    admins.message.register(editor_id_typed, EditorSteps.user_id, F.text)
    admins.callback_query.register(editors_button, OpCb.filter(F.action == "editors"))
    admins.callback_query.register(add_editor_button, OpCb.filter(F.action == "add_editor"))
    admins.callback_query.register(revoke_button, OpCb.filter(F.action == "revoke"))
    admins.callback_query.register(stale_days_button, OpCb.filter(F.action == "cov_days"))
    admins.message.register(stale_days_typed, CoverageSteps.days, _not_a_command())
    announcing.register(admins, _not_a_command())
    router.include_router(admins)
    return router
