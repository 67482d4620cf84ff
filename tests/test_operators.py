"""Operator roles and tools: who may reach them, /editors, /cancel, and guided steps kept in
the SQLite file across a restart."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import zipfile
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command
from aiogram.methods import AnswerCallbackQuery, SendDocument
from aiogram.types import MessageEntity
from conftest import (
    TODAY,
    ChatDriver,
    buttons,
    find_button,
    make_dispatcher,
    only_text,
    texts,
    translated,
)

from bot import ASTANA
from bot.config import Settings
from bot.content.models import Content, FaqEntry
from bot.content.sync import import_path
from bot.content.yaml_io import dump_content, load_content
from bot.delivery.announcements import announce
from bot.handlers import announcing, content_edit, operators
from bot.keyboards import LangCb, OpCb
from bot.library import Library
from bot.operators.review import group_id, normalise
from bot.render import render_answer
from bot.stations.card import country_label
from bot.storage import Database
from bot.terminal import LocalSession, UpdateFactory

ADMIN = 9001
EDITOR = 777
LANGS = ["kk", "ru", "en"]
UNKNOWN_COMMAND = "I don't know that command. Type /help to see what I can do."
OUT_OF_DATE = "This button is out of date."
ENTRY = "parliament.kurultai_election"  # a plain entry (its answer is all text, no render)
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
    OpCb(action="find").pack(),
    OpCb(action="entry", arg=ENTRY).pack(),
    OpCb(action="edit", arg=ENTRY).pack(),
    OpCb(action="edit_lang", arg="en").pack(),
    OpCb(action="save").pack(),
    OpCb(action="edit_cancel").pack(),
    OpCb(action="verify", arg=ENTRY).pack(),
    OpCb(action="publish", arg=f"{ENTRY}~0").pack(),
    OpCb(action="publish", arg="no.such_entry~0").pack(),
    OpCb(action="history", arg=ENTRY).pack(),
    OpCb(action="revert", arg="1").pack(),
    OpCb(action="review").pack(),
    OpCb(action="rv_group", arg=group_id("how do i vote by post")).pack(),
    OpCb(action="rv_add", arg=f"{group_id('how do i vote by post')}~{ENTRY}").pack(),
    OpCb(action="rv_dismiss", arg=group_id("how do i vote by post")).pack(),
    OpCb(action="coverage").pack(),
    OpCb(action="cov_days").pack(),
    OpCb(action="usage").pack(),
    OpCb(action="export").pack(),
    OpCb(action="an_list").pack(),
    OpCb(action="an_new").pack(),
    OpCb(action="an_countries").pack(),
    OpCb(action="an_aud", arg="all").pack(),
    OpCb(action="an_aud", arg="country~TR").pack(),
    OpCb(action="an_skip").pack(),
    OpCb(action="an_same").pack(),
    OpCb(action="an_now").pack(),
    OpCb(action="an_send").pack(),
    OpCb(action="an_cancel").pack(),
    OpCb(action="an_stop", arg="1").pack(),
    OpCb(action="ce_cancel").pack(),
    OpCb(action="ce_save").pack(),
    OpCb(action="ph", arg=ENTRY).pack(),
    OpCb(action="ph_lang", arg="kk").pack(),
    OpCb(action="ph_add").pack(),
    OpCb(action="ph_rep", arg="0").pack(),
    OpCb(action="ph_del", arg="0").pack(),
    OpCb(action="ph_del", arg="not-a-number").pack(),
    OpCb(action="src", arg=ENTRY).pack(),
    OpCb(action="new").pack(),
    OpCb(action="new_sec", arg="abroad").pack(),
    OpCb(action="new_lang", arg="ru").pack(),
    OpCb(action="new_done").pack(),
    OpCb(action="stations").pack(),
    OpCb(action="st", arg="london").pack(),
    OpCb(action="st_vote", arg="london").pack(),
    OpCb(action="st_status", arg="suspended").pack(),
    OpCb(action="st_fig", arg="london~address").pack(),
    OpCb(action="votes").pack(),
    OpCb(action="vote", arg="kurultai-2026").pack(),
    OpCb(action="vt_date", arg="kurultai-2026").pack(),
    OpCb(action="vt_status", arg="kurultai-2026~held").pack(),
    OpCb(action="rec_src", arg="vote~kurultai-2026").pack(),
    OpCb(action="rec_hist", arg="station~london").pack(),
    OpCb(action="rec_undo", arg="1").pack(),
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
    assert operator_commands() == {
        "admin",
        "editors",
        "cancel",
        "feedback_inbox",
        "unanswered",
        "export",
    }
    await db.set_editor(EDITOR, ADMIN, granted=True)
    await db.record_unanswered("How do I vote by post?", lang)
    before = await db.load_content()
    await db.set_locale(31, lang)
    first, _count = await announce(db, {"en": "Polls open at 07:00"})
    await expect_refused(person(dp, bot, session, 4242, lang), lang)
    assert await db.editor_ids() == [EDITOR]  # the forged revoke did nothing
    # The forged cancel stopped nothing, the forged send wrote nothing.
    [row] = await db.outbox_report()
    assert (row["id"], row["state"], row["queued"]) == (first, "ready", 1)
    # Nor did the forged edits, verifications, unpublishing, reverts or dismissals.
    assert await db.load_content() == before
    assert await db.reviewed_keys() == set()
    assert [row for row in await db.entry_history(ENTRY) if row.actor is not None] == []


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
    steps = []
    for module in (operators, announcing, content_edit):
        groups = [
            v for v in vars(module).values() if isinstance(v, type) and hasattr(v, "__all_states__")
        ]
        steps += [
            s.state for g in groups for s in g.__all_states__ if g.__module__ == module.__name__
        ]
    return steps


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


# --- find, edit, revert, review ------------------------------------------------------------


def faq_audit(settings: Settings) -> list[tuple]:
    with sqlite3.connect(settings.database_path) as conn:
        return conn.execute(
            "SELECT id, actor, action, record_id, before, after FROM audit_log "
            "WHERE kind = 'faq' AND actor IS NOT NULL ORDER BY id"
        ).fetchall()


def stored_answer(settings: Settings, entry_id: str, lang: str) -> bytes:
    with sqlite3.connect(settings.database_path) as conn:
        conn.text_factory = bytes
        [(answer,)] = conn.execute(
            "SELECT answer FROM faq_translations WHERE entry_id = ? AND lang = ?",
            (entry_id, lang),
        ).fetchall()
    return answer  # type: ignore[no-any-return]


def entry_of(dp: Dispatcher, entry_id: str = ENTRY) -> FaqEntry:
    library: Library = dp["library"]
    entry = library.content.entry(entry_id)
    assert entry is not None
    return entry


def user_question(dp: Dispatcher, lang: str, entry_id: str = ENTRY) -> str:
    """A phrasing of the entry that the users' search answers with it."""
    library: Library = dp["library"]
    for question in entry_of(dp, entry_id).text(lang).questions:
        if library.search(question).entry_id == entry_id:
            return question
    raise AssertionError(f"no phrasing of {entry_id} in {lang} is answered with it")


