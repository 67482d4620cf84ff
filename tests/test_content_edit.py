"""Operators' guided edits beyond an answer, through the real dispatcher, store and catalogues:
an entry's phrasings and sources, a new entry, a station, a vote. Each is previewed, saved from
the preview only, audited, revertible byte for byte, and answered at once without a restart."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from html import escape

import pytest
from aiogram import Dispatcher
from conftest import buttons, make_dispatcher, only_text, texts, translated
from test_operators import ADMIN, ENTRY, LANGS, OUT_OF_DATE, acks, entry_of, open_entry, person

from bot.config import Settings
from bot.content.models import Station
from bot.handlers import content_edit
from bot.keyboards import OpCb
from bot.library import Library
from bot.storage import Database, ReminderPrefs

SAVED = "Saved. Users get it from now on."
REFUSED = "Refused: {reason}. Nothing was changed. Send a corrected text, or /cancel."
NEW_PHRASING = "Qurultai zhogargy organ kvorum flibbertigibbet?"
STATION = "london"
VOTE = "kurultai-2026"
BEFORE_VOTE = date(2026, 8, 1)  # the Kurultai vote (announced for August 2026) is the next one


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_ids": frozenset({ADMIN})})


def audit(settings: Settings, kind: str = "faq") -> list[tuple]:
    with sqlite3.connect(settings.database_path) as conn:
        return conn.execute(
            "SELECT id, actor, action, record_id, before, after FROM audit_log "
            "WHERE kind = ? AND actor IS NOT NULL ORDER BY id",
            (kind,),
        ).fetchall()


def stored_entry(settings: Settings, entry_id: str) -> bytes:
    """The entry's rows as SQLite keeps them, byte for byte."""
    with sqlite3.connect(settings.database_path) as conn:
        conn.text_factory = bytes
        rows = conn.execute(
            "SELECT id, section, published, sources, verified FROM faq_entries WHERE id = ?",
            (entry_id,),
        ).fetchall()
        rows += conn.execute(
            "SELECT lang, questions, answer, title FROM faq_translations WHERE entry_id = ? "
            "ORDER BY lang",
            (entry_id,),
        ).fetchall()
    return repr(rows).encode()


def stored_record(settings: Settings, kind: str, record_id: str) -> bytes:
    with sqlite3.connect(settings.database_path) as conn:
        conn.text_factory = bytes
        [(data,)] = conn.execute(
            "SELECT data FROM records WHERE kind = ? AND id = ?", (kind, record_id)
        ).fetchall()
    return data  # type: ignore[no-any-return]


def prefix(msgid: str, lang: str) -> str:
    return translated(msgid, lang).split("{")[0]


async def save(admin) -> list:
    return acks(await admin.press_button(OpCb(action="ce_save").pack()))


# --- phrasings --------------------------------------------------------------------------


async def phrasings(admin) -> None:
    """Opens the English phrasings of ENTRY from /admin."""
    await open_entry(admin)
    await admin.press_button(OpCb(action="ph", arg=ENTRY).pack())
    await admin.press_button(OpCb(action="ph_lang", arg="en").pack())


