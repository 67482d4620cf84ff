"""/feedback, the menu's feedback button and "I found a mistake": the person is asked for their
message, which is stored for the operators' inbox (/feedback_inbox). Words that sound like
feedback get the button rather than the question itself: a message the search mistook for
feedback must not make the next question be taken for it.

Registered first: while the bot waits for the message, a command or a button press leaves the
step and is then handled as usual, so a person never has a question taken for feedback.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.handlers.common import acknowledge, show
from bot.keyboards import MenuCb, main_menu, menu_button
from bot.storage import Database


class FeedbackSteps(StatesGroup):
    text = State()


def prompt() -> str:
    return _(
        "What would you like to tell the people who run this bot? Write it in one message: "
        "what is wrong and where (your question and my answer), or your suggestion. "
        "Write nothing personal you would not want stored. /cancel to stop."
    )


def private_only() -> str:
    return _("Feedback is taken in a private chat: open a chat with me and send /feedback.")


def feedback_keyboard() -> InlineKeyboardMarkup:
    write = InlineKeyboardButton(
        text="✍️ " + _("Write feedback"), callback_data=MenuCb(action="feedback").pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[write], [menu_button()]])


async def ask_for_feedback(message: Message, state: FSMContext) -> None:
    """/feedback: the next text the person sends is their feedback."""
    if message.chat.type != "private":
        await message.answer(private_only())
        return
    await state.set_state(FeedbackSteps.text)
    await message.answer(prompt())


async def offer_feedback(message: Message) -> None:
    """A message the search took for someone reporting a mistake or wishing to say something."""
    if message.chat.type != "private":
        await message.answer(private_only())
        return
    await message.answer(
        _(
            "Thank you for telling me. Tap the button below and write what is wrong or what "
            "you would like to say: it will reach the people who run this bot."
        ),
        reply_markup=feedback_keyboard(),
    )


async def feedback_button(callback: CallbackQuery, state: FSMContext) -> None:
    message = callback.message
    if message is None or message.chat.type != "private":
        await acknowledge(callback, private_only())
        return
    await acknowledge(callback)
    await state.set_state(FeedbackSteps.text)
    await show(callback, prompt())


async def feedback_typed(message: Message, state: FSMContext, db: Database, i18n: I18n) -> None:
    text = (message.text or "").strip()
    if not any(ch.isalnum() for ch in text):
        await message.answer(_("Please type your message in words, or /cancel."))
        return
    await state.clear()
    assert message.from_user is not None  # a private chat's message has its sender
    await db.record_feedback(message.from_user.id, i18n.current_locale, text)
    await message.answer(
        _(
            "Thank you! Your message has been passed on to the people who run this bot. "
            "Ask me anything else, or pick a section:"
        ),
        reply_markup=main_menu(),
    )


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(
        _("Cancelled. Ask me a question, or pick a section:"), reply_markup=main_menu()
    )


async def leave_step(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    raise SkipHandler


def build() -> Router:
    router = Router(name="feedback")
    waiting = FeedbackSteps.text
    router.message.register(cancel, waiting, Command("cancel"))
    command = F.text.startswith("/")
    router.message.register(leave_step, waiting, command)
    router.message.register(feedback_typed, waiting, F.text, ~command)
    router.callback_query.register(leave_step, waiting, ~MenuCb.filter(F.action == "feedback"))
    router.message.register(ask_for_feedback, Command("feedback"))
    router.callback_query.register(feedback_button, MenuCb.filter(F.action == "feedback"))
    return router