async def open_entry(admin: ChatDriver, entry_id: str = ENTRY) -> list[str]:
    await admin.send("/admin")
    await admin.press_button(OpCb(action="find").pack())
    return texts(await admin.send(entry_id))


async def edit_answer(admin: ChatDriver, lang: str, text: str, **fields: Any) -> list[str]:
    await open_entry(admin)
    await admin.press_button(OpCb(action="edit", arg=ENTRY).pack())
    await admin.press_button(OpCb(action="edit_lang", arg=lang).pack())
    return texts(await admin.send(text, **fields))


@pytest.mark.parametrize("lang", LANGS)
async def test_find_an_entry_by_id_and_by_a_question(dp, bot, session, lang):
    admin = person(dp, bot, session, ADMIN, lang)
    entry = entry_of(dp)
    shown = await open_entry(admin)
    assert len(shown) == 4  # one message per language, then sources and verified date
    for text, code in zip(shown, LOCALES_ORDER, strict=False):
        assert entry.text(code).questions[0].replace("&", "&amp;") in text
        assert entry.text(code).title.replace("&", "&amp;") in text
        assert translated("Button: {title}", lang).split("{")[0] in text
        assert entry.text(code).answer in text
    assert "kurultai" in shown[3] or entry.sources[0] in shown[3] or "<a href=" in shown[3]
    assert translated("Verified on {date}", lang).split("{")[0] in shown[3]

    # A question typed as a user would: the entry the users' search picks is offered first.
    question = user_question(dp, lang)
    await admin.send("/admin")
    await admin.press_button(OpCb(action="find").pack())
    await admin.send(question)
    first = buttons(admin.last_message().reply_markup)[0]
    assert first.callback_data == OpCb(action="entry", arg=ENTRY).pack()
    assert len(texts(await admin.press_button(first.callback_data))) == 4


LOCALES_ORDER = ["kk", "ru", "en"]


@pytest.mark.parametrize("lang", LANGS)
async def test_an_edit_is_previewed_saved_and_answered_at_once(dp, bot, session, settings, lang):
    admin = person(dp, bot, session, ADMIN, "en")
    user = person(dp, bot, session, 4242, lang)
    question = user_question(dp, lang)
    before = entry_of(dp)
    new_text = f'<b>{lang}</b>: the corrected answer &amp; a <a href="https://example.org">link</a>'
    sent = await edit_answer(admin, lang, new_text)
    note, preview = sent
    assert note.startswith("Preview")
    library: Library = dp["library"]
    with dp["i18n"].context(), dp["i18n"].use_locale(lang):
        expected = render_answer(
            library.content.model_copy(
                update={"faq": [e for e in library.content.faq if e.id != ENTRY]}
            ),
            before.model_copy(
                update={lang: before.text(lang).model_copy(update={"answer": new_text})}
            ),
            lang,
            TODAY,
        )
    assert preview == expected
    assert entry_of(dp) == before  # nothing is saved before Save
    assert await dp.fsm.get_context(bot, ADMIN, ADMIN).get_state() == operators.EditSteps.confirm

    requests = await admin.press_button(OpCb(action="save").pack())
    assert acks(requests) == ["Saved. Users get it from now on."]
    # The next question of another user gets the new text, without a restart.
    assert only_text(await user.send(question)) == preview
    assert stored_answer(settings, ENTRY, lang) == new_text.encode()
    [(_, actor, action, record_id, old, new)] = faq_audit(settings)
    assert (actor, action, record_id) == (ADMIN, "edit", ENTRY)
    assert json.loads(old)[lang]["answer"] == before.text(lang).answer
    assert json.loads(new)[lang]["answer"] == new_text
    assert json.loads(old) | {lang: json.loads(new)[lang]} == json.loads(new)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>never closed", "<b> is never closed"),
        ("<script>alert(1)</script>", "tag <script> is not allowed by Telegram"),
        ("Tom & Jerry", "a bare '&' must be written &amp;"),
        ("x" * 3501, "answer is 3501 characters, more than 3500"),
    ],
)
async def test_an_invalid_edit_is_refused_and_changes_nothing(
    dp, bot, session, settings, text, reason
):
    admin = person(dp, bot, session, ADMIN, "ru")
    before = entry_of(dp)
    stored = stored_answer(settings, ENTRY, "kk")
    [refusal] = await edit_answer(admin, "kk", text)
    expected = translated(
        "Refused: {reason}. Nothing was changed. Send a corrected text, or /cancel.", "ru"
    )
    prefix, _, _ = expected.partition("{reason}")
    assert refusal.startswith(prefix)
    assert escape(reason, quote=False) in refusal
    assert await dp.fsm.get_context(bot, ADMIN, ADMIN).get_state() == operators.EditSteps.text
    # A Save button of no preview does nothing either.
    assert acks(await admin.press(OpCb(action="save").pack(), admin.last_message())) == [
        translated(OUT_OF_DATE, "ru")
    ]
    assert entry_of(dp) == before
    assert stored_answer(settings, ENTRY, "kk") == stored
    assert faq_audit(settings) == []