@pytest.mark.parametrize("lang", LANGS)
async def test_phrasings_are_added_replaced_and_removed(dp, bot, session, settings, lang):
    admin = person(dp, bot, session, ADMIN, lang)
    user = person(dp, bot, session, 4242, "en")
    library: Library = dp["library"]
    original = stored_entry(settings, ENTRY)
    questions = entry_of(dp).text("en").questions
    assert library.search(NEW_PHRASING).entry_id != ENTRY

    await phrasings(admin)
    listed = admin.last_message().text
    assert all(escape(q, quote=False) in listed for q in questions)
    await admin.press_button(OpCb(action="ph_add").pack())
    preview, ask = texts(await admin.send(NEW_PHRASING))
    assert preview.startswith(
        prefix("Preview: the phrasings of {entry_id} in {language} after the change.", lang)
    )
    assert "➕ " + NEW_PHRASING in preview
    assert ask == translated("Save this change?", lang)
    assert entry_of(dp).text("en").questions == questions  # nothing saved before Save
    assert await save(admin) == [translated(SAVED, lang)]
    assert entry_of(dp).text("en").questions == [*questions, NEW_PHRASING]
    # The search answers the new phrasing at once, without a restart.
    assert library.search(NEW_PHRASING).entry_id == ENTRY
    answer = only_text(await user.send(NEW_PHRASING))
    assert entry_of(dp).text("en").answer in answer

    # The same phrasing again (in other letters' case) is refused, and nothing changes.
    await phrasings(admin)
    await admin.press_button(OpCb(action="ph_add").pack())
    refusal = only_text(await admin.send(NEW_PHRASING.upper()))
    assert refusal.startswith(prefix(REFUSED, lang)) and "already there" in refusal

    # Replace the first phrasing, then remove the new one.
    await admin.send("/cancel")
    await phrasings(admin)
    await admin.press_button(OpCb(action="ph_rep", arg="0").pack())
    await admin.send("  When is the Kurultai elected, exactly?  ")
    assert await save(admin) == [translated(SAVED, lang)]
    assert entry_of(dp).text("en").questions[0] == "When is the Kurultai elected, exactly?"
    await phrasings(admin)
    last = len(questions)
    preview = texts(await admin.press_button(OpCb(action="ph_del", arg=str(last)).pack()))[0]
    assert "➖ <s>" + NEW_PHRASING in preview
    assert await save(admin) == [translated(SAVED, lang)]
    assert NEW_PHRASING not in entry_of(dp).text("en").questions
    assert library.search(NEW_PHRASING).entry_id != ENTRY

    rows = audit(settings)
    assert [(r[1], r[2]) for r in rows] == [(ADMIN, "edit")] * 3
    # Undo every change, newest first: the entry is back byte for byte.
    await open_entry(admin)
    for row in reversed(rows):
        await admin.press_button(OpCb(action="history", arg=ENTRY).pack())
        assert acks(await admin.press_button(OpCb(action="revert", arg=str(row[0])).pack())) == [
            translated(SAVED, lang)
        ]
    assert stored_entry(settings, ENTRY) == original


async def test_a_forged_phrasing_button_is_refused(dp, bot, session, settings):
    admin = person(dp, bot, session, ADMIN, "ru")
    await open_entry(admin)
    await admin.press_button(OpCb(action="ph", arg=ENTRY).pack())
    await admin.press_button(OpCb(action="ph_lang", arg="kk").pack())
    count = len(entry_of(dp).text("kk").questions)
    for forged in (OpCb(action="ph_rep", arg=str(count)), OpCb(action="ph_lang", arg="xx")):
        assert acks(await admin.press(forged.pack(), admin.last_message())) == [
            translated(OUT_OF_DATE, "ru")
        ]
    sent = texts(await admin.press(OpCb(action="ph_del", arg="99").pack(), admin.last_message()))
    assert sent[0].startswith(prefix(REFUSED, "ru"))
    assert audit(settings) == []


# --- sources ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
async def test_sources_are_changed_only_to_web_addresses(dp, bot, session, settings, lang):
    admin = person(dp, bot, session, ADMIN, lang)
    before = entry_of(dp)
    original = stored_entry(settings, ENTRY)
    await open_entry(admin)
    await admin.press_button(OpCb(action="src", arg=ENTRY).pack())
    assert before.sources[0] in admin.last_message().text  # the current list, to copy
    for bad in ("election gov kz", "ftp://election.gov.kz/a", "https://nohost"):
        refusal = only_text(await admin.send("\n".join([*before.sources, bad])))
        assert refusal.startswith(prefix(REFUSED, lang)), bad
    new = "https://www.election.gov.kz/rus/news/"
    note, preview, _ask = texts(await admin.send("\n".join([*before.sources, new])))
    assert note == translated(
        "Preview: exactly what a user asking in {language} will see.", lang
    ).format(language={"kk": "Қазақша", "ru": "Русский", "en": "English"}[lang])
    assert "election.gov.kz" in preview
    assert await save(admin) == [translated(SAVED, lang)]
    assert entry_of(dp).sources == [*before.sources, new]
    [(row_id, _, _, _, old, after)] = audit(settings)
    assert json.loads(old)["sources"] == before.sources
    assert json.loads(after)["sources"] == [*before.sources, new]
    await admin.press_button(OpCb(action="history", arg=ENTRY).pack())
    await admin.press_button(OpCb(action="revert", arg=str(row_id)).pack())
    assert stored_entry(settings, ENTRY) == original


