"""Operator tools (/admin, /editors, /cancel, /feedback_inbox, /unanswered). One router behind
one role filter: a handler registered here cannot be reached by anyone else, whose update
falls through to the other routers and gets the same neutral reply as any unknown command or
out-of-date button."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.handlers.common import acknowledge, show
from bot.keyboards import OpCb
from bot.operators.roles import Role, grant_editor, revoke_editor, role_of
from bot.storage import Database


class EditorSteps(StatesGroup):
    user_id = State()


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
        [_button("✍️ " + _("Feedback"), "feedback")],
        [_button("❓ " + _("Unanswered questions"), "unanswered")],
    ]
    if role is Role.ADMIN:
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


def build() -> Router:
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

    # Admin-only: a sub-router is reached only through the operator filter above.
    admins = Router(name="admins")
    admins.message.filter(AdminOnly())
    admins.callback_query.filter(AdminOnly())
    admins.message.register(editors, Command("editors"))
    admins.message.register(editor_id_typed, EditorSteps.user_id, F.text)
    admins.callback_query.register(editors_button, OpCb.filter(F.action == "editors"))
    admins.callback_query.register(add_editor_button, OpCb.filter(F.action == "add_editor"))
    admins.callback_query.register(revoke_button, OpCb.filter(F.action == "revoke"))
    router.include_router(admins)
    return router