async def test_cancel_button_leaves_the_edit(dp, bot, session, settings):
    admin = person(dp, bot, session, ADMIN, "kk")
    before = entry_of(dp)
    await edit_answer(admin, "en", "<i>A draft</i>")
    requests = await admin.press_button(OpCb(action="edit_cancel").pack())
    assert acks(requests) == [translated("Cancelled.", "kk")]
    assert await dp.fsm.get_context(bot, ADMIN, ADMIN).get_state() is None
    assert entry_of(dp) == before
    assert faq_audit(settings) == []


async def test_revert_restores_the_earlier_text_byte_for_byte(dp, bot, session, settings, db):
    admin = person(dp, bot, session, ADMIN, "en")
    user = person(dp, bot, session, 4242, "ru")
    question = user_question(dp, "ru")
    original = stored_answer(settings, ENTRY, "ru")
    original_doc = entry_of(dp).model_dump_json()
    first_reply = only_text(await user.send(question))
    await edit_answer(admin, "ru", "Новый текст")
    await admin.press_button(OpCb(action="save").pack())
    assert stored_answer(settings, ENTRY, "ru") == "Новый текст".encode()

    [(row_id, *_)] = faq_audit(settings)
    await admin.press_button(OpCb(action="history", arg=ENTRY).pack())
    assert f"#{row_id}" in admin.last_message().text
    assert "ru.answer" in admin.last_message().text
    requests = await admin.press_button(OpCb(action="revert", arg=str(row_id)).pack())
    assert acks(requests) == ["Saved. Users get it from now on."]
    assert stored_answer(settings, ENTRY, "ru") == original
    assert entry_of(dp).model_dump_json() == original_doc
    assert only_text(await user.send(question)) == first_reply
    audit = faq_audit(settings)
    assert [(a[1], a[2]) for a in audit] == [(ADMIN, "edit"), (ADMIN, "revert")]
    assert audit[1][5] == original_doc
    # The same undo again changes nothing and logs nothing.
    undo = OpCb(action="revert", arg=str(row_id)).pack()
    requests = await admin.press(undo, admin.last_message())
    assert acks(requests) == ["Nothing to change: the entry already is so."]
    assert len(faq_audit(settings)) == 2
    # An audit row of something else (an editor grant) is no FAQ change to revert.
    await db.set_editor(EDITOR, ADMIN, granted=True)
    with sqlite3.connect(settings.database_path) as conn:
        (grant,) = conn.execute("SELECT MAX(id) FROM audit_log").fetchone()
    requests = await admin.press(OpCb(action="revert", arg=str(grant)).pack(), admin.last_message())
    assert acks(requests) == [OUT_OF_DATE]


async def test_mark_verified_today_and_unpublish_then_publish(settings, bot, session):
    later = date(2026, 12, 3)  # the content was verified on TODAY
    dp = make_dispatcher(settings, today=later)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        await verify_and_hide(dp, bot, session, settings, later)
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


async def verify_and_hide(dp, bot, session, settings, later: date) -> None:
    admin = person(dp, bot, session, ADMIN, "en")
    user = person(dp, bot, session, 4242, "en")
    question = user_question(dp, "en")
    await open_entry(admin)
    assert entry_of(dp).verified != later
    await admin.press_button(OpCb(action="verify", arg=ENTRY).pack())
    assert entry_of(dp).verified == later
    assert "December 3, 2026" in only_text(await user.send(question))
    verify = OpCb(action="verify", arg=ENTRY).pack()
    assert acks(await admin.press(verify, admin.last_message())) == [
        "Nothing to change: the entry already is so."
    ]

    unpublish = OpCb(action="publish", arg=f"{ENTRY}~0").pack()
    await admin.press_button(unpublish)
    assert not entry_of(dp).published
    assert "Hidden from users" in admin.last_message().text
    assert dp["library"].search(question).entry_id != ENTRY
    # Pressed again (an old button), it does not flip the entry back.
    assert acks(await admin.press(unpublish, admin.last_message())) == [
        "Nothing to change: the entry already is so."
    ]
    assert not entry_of(dp).published
    # Hidden, not deleted: found by id, and published again.
    assert len(await open_entry(admin)) == 4
    await admin.press_button(OpCb(action="publish", arg=f"{ENTRY}~1").pack())
    assert entry_of(dp).published
    assert dp["library"].search(question).entry_id == ENTRY
    assert [a[2] for a in faq_audit(settings)] == ["verify", "unpublish", "publish"]