# --- a new entry --------------------------------------------------------------------------

NEW_ID = "abroad.test_new_entry"


@pytest.mark.parametrize("lang", LANGS)
async def test_a_new_entry_is_made_step_by_step(dp, bot, session, settings, lang):
    admin = person(dp, bot, session, ADMIN, lang)
    user = person(dp, bot, session, 4242, lang)
    library: Library = dp["library"]
    question = {"kk": "Жаңа сынақ сұрағы қалай?", "ru": "Как новый пробный вопрос?"}.get(
        lang, "How is the new trial question?"
    )
    answer = f"<b>{lang}</b> answer of the trial entry"
    await admin.send("/admin")
    await admin.press_button(OpCb(action="new").pack())
    for bad in ("NoDots", "abroad", ENTRY, "abroad." + "x" * 40):
        assert only_text(await admin.send(bad)).startswith(prefix(REFUSED, lang)), bad
    await admin.send(NEW_ID)
    await admin.press_button(OpCb(action="new_sec", arg="abroad").pack())
    # Nothing written yet: no way on to the sources.
    assert "new_done" not in [b.callback_data for b in buttons(admin.last_message().reply_markup)]
    await admin.press_button(OpCb(action="new_lang", arg=lang).pack())
    assert only_text(await admin.send("x" * 41)).startswith(prefix(REFUSED, lang))
    await admin.send("Trial entry")
    await admin.send(question)
    assert only_text(await admin.send("<b>never closed")).startswith(prefix(REFUSED, lang))
    await admin.send(answer)
    await admin.press_button(OpCb(action="new_done").pack())
    assert only_text(await admin.send("not a link")).startswith(prefix(REFUSED, lang))
    _note, preview, ask = texts(await admin.send("https://www.election.gov.kz/"))
    assert ask == translated("Save this change?", lang)
    assert answer in preview and "election.gov.kz" in preview
    assert library.content.entry(NEW_ID) is None  # nothing saved before Save
    assert await save(admin) == [translated(SAVED, lang)]

    entry = library.content.entry(NEW_ID)
    assert entry is not None and entry.published and entry.section == "abroad"
    assert entry.verified == date(2026, 11, 22)  # today
    assert entry.text(lang).answer == answer and entry.text(lang).questions == [question]
    # The user's next question gets it, without a restart.
    assert only_text(await user.send(question)) == preview
    [(row_id, actor, action, record_id, old, new)] = audit(settings)
    assert (actor, action, record_id, old) == (ADMIN, "create", NEW_ID, None)
    assert new == entry.model_dump_json()

    # The languages not written hold a copy for now, and coverage names them.
    await admin.send("/admin")
    await admin.press_button(OpCb(action="coverage").pack())
    others = "/".join(code for code in LANGS if code != lang)
    assert f"🌐 {NEW_ID} · {others}" in [b.text for b in buttons(admin.last_message().reply_markup)]

    # Its undo hides it (nothing is hard-deleted); the search no longer answers with it.
    await open_entry(admin, NEW_ID)
    await admin.press_button(OpCb(action="history", arg=NEW_ID).pack())
    await admin.press_button(OpCb(action="revert", arg=str(row_id)).pack())
    hidden = library.content.entry(NEW_ID)
    assert hidden is not None and not hidden.published
    assert library.search(question).entry_id != NEW_ID


