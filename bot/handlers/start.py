"""/start, the language choice and the commands that describe the bot."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import LOCALES
from bot.handlers.common import acknowledge, show
from bot.i18n import known_locale
from bot.keyboards import LangCb, MenuCb, SwitchCb, language_keyboard, main_menu
from bot.storage import Database


def greeting(i18n: I18n) -> str:
    """The first message, in all three languages: the user has not chosen one yet."""
    parts = []
    for lang in LOCALES:
        with i18n.use_locale(lang):
            parts.append(
                _(
                    "Hello! I am Saylau, a bot that answers questions about elections in "
                    "Kazakhstan: dates, voting abroad, parties and the new Constitution."
                )
            )
    with i18n.use_locale(i18n.current_locale):
        return "\n\n".join(parts) + "\n\n" + _("Choose your language:")


async def start(message: Message, i18n: I18n, db: Database) -> None:
    # Pre-select only what we know of the user, not the default language.
    user = message.from_user
    if user:  # someone who blocked the bot and now starts it again wants its messages
        await db.user_returned(user.id)
    known = known_locale(await db.get_locale(user.id) if user else None, user)
    await message.answer(greeting(i18n), reply_markup=language_keyboard(known))


async def language(message: Message, i18n: I18n) -> None:
    await message.answer(
        _("Choose your language:"), reply_markup=language_keyboard(i18n.current_locale)
    )


async def language_button(callback: CallbackQuery, i18n: I18n) -> None:
    await acknowledge(callback)
    await show(callback, _("Choose your language:"), language_keyboard(i18n.current_locale))


async def _save_language(callback: CallbackQuery, code: str, db: Database) -> bool:
    """Stores a language a button chose; False (and says so) for a code that is no longer one."""
    if code not in LOCALES:
        await acknowledge(callback, _("This button is out of date."))
        return False
    await db.set_locale(callback.from_user.id, code)
    return True


async def choose_language(
    callback: CallbackQuery, callback_data: LangCb, db: Database, i18n: I18n
) -> None:
    if not await _save_language(callback, callback_data.code, db):
        return
    with i18n.use_locale(callback_data.code):
        await acknowledge(callback, _("Language saved."))
        await show(
            callback,
            _("Done! Ask me a question in your own words, or pick a section:"),
            main_menu(),
        )


async def keep_language(
    callback: CallbackQuery, callback_data: SwitchCb, db: Database, i18n: I18n
) -> None:
    """The button under an answer given in the language the question was written in: the
    answer stays as it is, a new message confirms."""
    if not await _save_language(callback, callback_data.code, db):
        return
    with i18n.use_locale(callback_data.code):
        await acknowledge(callback, _("Language saved."))
        if callback.bot is not None:
            await callback.bot.send_message(
                callback.from_user.id,
                _("Done! Ask me a question in your own words, or pick a section:"),
                reply_markup=main_menu(),
            )


def build() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(language, Command("language"))
    router.callback_query.register(language_button, MenuCb.filter(F.action == "language"))
    router.callback_query.register(choose_language, LangCb.filter())
    router.callback_query.register(keep_language, SwitchCb.filter())
    return router