async def test_review_groups_questions_and_dismissed_ones_do_not_come_back(dp, bot, session, db):
    for text, lang in [
        ("How do I vote by post?", "en"),
        ("how do i vote by post", "en"),
        ("how do i vote by post", "en"),
        ("HOW  do I vote, by post!!", "en"),
        ("how do I vote by post", "kk"),
        ("Қай жерде дауыс беремін?", "kk"),
    ]:
        await db.record_unanswered(text, lang)
    admin = person(dp, bot, session, ADMIN, "en")
    await admin.send("/admin")
    await admin.press_button(OpCb(action="review").pack())
    shown = buttons(admin.last_message().reply_markup)
    labels = [b.text for b in shown]
    assert labels[0] == "×5 en: how do i vote by post"
    assert labels[1] == "×1 kk: Қай жерде дауыс беремін?"
    assert normalise("HOW  do I vote, by post!!") == "how do i vote by post"

    await admin.press_button(shown[0].callback_data)
    text = admin.last_message().text
    assert "Times asked: 5 (en 4, kk 1)." in text
    dismiss = OpCb(action="rv_dismiss", arg=group_id("how do i vote by post")).pack()
    assert acks(await admin.press_button(dismiss)) == ["Dismissed. It will not come back."]
    assert buttons(admin.last_message().reply_markup)[0].text.startswith("×1 kk")
    # Asked again in yet another way, it stays dismissed; the old button is out of date.
    await db.record_unanswered("How do I vote by post???", "ru")
    await admin.press(OpCb(action="review").pack(), admin.last_message())
    assert not [b for b in buttons(admin.last_message().reply_markup) if "post" in b.text]
    assert acks(await admin.press(dismiss, admin.last_message())) == [OUT_OF_DATE]


@pytest.mark.parametrize("lang", LANGS)
async def test_review_adds_a_question_as_a_phrasing(dp, bot, session, settings, db, lang):
    question = user_question(dp, lang)
    asked = question.upper() + " ???"
    await db.record_unsure(asked, lang, [ENTRY])
    admin = person(dp, bot, session, ADMIN, lang)
    await admin.send("/admin")
    await admin.press_button(OpCb(action="review").pack())
    gid = group_id(normalise(asked))
    await admin.press_button(OpCb(action="rv_group", arg=gid).pack())
    add = OpCb(action="rv_add", arg=f"{gid}~{ENTRY}").pack()
    assert acks(await admin.press_button(add)) == [
        translated("Added as a phrasing of {entry_id}.", lang).format(entry_id=ENTRY)
    ]
    assert entry_of(dp).text(lang).questions[-1] == asked
    assert [a[2] for a in faq_audit(settings)] == ["edit"]
    assert dp["library"].search(asked).entry_id == ENTRY
    assert translated("There are no questions to review.", lang) == admin.last_message().text
    assert acks(await admin.press(add, admin.last_message())) == [translated(OUT_OF_DATE, lang)]


async def test_text_formatted_in_the_app_becomes_the_same_tags(dp, bot, session, settings):
    admin = person(dp, bot, session, ADMIN, "en")
    entities = [
        MessageEntity(type="bold", offset=0, length=4),
        MessageEntity(type="text_link", offset=8, length=4, url="https://www.election.gov.kz"),
    ]
    _note, preview = await edit_answer(admin, "en", "Vote at home & here", entities=entities)
    typed = '<b>Vote</b> at <a href="https://www.election.gov.kz">home</a> &amp; here'
    assert preview.startswith(typed + "\n\n")
    await admin.press_button(OpCb(action="save").pack())
    assert stored_answer(settings, ENTRY, "en") == typed.encode()


@pytest.mark.parametrize("lang", LANGS)
async def test_an_editor_edits_and_a_revoked_editor_cannot_save(dp, bot, session, db, lang):
    await db.set_editor(EDITOR, ADMIN, granted=True)
    editor = person(dp, bot, session, EDITOR, lang)
    await editor.send("/admin")
    await editor.press_button(OpCb(action="find").pack())
    await editor.send(ENTRY)
    # Verified on TODAY already: the editor reaches the button, which has nothing to change.
    assert acks(await editor.press_button(OpCb(action="verify", arg=ENTRY).pack())) == [
        translated("Nothing to change: the entry already is so.", lang)
    ]

    before = entry_of(dp)
    await edit_answer(editor, lang, "<i>A new answer</i>")
    save = OpCb(action="save").pack()
    preview = editor.last_message()
    assert save in [b.callback_data for b in buttons(preview.reply_markup)]
    await db.set_editor(EDITOR, ADMIN, granted=False)
    # The preview's Save button, pressed after the role is gone, is an out-of-date button.
    assert acks(await editor.press(save, preview)) == [translated(OUT_OF_DATE, lang)]
    assert entry_of(dp) == before
    assert [row for row in await db.entry_history(ENTRY) if row.actor is not None] == []