async def test_a_new_entry_in_progress_survives_a_restart(settings: Settings, bot, session):
    first = make_dispatcher(settings)
    await first.emit_startup(bot=bot, **first.workflow_data)
    try:
        admin = person(first, bot, session, ADMIN, "kk")
        await admin.send("/admin")
        await admin.press_button(OpCb(action="new").pack())
        await admin.send(NEW_ID)
        sections = admin.last_message()
    finally:
        await first.emit_shutdown(bot=bot, **first.workflow_data)
    second = make_dispatcher(settings)
    await second.emit_startup(bot=bot, **second.workflow_data)
    try:
        admin = person(second, bot, session, ADMIN, "kk")
        state = await second.fsm.get_context(bot, ADMIN, ADMIN).get_state()
        assert state == content_edit.NewEntrySteps.section
        await admin.press(OpCb(action="new_sec", arg="elections").pack(), sections)
        assert translated("Step 3: in which language do you write it first?", "kk") in (
            admin.last_message().text
        )
    finally:
        await second.emit_shutdown(bot=bot, **second.workflow_data)


# --- stations and votes ---------------------------------------------------------------


async def with_next_vote(settings: Settings, bot, session, test) -> None:
    dp = make_dispatcher(settings, today=BEFORE_VOTE)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        await test(dp)
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


def station_of(dp: Dispatcher, station_id: str = STATION) -> Station:
    found = next(s for s in dp["library"].content.stations if s.id == station_id)
    return found


@pytest.mark.parametrize("lang", LANGS)
async def test_a_station_status_and_address_are_edited(settings, bot, session, lang):
    async def test(dp: Dispatcher) -> None:
        admin = person(dp, bot, session, ADMIN, lang)
        original = stored_record(settings, "station", STATION)
        before = station_of(dp)
        await admin.send("/admin")
        await admin.press_button(OpCb(action="stations").pack())
        await admin.send(before.city.get(lang))
        await admin.press_button(OpCb(action="st", arg=STATION).pack())
        await admin.press_button(OpCb(action="st_vote", arg=STATION).pack())
        sent = texts(await admin.press_button(OpCb(action="st_status", arg="suspended").pack()))
        assert sent[0].startswith(
            prefix("Preview: the station's card as a user in {language} will see it.", lang)
        )
        assert await save(admin) == [translated(SAVED, lang)]
        assert station_of(dp).votes[VOTE] == "suspended"

        await admin.press_button(OpCb(action="st_fig", arg=f"{STATION}~address").pack())
        address = "1 Test Street, London"
        _note, card, _ask = texts(await admin.send(address))
        assert address in card
        assert await save(admin) == [translated(SAVED, lang)]
        assert station_of(dp).address == address and "address" not in station_of(dp).as_of

        await admin.press_button(OpCb(action="st_fig", arg=f"{STATION}~number").pack())
        assert only_text(await admin.send("twelve")).startswith(prefix(REFUSED, lang))
        await admin.send("/cancel")
        await admin.press_button(OpCb(action="stations").pack())
        await admin.send(STATION)
        await admin.press_button(OpCb(action="st", arg=STATION).pack())

        # The new fact's source is added to the station's own.
        source = "https://www.gov.kz/memleket/entities/mfa"
        await admin.press_button(OpCb(action="rec_src", arg=f"station~{STATION}").pack())
        assert only_text(await admin.send("not a link")).startswith(prefix(REFUSED, lang))
        await admin.send("\n".join([*before.sources, source]))
        assert await save(admin) == [translated(SAVED, lang)]
        assert station_of(dp).sources == [*before.sources, source]

        rows = audit(settings, "station")
        assert [(r[1], r[2]) for r in rows] == [(ADMIN, "edit")] * 3
        for row in reversed(rows):
            await admin.press_button(OpCb(action="rec_hist", arg=f"station~{STATION}").pack())
            requests = await admin.press_button(OpCb(action="rec_undo", arg=str(row[0])).pack())
            assert acks(requests) == [translated(SAVED, lang)]
        assert stored_record(settings, "station", STATION) == original

    await with_next_vote(settings, bot, session, test)


async def told(db: Database) -> dict[int, list]:
    return {
        user: [p for kind, p, _, _ in await db.outbox_rows(user) if kind == "vote_dated"]
        for user in (1, 2)
    }


