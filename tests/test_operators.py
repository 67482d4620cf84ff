"""Operator roles and tools: who may reach them, /editors, /cancel, and guided steps kept in
the SQLite file across a restart."""

from __future__ import annotations

import sqlite3

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command
from aiogram.methods import AnswerCallbackQuery
from conftest import ChatDriver, buttons, make_dispatcher, only_text, texts, translated

from bot.config import Settings
from bot.handlers import operators
from bot.keyboards import OpCb
from bot.storage import Database
from bot.terminal import LocalSession, UpdateFactory

ADMIN = 9001
EDITOR = 777
LANGS = ["kk", "ru", "en"]
UNKNOWN_COMMAND = "I don't know that command. Type /help to see what I can do."
OUT_OF_DATE = "This button is out of date."
# Every operator button, and forged variants of them: none may do anything for a non-operator.
CALLBACKS = [
    OpCb(action="menu").pack(),
    OpCb(action="editors").pack(),
    OpCb(action="add_editor").pack(),
    OpCb(action="revoke", arg=str(EDITOR)).pack(),
    OpCb(action="revoke", arg="not-a-number").pack(),
    OpCb(action="feedback").pack(),
    OpCb(action="unanswered").pack(),
    OpCb(action="no-such-action").pack(),
    "op:revoke",
    "op",
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_ids": frozenset({ADMIN})})


def person(dp: Dispatcher, bot: Bot, session: LocalSession, user_id: int, lang: str) -> ChatDriver:
    return ChatDriver(dp, bot, session, UpdateFactory(user_id=user_id, language_code=lang))


def routers(router: Router) -> list[Router]:
    return [router, *(r for sub in router.sub_routers for r in routers(sub))]


def operator_commands() -> set[str]:
    """Every command the operator router answers, read from the router itself, so a new
    command is covered by the authorisation tests without anyone listing it."""
    found = set()
    for router in routers(operators.build()):
        for handler in router.message.handlers:
            for f in handler.filters or []:
                if isinstance(f.callback, Command):
                    found |= {str(c) for c in f.callback.commands}
    return found


def test_every_operator_button_is_in_the_authorisation_list():
    handlers = sum(len(r.callback_query.handlers) for r in routers(operators.build()))
    actions = {OpCb.unpack(c).action for c in CALLBACKS if c.count(":") >= 2}
    assert len(actions - {"no-such-action"}) == handlers


def acks(requests: list) -> list[str | None]:
    return [r.text for r in requests if isinstance(r, AnswerCallbackQuery)]


async def expect_refused(user: ChatDriver, lang: str) -> None:
    """The user gets exactly what anyone gets for an unknown command or an old button."""
    for command in sorted(operator_commands()):
        assert only_text(await user.send(f"/{command}")) == translated(UNKNOWN_COMMAND, lang)
    await user.send("/start")
    for data in CALLBACKS:
        requests = await user.press(data, user.last_message())
        assert acks(requests) == [translated(OUT_OF_DATE, lang)]
        shown = user.last_message()
        assert not [b for b in buttons(shown.reply_markup) if (b.callback_data or "")[:3] == "op:"]


@pytest.mark.parametrize("lang", LANGS)
async def test_a_non_operator_gets_nothing(dp, bot, session, db: Database, lang):
    assert operator_commands() == {"admin", "editors", "cancel", "feedback_inbox", "unanswered"}
    await db.set_editor(EDITOR, ADMIN, granted=True)
    await expect_refused(person(dp, bot, session, 4242, lang), lang)
    assert await db.editor_ids() == [EDITOR]  # the forged revoke did nothing


@pytest.mark.parametrize("lang", LANGS)
async def test_admin_menu_and_editors_list(dp, bot, session, lang):
    admin = person(dp, bot, session, ADMIN, lang)
    text = only_text(await admin.send("/admin"))
    role = translated("admin", lang)
    expected = translated(
        "Operator tools. Your role: {role}. /cancel stops any step in progress.", lang
    )
    assert text == expected.format(role=role)
    await admin.press_button(OpCb(action="editors").pack())
    assert admin.last_message().text == translated(
        "There are no editors yet. Admins are set by ADMIN_IDS.", lang
    )


@pytest.mark.parametrize("lang", LANGS)
async def test_admin_grants_and_revokes_an_editor(dp, bot, session, db: Database, settings, lang):
    admin = person(dp, bot, session, ADMIN, lang)
    await admin.send("/editors")
    await admin.press_button(OpCb(action="add_editor").pack())
    reply = only_text(await admin.send("12x"))
    assert reply == translated("That is not a Telegram user id. Send a number, or /cancel.", lang)
    reply = only_text(await admin.send(f" {EDITOR} "))
    assert reply.startswith(translated("{user_id} is now an editor.", lang).format(user_id=EDITOR))
    assert await db.editor_ids() == [EDITOR]

    editor = person(dp, bot, session, EDITOR, lang)
    expected = translated(
        "Operator tools. Your role: {role}. /cancel stops any step in progress.", lang
    )
    assert only_text(await editor.send("/admin")) == expected.format(
        role=translated("editor", lang)
    )
    # Admin-only commands and buttons refuse an editor as they refuse anyone.
    assert only_text(await editor.send("/editors")) == translated(UNKNOWN_COMMAND, lang)
    for data in (OpCb(action="add_editor").pack(), OpCb(action="revoke", arg=str(EDITOR)).pack()):
        assert acks(await editor.press(data, editor.last_message())) == [
            translated(OUT_OF_DATE, lang)
        ]
    assert await db.editor_ids() == [EDITOR]

    revoke = OpCb(action="revoke", arg=str(EDITOR)).pack()
    await admin.send("/editors")
    requests = await admin.press_button(revoke)
    done = translated("{user_id} is no longer an editor.", lang).format(user_id=EDITOR)
    assert acks(requests) == [done]
    assert await db.editor_ids() == []
    # The same button pressed again (a replay) is out of date and logs nothing more.
    assert acks(await admin.press(revoke, admin.last_message())) == [translated(OUT_OF_DATE, lang)]
    with sqlite3.connect(settings.database_path) as conn:
        log = conn.execute(
            "SELECT actor, action, kind, record_id FROM audit_log WHERE kind = 'editor'"
        ).fetchall()
    assert log == [
        (ADMIN, "grant", "editor", str(EDITOR)),
        (ADMIN, "revoke", "editor", str(EDITOR)),
    ]
    # The revoked editor's old screen and commands are now refused.
    await expect_refused(editor, lang)


async def test_an_admin_is_not_made_an_editor(dp, bot, session, db: Database):
    admin = person(dp, bot, session, ADMIN, "en")
    await admin.send("/editors")
    await admin.press_button(OpCb(action="add_editor").pack())
    assert only_text(await admin.send(str(ADMIN))).startswith(f"{ADMIN} is already an operator.")
    assert await db.editor_ids() == []


async def test_a_guided_step_survives_a_restart(settings: Settings, bot, session):
    first = make_dispatcher(settings)
    await first.emit_startup(bot=bot, **first.workflow_data)
    admin = person(first, bot, session, ADMIN, "ru")
    await admin.send("/editors")
    await admin.press_button(OpCb(action="add_editor").pack())
    await first.emit_shutdown(bot=bot, **first.workflow_data)
    with sqlite3.connect(settings.database_path) as conn:
        [(state,)] = conn.execute("SELECT state FROM fsm").fetchall()
    assert state == operators.EditorSteps.user_id.state

    second = make_dispatcher(settings)
    await second.emit_startup(bot=bot, **second.workflow_data)
    try:
        admin = person(second, bot, session, ADMIN, "ru")
        reply = only_text(await admin.send(str(EDITOR)))
        assert reply.startswith(
            translated("{user_id} is now an editor.", "ru").format(user_id=EDITOR)
        )
        assert await second["db"].editor_ids() == [EDITOR]
    finally:
        await second.emit_shutdown(bot=bot, **second.workflow_data)


def every_step() -> list[str]:
    groups = [
        v for v in vars(operators).values() if isinstance(v, type) and hasattr(v, "__all_states__")
    ]
    return [s.state for g in groups for s in g.__all_states__ if g.__module__ == operators.__name__]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("step", every_step())
async def test_cancel_leaves_every_step(dp, bot, session, db: Database, lang, step):
    admin = person(dp, bot, session, ADMIN, lang)
    context = dp.fsm.get_context(bot=bot, chat_id=ADMIN, user_id=ADMIN)
    await context.set_state(step)
    reply = only_text(await admin.send("/cancel"))
    assert reply.startswith(translated("Cancelled.", lang))
    assert await context.get_state() is None
    # What is typed next is a question again, not the step's answer.
    await admin.send(str(EDITOR))
    assert await db.editor_ids() == []
    assert texts(await admin.send("/cancel"))[0].startswith(
        translated("There was nothing to cancel.", lang)
    )