async def test_an_edit_in_progress_survives_a_restart(settings: Settings, bot, session):
    first = make_dispatcher(settings)
    await first.emit_startup(bot=bot, **first.workflow_data)
    admin = person(first, bot, session, ADMIN, "kk")
    await open_entry(admin)
    await admin.press_button(OpCb(action="edit", arg=ENTRY).pack())
    await admin.press_button(OpCb(action="edit_lang", arg="en").pack())
    await first.emit_shutdown(bot=bot, **first.workflow_data)

    second = make_dispatcher(settings)
    await second.emit_startup(bot=bot, **second.workflow_data)
    try:
        admin = person(second, bot, session, ADMIN, "kk")
        _note, preview = texts(await admin.send("<u>After the restart</u>"))
        assert preview.startswith("<u>After the restart</u>\n\n")
        await admin.press_button(OpCb(action="save").pack())
        assert stored_answer(settings, ENTRY, "en") == b"<u>After the restart</u>"
    finally:
        await second.emit_shutdown(bot=bot, **second.workflow_data)


# --- changes from another process, coverage, usage, export ---------------------------------


async def test_an_import_beside_the_running_bot_is_answered_without_a_restart(
    settings: Settings, bot, session, tmp_path
):
    poll = 0.05
    dp = make_dispatcher(settings.model_copy(update={"content_poll_seconds": poll}))
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        user = person(dp, bot, session, 4242, "en")
        question = user_question(dp, "en")
        entry = entry_of(dp)
        new_text = "<b>Imported</b> beside the running bot."
        changed = entry.model_copy(update={"en": entry.en.model_copy(update={"answer": new_text})})
        dump_content(Content(faq=[changed]), tmp_path / "data")
        # `python -m bot import` is another process: another connection to the same file.
        async with Database(settings.database_path) as other:
            await import_path(other, tmp_path / "data")
        # Within a poll, plus the time the bot takes to rebuild its indexes in a thread.
        library: Library = dp["library"]
        stored = await dp["db"].content_version()
        for _ in range(200):
            if library.version == stored:
                break
            await asyncio.sleep(poll)
        assert library.version == stored
        assert only_text(await user.send(question)).startswith(new_text + "\n\n")
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


async def import_changed(settings: Settings, folder, *entries: FaqEntry) -> None:
    """Stores changed entries as `python -m bot import` would, beside the bot."""
    dump_content(Content(faq=list(entries)), folder)
    async with Database(settings.database_path) as other:
        await import_path(other, folder)


def coverage_line(text: str, msgid: str, lang: str, **fields: Any) -> int:
    """The count on the coverage screen's line `msgid`."""
    prefix = translated(msgid, lang).format(**fields, count="\0").split("\0")[0]
    [line] = [line for line in text.splitlines() if line.startswith(prefix)]
    return int(line[len(prefix) :].split()[0])


MISSING = "Missing a language: {count}"
STALE = "Not verified for more than {days} days: {count}"
NEAR = "Answers of {near} characters or more (Telegram's limit is {limit}): {count}"


@pytest.mark.parametrize("lang", LANGS)
async def test_coverage_counts_and_opens_the_entries(dp, bot, session, settings, tmp_path, lang):
    admin = person(dp, bot, session, ADMIN, lang)
    await admin.send("/admin")
    await admin.press_button(OpCb(action="coverage").pack())
    before = admin.last_message().text
    counts = (
        coverage_line(before, MISSING, lang),
        coverage_line(before, STALE, lang, days=30),
        coverage_line(before, NEAR, lang, near=3686, limit=4096),
    )
    entry = entry_of(dp)
    # Not translated (Kazakh is a copy of English), verified 40 days ago.
    untranslated = entry.model_copy(update={"kk": entry.en, "verified": date(2026, 10, 13)})
    parties = entry_of(dp, "parties.list")  # a built list, with a long answer below it
    long = parties.model_copy(update={"en": parties.en.model_copy(update={"answer": "x" * 3400})})
    await import_changed(settings, tmp_path / "data", untranslated, long)
    await dp["library"].refresh(dp["db"])

    await admin.press(OpCb(action="coverage").pack(), admin.last_message())
    after = admin.last_message().text
    assert coverage_line(after, MISSING, lang) == counts[0] + 1
    assert coverage_line(after, STALE, lang, days=30) == counts[1] + 1
    assert coverage_line(after, NEAR, lang, near=3686, limit=4096) == counts[2] + 1
    labels = {b.text: b.callback_data for b in buttons(admin.last_message().reply_markup)}
    assert labels[f"🌐 {ENTRY} · kk"] == OpCb(action="entry", arg=ENTRY).pack()
    assert labels[f"🕓 {ENTRY}"] == OpCb(action="entry", arg=ENTRY).pack()
    [near] = [label for label in labels if label.startswith("📏 parties.list · en · ")]
    assert int(near.rsplit(" ", 1)[1]) >= 4096 * 0.9
    # Each id opens the entry as the find flow does.
    assert len(texts(await admin.press_button(f"🕓 {ENTRY}"))) == 4

    # The admin sets N: 50 days, and the entry verified 40 days ago is no longer listed.
    await admin.press(OpCb(action="coverage").pack(), admin.last_message())
    await admin.press_button(OpCb(action="cov_days").pack())
    refusal = only_text(await admin.send("0"))
    assert refusal == translated("Send a number from 1 to {most}, or /cancel.", lang).format(
        most=3650
    )
    shown = only_text(await admin.send("50"))
    assert coverage_line(shown, STALE, lang, days=50) == counts[1]
    assert f"🕓 {ENTRY}" not in [b.text for b in buttons(admin.last_message().reply_markup)]
    assert await dp["db"].meta_value("coverage_stale_days") == "50"