@pytest.mark.parametrize("lang", LANGS)
async def test_a_vote_gets_a_date_and_those_who_asked_are_told_once(settings, bot, session, lang):
    async def test(dp: Dispatcher) -> None:
        db: Database = dp["db"]
        await db.set_reminder_prefs(1, "kk", ReminderPrefs(True, None))
        await db.set_reminder_prefs(2, "ru", ReminderPrefs(False, None))
        admin = person(dp, bot, session, ADMIN, lang)
        original = stored_record(settings, "vote", VOTE)
        await admin.send("/admin")
        await admin.press_button(OpCb(action="votes").pack())
        await admin.press_button(OpCb(action="vote", arg=VOTE).pack())
        await admin.press_button(OpCb(action="vt_date", arg=VOTE).pack())
        assert only_text(await admin.send("2027-13-01")).startswith(prefix(REFUSED, lang))
        sent = texts(await admin.send("2027-08-15"))
        assert sent[0].startswith(translated("Preview:", lang))
        assert await told(db) == {1: [], 2: []}  # nothing before Save
        assert await save(admin) == [translated(SAVED, lang)]
        assert str(dp["library"].content.vote(VOTE).date) == "2027-08-15"
        expected = {1: [{"vote": VOTE, "date": "2027-08-15"}], 2: []}
        assert await told(db) == expected
        # The same date again changes nothing and tells nobody twice.
        await admin.press_button(OpCb(action="vt_date", arg=VOTE).pack())
        await admin.send("2027-08-15")
        assert await save(admin) == [
            translated("Nothing to change: the record already is so.", lang)
        ]
        assert await told(db) == expected

        [(row_id, *_)] = audit(settings, "vote")
        await admin.press_button(OpCb(action="rec_hist", arg=f"vote~{VOTE}").pack())
        await admin.press_button(OpCb(action="rec_undo", arg=str(row_id)).pack())
        assert stored_record(settings, "vote", VOTE) == original
        assert dp["library"].content.vote(VOTE).date is None

    await with_next_vote(settings, bot, session, test)


@pytest.mark.parametrize("step", [s.state for g in content_edit.GROUPS for s in g.__all_states__])
async def test_the_cancel_button_leaves_every_step(dp, bot, session, settings, step):
    admin = person(dp, bot, session, ADMIN, "ru")
    await admin.send("/admin")
    context = dp.fsm.get_context(bot=bot, chat_id=ADMIN, user_id=ADMIN)
    await context.set_state(step)
    requests = await admin.press(OpCb(action="ce_cancel").pack(), admin.last_message())
    assert acks(requests) == [translated("Cancelled.", "ru")]
    assert await context.get_state() is None


@pytest.mark.parametrize("lang", LANGS)
async def test_forged_and_out_of_step_buttons_get_a_polite_refusal(
    dp, bot, session, settings, lang
):
    admin = person(dp, bot, session, ADMIN, lang)
    await admin.send("/admin")
    before = dp["library"].content
    forged = [
        OpCb(action="no-such-action").pack(),
        "op:st:",
        OpCb(action="ce_save").pack(),  # no preview to save
        OpCb(action="st", arg="no_such_station").pack(),
        OpCb(action="st_fig", arg=f"{STATION}~mission").pack(),
        OpCb(action="vote", arg="no-such-vote").pack(),
        OpCb(action="vt_status", arg=f"{VOTE}~cancelled").pack(),
        OpCb(action="rec_hist", arg="party~amanat").pack(),
        OpCb(action="rec_undo", arg="999").pack(),
        OpCb(action="new_sec", arg="abroad").pack(),  # not at that step
        OpCb(action="ph", arg="no.such_entry").pack(),
    ]
    for data in forged:
        requests = await admin.press(data, admin.last_message())
        assert acks(requests) == [translated(OUT_OF_DATE, lang)], data
    assert dp["library"].content == before
    assert audit(settings) == audit(settings, "station") == audit(settings, "vote") == []