async def test_an_editor_sees_coverage_but_cannot_change_the_days(dp, bot, session, db):
    await db.set_editor(EDITOR, ADMIN, granted=True)
    editor = person(dp, bot, session, EDITOR, "en")
    await editor.send("/admin")
    await editor.press_button(OpCb(action="coverage").pack())
    data = [b.callback_data for b in buttons(editor.last_message().reply_markup)]
    assert OpCb(action="cov_days").pack() not in data
    requests = await editor.press(OpCb(action="cov_days").pack(), editor.last_message())
    assert acks(requests) == [OUT_OF_DATE]
    assert await db.meta_value("coverage_stale_days") is None


async def test_coverage_names_stations_without_a_status_for_the_next_vote(settings, bot, session):
    # In August 2026 the Kurultai vote (announced for that month) is the next one.
    dp = make_dispatcher(settings, today=date(2026, 8, 1))
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        content = dp["library"].content
        vote = content.vote("kurultai-2026")
        without = [s.id for s in content.stations if "kurultai-2026" not in s.votes]
        admin = person(dp, bot, session, ADMIN, "en")
        await admin.send("/admin")
        await admin.press_button(OpCb(action="coverage").pack())
        text = admin.last_message().text
        line = f"Stations without a confirmed status for {vote.title.en}: {len(without)}"
        assert line in text
        if without:
            assert without[0] in text
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


@pytest.mark.parametrize("lang", LANGS)
async def test_usage_counts_questions_by_outcome_without_anything_personal(
    dp, bot, session, settings, db, lang
):
    question = user_question(dp, "ru")
    asker = person(dp, bot, session, 5151, "ru")
    await asker.send("/start")
    await asker.press(LangCb(code="ru").pack(), asker.last_message())
    for _n in range(3):
        await asker.send(question)
    for text in ("Where can I buy a tractor", "where can i buy a TRACTOR?"):
        await asker.send(text)
    person_kk = person(dp, bot, session, 5252, "kk")
    await person_kk.send("/start")
    await person_kk.press(LangCb(code="kk").pack(), person_kk.last_message())

    admin = person(dp, bot, session, ADMIN, lang)
    await admin.send("/admin")
    await admin.press_button(OpCb(action="usage").pack())
    text = admin.last_message().text
    users = translated("Users by the language they chose: {counts}", lang).format(counts="")
    [line] = [line for line in text.splitlines() if line.startswith(users)]
    by_lang = dict(part.split() for part in line[len(users) :].split(" · "))
    assert by_lang["ru"] == "1" and by_lang["kk"] == "1"
    # The day's questions: three answered, and the tractor twice, unanswered.
    with sqlite3.connect(settings.database_path) as conn:
        rows = conn.execute("SELECT day, outcome, entry_id, count FROM question_counts").fetchall()
    assert sorted(rows) == [
        (TODAY.isoformat(), "answered", ENTRY, 3),
        (TODAY.isoformat(), "unanswered", "", 2),
    ]
    with dp["i18n"].context(), dp["i18n"].use_locale(lang):
        today_line = f"{operators.long_date(TODAY, lang)}: 5"
    assert today_line in text.splitlines()
    answered = translated("Answered: {answered} of {asked} ({share}%)", lang)
    assert answered.format(answered=3, asked=5, share=60) in text
    assert f"• <code>{ENTRY}</code> ×3" in text
    assert "• ×2 Where can I buy a tractor" in text or "• ×2 where can i buy a TRACTOR?" in text
    assert "5151" not in text and "5252" not in text


@pytest.mark.parametrize("lang", LANGS)
async def test_export_sends_the_store_back_in_the_data_format(dp, bot, session, db, tmp_path, lang):
    admin = person(dp, bot, session, ADMIN, lang)
    [sent] = [r for r in await admin.send("/export") if isinstance(r, SendDocument)]
    assert sent.document.filename == f"saylau-content-{TODAY.isoformat()}.zip"
    with zipfile.ZipFile(io.BytesIO(sent.document.data)) as archive:
        assert "faq/parties.yaml" in archive.namelist()
        archive.extractall(tmp_path / "export")
    # What it holds is the store: imported again, it reads back as the very same content.
    assert load_content(tmp_path / "export") == await db.load_content()
    assert sent.caption == translated(
        "The content as stored now, in the format of data/. Unpacked, it can be imported "
        "with: python -m bot import FOLDER",
        lang,
    )
    # The menu's button sends the same file.
    await admin.send("/admin")
    requests = await admin.press_button(OpCb(action="export").pack())
    [again] = [r for r in requests if isinstance(r, SendDocument)]
    assert unzipped(again.document.data) == unzipped(sent.document.data)


def unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --- announcements -------------------------------------------------------------------------


def outbox_users(settings: Settings, broadcast_id: int) -> set[int]:
    with sqlite3.connect(settings.database_path) as conn:
        rows = conn.execute("SELECT user_id FROM outbox WHERE broadcast_id = ?", (broadcast_id,))
        return {r[0] for r in rows}


async def recipients(db: Database) -> dict[str, set[int]]:
    """Nine people, three per language; 7 chose a station in Turkey, 8 one in Germany."""
    by_lang: dict[str, set[int]] = {lang: set() for lang in LANGS}
    for user_id in range(1, 10):
        lang = LANGS[user_id % 3]
        await db.set_locale(user_id, lang)
        by_lang[lang].add(user_id)
    return by_lang


def station_in(dp: Dispatcher, country: str) -> str:
    library: Library = dp["library"]
    return next(s.id for s in library.content.stations if s.country == country)


async def start_announcement(admin: ChatDriver, audience: str) -> list[str]:
    await admin.send("/admin")
    await admin.press_button(OpCb(action="an_list").pack())
    await admin.press_button(OpCb(action="an_new").pack())
    if audience.startswith("country~"):
        await admin.press_button(OpCb(action="an_countries").pack())
    return texts(await admin.press_button(OpCb(action="an_aud", arg=audience).pack()))


def step2(lang: str, language: str) -> str:
    return translated(
        "Step 2 of 4: send the text in {language}, formatted in the Telegram app or written as "
        "Telegram HTML, at most {limit} characters. A language without a text of its own gets "
        "another's (Kazakh, then Russian, then English); the preview shows who gets which.",
        lang,
    ).format(language=language, limit=4096)


PREVIEW_OF = "Preview of the {language} text, which these get: {groups}"


@pytest.mark.parametrize("lang", LANGS)
async def test_an_announcement_to_one_language_is_previewed_and_written(
    dp, bot, session, db: Database, settings, lang
):
    by_lang = await recipients(db)
    admin = person(dp, bot, session, ADMIN, lang)
    shown = await start_announcement(admin, "lang~ru")
    assert shown == [step2(lang, "Қазақша")]
    kk = "<b>Сайлау</b> 5 желтоқсанда &amp; 08:00"
    assert texts(await admin.send(kk)) == [step2(lang, "Русский")]
    assert texts(await admin.send("Выборы <i>5 декабря</i>")) == [step2(lang, "English")]
    await admin.press_button(OpCb(action="an_same").pack())  # no English: it gets Kazakh
    later = (datetime.now(ASTANA) + timedelta(days=2)).replace(second=0, microsecond=0)
    typed = later.strftime("%Y-%m-%d %H:%M")
    shown = texts(await admin.send(typed))
    ru_count = len(by_lang["ru"])  # the admin, who never chose a language, is in no audience
    assert shown[:4] == [
        translated(PREVIEW_OF, lang).format(language="Қазақша", groups="Қазақша (0), English (0)"),
        kk,
        translated(PREVIEW_OF, lang).format(language="Русский", groups=f"Русский ({ru_count})"),
        "Выборы <i>5 декабря</i>",
    ]
    summary = translated("Step 4 of 4: send to {audience}, {count} recipients, {when}?", lang)
    audience = translated("people who use the bot in {language}", lang).format(language="Русский")
    when = f"{typed} ({translated('Astana time', lang)})"
    assert shown[4] == summary.format(audience=audience, count=ru_count, when=when)
    assert find_button(admin.last_message().reply_markup, OpCb(action="an_send").pack())

    requests = await admin.press_button(OpCb(action="an_send").pack())
    [report] = await db.outbox_report()
    done = translated("Announcement #{number} written: {count} recipients.", lang)
    assert acks(requests) == [done.format(number=report["id"], count=ru_count)]
    assert outbox_users(settings, report["id"]) == by_lang["ru"]
    assert datetime.fromisoformat(report["send_at"]) == later
    assert await db.broadcast(report["id"]) == (
        "announcement",
        "ready",
        {"texts": {"kk": kk, "ru": "Выборы <i>5 декабря</i>"}, "html": True},
    )
    # The list shows it queued, with a button that cancels it.
    listing = admin.last_message()
    assert f"#{report['id']}" in (listing.text or "")
    assert find_button(listing.reply_markup, OpCb(action="an_stop", arg=str(report["id"])).pack())


@pytest.mark.parametrize("lang", LANGS)
async def test_one_text_for_everyone_now_and_to_a_country(
    dp, bot, session, db: Database, settings, lang
):
    await recipients(db)
    await db.set_station(7, "ru", station_in(dp, "TR"))
    await db.set_station(8, "kk", station_in(dp, "DE"))
    admin = person(dp, bot, session, ADMIN, lang)
    await start_announcement(admin, "country~TR")
    await admin.press_button(OpCb(action="an_skip").pack())  # no Kazakh
    await admin.send("Участок в Анкаре открыт", entities=None)
    await admin.press_button(OpCb(action="an_same").pack())
    shown = texts(await admin.press_button(OpCb(action="an_now").pack()))
    everyone = "Қазақша (0), Русский (1), English (0)"
    assert shown[:2] == [
        translated(PREVIEW_OF, lang).format(language="Русский", groups=everyone),
        "Участок в Анкаре открыт",
    ]
    summary = translated("Step 4 of 4: send to {audience}, {count} recipients, {when}?", lang)
    audience = translated("voters who chose a station in {country}", lang)
    assert shown[2] == summary.format(
        audience=audience.format(country=country_label("TR", lang)),
        count=1,
        when=translated("now", lang),
    )
    await admin.press_button(OpCb(action="an_send").pack())
    [report] = await db.outbox_report()
    assert outbox_users(settings, report["id"]) == {7}
    assert datetime.fromisoformat(report["send_at"]) <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>unclosed", "<b> is never closed"),
        ("<script>x</script>", "tag <script> is not allowed by Telegram"),
        ("Tom & Jerry", "a bare '&' must be written &amp;"),
        ("x" * 4097, "4097 characters: a message holds at most 4096"),
    ],
)
async def test_a_text_telegram_would_refuse_is_refused(dp, bot, session, db, text, reason):
    admin = person(dp, bot, session, ADMIN, "en")
    await start_announcement(admin, "all")
    [refusal] = texts(await admin.send(text))
    assert refusal == f"Refused: {escape(reason, quote=False)}. Send a corrected text, or /cancel."
    context = dp.fsm.get_context(bot=bot, chat_id=ADMIN, user_id=ADMIN)
    assert await context.get_state() == announcing.AnnounceSteps.text.state
    assert (await context.get_data())["texts"] == {}


async def test_a_time_is_read_in_astana_and_must_be_ahead(dp, bot, session, db):
    admin = person(dp, bot, session, ADMIN, "en")
    await start_announcement(admin, "all")
    await admin.send("Hello")
    await admin.press_button(OpCb(action="an_same").pack())
    assert only_text(await admin.send("tomorrow")) == (
        "Write the time as 2026-12-05 10:00 (Astana time), or tap Now, or /cancel."
    )
    past = (datetime.now(ASTANA) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    assert only_text(await admin.send(past)) == (
        "That time has passed. Send a later one, or tap Now."
    )
    await admin.send("2099-01-02 10:00")
    context = dp.fsm.get_context(bot=bot, chat_id=ADMIN, user_id=ADMIN)
    at = datetime.fromisoformat((await context.get_data())["at"])
    assert at.astimezone(UTC) == datetime(2099, 1, 2, 5, 0, tzinfo=UTC)  # Astana is UTC+5


async def test_every_language_skipped_asks_again(dp, bot, session, db):
    admin = person(dp, bot, session, ADMIN, "en")
    await start_announcement(admin, "all")
    await admin.press_button(OpCb(action="an_skip").pack())
    await admin.press_button(OpCb(action="an_skip").pack())
    shown = texts(await admin.press_button(OpCb(action="an_skip").pack()))
    assert shown == [
        "An announcement needs a text in at least one language.",
        step2("en", "Қазақша"),
    ]


async def test_cancel_stops_the_rows_not_yet_sent(dp, bot, session, db: Database, settings):
    await recipients(db)
    first, count = await announce(db, {"en": "Polls open at 07:00"})
    assert count == 9
    claimed = await db.outbox_claim("deliverer-x", 3, timedelta(minutes=5))
    await db.outbox_sent(claimed[0][0], 100)  # one was sent already
    admin = person(dp, bot, session, ADMIN, "en")
    await admin.send("/admin")
    await admin.press_button(OpCb(action="an_list").pack())
    requests = await admin.press_button(OpCb(action="an_stop", arg=str(first)).pack())
    assert acks(requests) == [f"Announcement #{first} cancelled: 8 sends stopped."]
    # The rows the deliverer had claimed are not sent either, nor are any claimed again.
    assert not await db.outbox_start(claimed[1][0], "deliverer-x")
    assert await db.outbox_claim("deliverer-y", 10, timedelta(0)) == []
    [report] = await db.outbox_report()
    assert (report["state"], report["sent"], report["queued"], report["cancelled"]) == (
        "cancelled", 1, 0, 8,
    )  # fmt: skip
    assert "cancelled: sent 1, failed 0, blocked 0, waiting 0, cancelled 8" in (
        admin.last_message().text or ""
    )
    assert not [
        b
        for b in buttons(admin.last_message().reply_markup)
        if "an_stop" in (b.callback_data or "")
    ]
    # The same button again is out of date.
    again = await admin.press(OpCb(action="an_stop", arg=str(first)).pack(), admin.last_message())
    assert acks(again) == [OUT_OF_DATE]


async def test_an_editor_cannot_announce(dp, bot, session, db: Database):
    await db.set_editor(EDITOR, ADMIN, granted=True)
    first, _count = await announce(db, {"en": "Polls open at 07:00"})
    editor = person(dp, bot, session, EDITOR, "en")
    await editor.send("/admin")
    assert not [
        b for b in buttons(editor.last_message().reply_markup) if "an_" in (b.callback_data or "")
    ]
    for data in (
        OpCb(action="an_list").pack(),
        OpCb(action="an_new").pack(),
        OpCb(action="an_stop", arg=str(first)).pack(),
    ):
        assert acks(await editor.press(data, editor.last_message())) == [OUT_OF_DATE]
    [report] = await db.outbox_report()
    assert report["state"] == "ready"


async def test_an_announcement_in_progress_survives_a_restart(settings: Settings, bot, session):
    first = make_dispatcher(settings)
    await first.emit_startup(bot=bot, **first.workflow_data)
    admin = person(first, bot, session, ADMIN, "kk")
    await start_announcement(admin, "all")
    await admin.send("Сайлау туралы")
    prompt = admin.last_message()  # the Russian text's, with its buttons
    await first.emit_shutdown(bot=bot, **first.workflow_data)

    second = make_dispatcher(settings)
    await second.emit_startup(bot=bot, **second.workflow_data)
    try:
        admin = person(second, bot, session, ADMIN, "kk")
        await admin.press(OpCb(action="an_same").pack(), prompt)
        await admin.press_button(OpCb(action="an_now").pack())
        await admin.press_button(OpCb(action="an_send").pack())
        [report] = await second["db"].outbox_report()
        assert await second["db"].broadcast(report["id"]) == (
            "announcement", "ready", {"texts": {"kk": "Сайлау туралы"}, "html": True},
        )  # fmt: skip
    finally:
        await second.emit_shutdown(bot=bot, **second.workflow_data)
