"""Reminders (issue #8, the voter's side): planning in the user's zone with a fixed clock,
missed moments skipped, "a vote got its date" told once, /remind and /forget through the real
dispatcher, and reminder texts rendered outside an update in kk, ru and en."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import AnswerCallbackQuery
from conftest import (
    DATA_DIR,
    I18N,
    ChatDriver,
    buttons,
    copy_db,
    forget_reply,
    kept_line,
    only_text,
    translated,
)
from fake_telegram import FakeTelegram
from test_faults import TOKEN

from bot.config import load_settings
from bot.content.models import Content
from bot.content.sync import import_path
from bot.content.yaml_io import load_content
from bot.delivery import reminders
from bot.delivery.outage import Outage
from bot.delivery.outbox import ROW_LEASE, Deliverer
from bot.delivery.reminders import DEFAULTS, Renderers, plan_all, plan_user
from bot.library import Library
from bot.render import long_date
from bot.runner import make_bot
from bot.storage import Database, ReminderPrefs

VOTE_DAY = date(2027, 3, 17)  # a made-up date: New York moves to summer time on 14 March 2027
BEFORE = datetime(2027, 3, 1, 12, tzinfo=UTC)


def dated(content: Content, day: date = VOTE_DAY) -> Content:
    """The content with the Kurultai election (only its month is known) given `day`."""
    votes = [
        v.model_copy(update={"date": day}) if v.id == "kurultai-2026" else v for v in content.votes
    ]
    return content.model_copy(update={"votes": votes})


@pytest.fixture
def store(tmp_path: Path, template_db: Path) -> Path:
    copy_db(template_db, tmp_path / "saylau.db")
    return tmp_path / "saylau.db"


@pytest.fixture(scope="module")
def content() -> Content:
    return dated(load_content(DATA_DIR))


async def subscribe(
    db: Database, user_id: int, station: str | None, prefs: ReminderPrefs = DEFAULTS, lang="en"
) -> None:
    await db.set_reminder_prefs(user_id, lang, prefs)
    await db.set_station(user_id, lang, station)


async def due_times(db: Database, user_id: int) -> dict[str, datetime]:
    rows = await db.outbox_rows(user_id)
    return {
        payload["moment"]: datetime.fromisoformat(due)
        for kind, payload, state, due in rows
        if kind == reminders.KIND and state == "queued"
    }


# --- planning --------------------------------------------------------------------------------


async def test_moments_are_planned_at_local_hours_in_the_users_zone(store: Path, content):
    async with Database(store) as db:
        await subscribe(db, 1, None)  # at home: Astana's zone, UTC+5 all year
        await subscribe(db, 2, "new_york")  # EST until 14 March, EDT after
        await subscribe(db, 3, "tokyo")
        assert await plan_all(db, content, BEFORE) == 4 + 3 + 3
        assert await due_times(db, 1) == {
            "week": datetime(2027, 3, 10, 5, tzinfo=UTC),
            "day": datetime(2027, 3, 16, 5, tzinfo=UTC),
            "absentee": datetime(2027, 3, 16, 5, tzinfo=UTC),
            "morning": datetime(2027, 3, 17, 3, tzinfo=UTC),
        }
        # No absentee certificate abroad; the week-before one is still in winter time.
        assert await due_times(db, 2) == {
            "week": datetime(2027, 3, 10, 15, tzinfo=UTC),
            "day": datetime(2027, 3, 16, 14, tzinfo=UTC),
            "morning": datetime(2027, 3, 17, 12, tzinfo=UTC),
        }
        assert (await due_times(db, 3))["morning"] == datetime(2027, 3, 16, 23, tzinfo=UTC)


async def test_a_row_is_claimed_only_once_it_is_due(store: Path, content):
    async with Database(store) as db:
        await subscribe(db, 1, None, ReminderPrefs(False, ("morning",)))
        await plan_all(db, content, BEFORE)
        due = datetime(2027, 3, 17, 3, tzinfo=UTC)
        assert await db.outbox_next_due() == due
        early = await db.outbox_claim("t", 10, ROW_LEASE, due - timedelta(seconds=1))
        assert early == []
        [(_, _, user_id, locale)] = await db.outbox_claim("t", 10, ROW_LEASE, due)
        assert (user_id, locale) == (1, "en")


async def test_a_moment_already_past_is_not_planned(store: Path, content):
    async with Database(store) as db:
        await subscribe(db, 1, None)
        late = datetime(2027, 3, 16, 6, tzinfo=UTC)  # 11:00 in Astana the day before
        assert await plan_all(db, content, late) == 1
        assert set(await due_times(db, 1)) == {"morning"}


async def test_switching_moments_off_drops_their_rows_and_a_station_moves_them(
    store: Path, content
):
    async with Database(store) as db:
        await subscribe(db, 1, None)
        await plan_all(db, content, BEFORE)
        prefs = ReminderPrefs(False, ("day",))
        await db.set_reminder_prefs(1, "en", prefs)
        await db.set_station(1, "en", "london")
        await plan_user(db, content, 1, "london", prefs, BEFORE)
        assert await due_times(db, 1) == {"day": datetime(2027, 3, 16, 10, tzinfo=UTC)}
        await plan_user(db, content, 1, "london", ReminderPrefs(False, ()), BEFORE)
        assert await due_times(db, 1) == {}


async def test_a_missed_moment_is_skipped_at_send_time(store: Path, content):
    async with Database(store) as db:
        await subscribe(db, 1, None)
        library = Library(I18N, content)
        payload = {"vote": "kurultai-2026", "date": VOTE_DAY.isoformat(), "moment": "day"}
        on_time = Renderers(db, library, I18N, lambda: datetime(2027, 3, 16, 5, 30, tzinfo=UTC))
        assert await on_time.reminder(payload, "en", 1) is not None
        # The bot was down until voting day: "tomorrow" would now be wrong.
        too_late = Renderers(db, library, I18N, lambda: datetime(2027, 3, 16, 19, tzinfo=UTC))
        assert await too_late.reminder(payload, "en", 1) is None
        moved = Renderers(db, Library(I18N, dated(content, date(2027, 4, 4))), I18N, on_time.clock)
        assert await moved.reminder(payload, "en", 1) is None  # the vote's date changed


# --- "tell me when a vote gets a date" -------------------------------------------------------


async def test_a_vote_getting_a_date_is_announced_once(store: Path, tmp_path: Path):
    source = (DATA_DIR / "elections.yaml").read_text(encoding="utf-8")
    day = date.today() + timedelta(days=60)
    folder = tmp_path / "update"
    folder.mkdir()
    (folder / "elections.yaml").write_text(
        source.replace(
            "  - id: kurultai-2026\n    kind: parliamentary\n    date: null\n",
            f"  - id: kurultai-2026\n    kind: parliamentary\n    date: {day.isoformat()}\n",
        ),
        encoding="utf-8",
    )
    async with Database(store) as db:
        await subscribe(db, 1, None, ReminderPrefs(True, None))  # told, no reminders
        await subscribe(db, 2, "berlin")  # told, and reminders planned
        await subscribe(db, 3, None, ReminderPrefs(False, None))  # asked for nothing
        await subscribe(db, 4, None)
        await db.user_stopped(4)
        library = Library(I18N)
        await library.load(db)  # the running bot's snapshot, from before the import
        await import_path(db, folder)
        await import_path(db, folder)  # again: nobody is told twice
        told = {
            user: [p for kind, p, _, _ in await db.outbox_rows(user) if kind == "vote_dated"]
            for user in (1, 2, 3, 4)
        }
        expected = [{"vote": "kurultai-2026", "date": day.isoformat()}]
        assert told == {1: expected, 2: expected, 3: [], 4: []}
        assert set(await due_times(db, 2)) == {"week", "day", "morning"}
        assert await due_times(db, 1) == {}
        # The bot sees the import (another process's) when it renders.
        message = await Renderers(db, library, I18N).dated(expected[0], "en", 1)
        assert message is not None and long_date(day, "en") in message.text


# --- rendering outside an update -------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_reminders_render_in_the_recipients_language(store: Path, content, lang):
    async with Database(store) as db:
        await subscribe(db, 1, None, lang=lang)
        await subscribe(db, 2, "moscow", lang=lang)
        library = Library(I18N, content)
        render = Renderers(db, library, I18N, lambda: BEFORE)
        payload = {"vote": "kurultai-2026", "date": VOTE_DAY.isoformat(), "moment": "day"}
        home = await render.reminder(payload, lang, 1)
        abroad = await render.reminder(payload, lang, 2)
        assert home is not None and abroad is not None
        vote = content.vote("kurultai-2026")
        assert vote is not None
        for text in (home.text, abroad.text):
            assert long_date(VOTE_DAY, lang) in text
            assert vote.title.get(lang) in text
        hours = translated("Polling stations are open 07:00-20:00 local time.", lang)
        assert hours in home.text
        on_the_day = translated(
            "On voting day, {date} ({vote}): 07:00-20:00 local time, that is {window} Astana time.",
            lang,
        )
        day_and_vote = on_the_day.split("{window}")[0]  # the window depends on the zone
        assert day_and_vote.format(date=long_date(VOTE_DAY, lang), vote=vote.title.get(lang)) in (
            abroad.text
        )
        assert "Chistoprudny bulvar 3A" in abroad.text  # the chosen station's card
        assert "Chistoprudny" not in home.text
        absentee = {**payload, "moment": "absentee"}
        assert await render.reminder(absentee, lang, 2) is None  # abroad: no such thing
        certificate = await render.reminder(absentee, lang, 1)
        assert certificate is not None and "18:00" in certificate.text
        told = await render.dated({"vote": "kurultai-2026", "date": VOTE_DAY.isoformat()}, lang, 1)
        assert told is not None and long_date(VOTE_DAY, lang) in told.text
        assert told.markup is not None


# --- /remind, the menu button, a station card, /forget: the real dispatcher -----------------

OUT_OF_DATE = "This button is out of date."


def answered(requests) -> list[str | None]:
    return [r.text for r in requests if isinstance(r, AnswerCallbackQuery)]


async def test_remind_accepts_defaults_and_toggles_each_moment(chat, db: Database):
    user: ChatDriver = chat("en")
    text = only_text(await user.send("/remind"))
    assert translated("No upcoming vote has a date in our data yet.", "en") in text
    assert await db.reminder_prefs(user.user_id) is None
    await user.press_button(translated("Turn on reminders", "en"))
    assert await db.reminder_prefs(user.user_id) == DEFAULTS
    await user.press_button(translated("A week before, 10:00", "en"))
    await user.press_button(translated("Tell me when the next vote is announced", "en"))
    assert await db.reminder_prefs(user.user_id) == ReminderPrefs(
        False, ("day", "morning", "absentee")
    )
    labels = [b.text for b in buttons(user.last_message().reply_markup)]
    assert "▫️ " + translated("A week before, 10:00", "en") in labels
    assert "✅ " + translated("The day before, 10:00", "en") in labels
    await user.press_button(translated("Turn all reminders off", "en"))
    assert await db.reminder_prefs(user.user_id) == ReminderPrefs(False, ())


async def test_forged_remind_buttons_change_nothing(chat, db: Database):
    user: ChatDriver = chat("ru")
    await user.send("/remind")
    await user.press_button(translated("Turn on reminders", "ru"))
    for data in ("remind:toggle:bogus", "remind:drop_table:", "rstation:atlantis"):
        requests = await user.press(data)
        assert answered(requests) == [translated(OUT_OF_DATE, "ru")]
    assert await db.reminder_prefs(user.user_id) == DEFAULTS
    assert await db.user_station(user.user_id) is None


async def test_menu_button_and_a_dated_vote_plan_rows(chat, dp, db: Database):
    library: Library = dp["library"]
    day = date.today() + timedelta(days=60)
    library.use(dated(library.content, day))
    user: ChatDriver = chat("kk")
    await user.send("/menu")
    text = only_text(await user.press_button("menu:reminders"))
    assert long_date(day, "kk") in text
    await user.press_button(translated("Turn on reminders", "kk"))
    assert set(await due_times(db, user.user_id)) == {"week", "day", "morning", "absentee"}
    # A station card's button: that station's zone, no absentee certificate abroad.
    await user.press("station:berlin")
    await user.press_button("rstation:berlin")
    assert await db.user_station(user.user_id) == "berlin"
    due = await due_times(db, user.user_id)
    assert set(due) == {"week", "day", "morning"}
    assert due["morning"].astimezone(ZoneInfo("Europe/Berlin")).hour == 8
    assert (
        translated("Times are local time at your polling station in {city}.", "kk").format(
            city="Берлин"
        )
        in user.last_message().text
    )


async def test_a_station_card_reminder_turns_reminders_on(chat, db: Database):
    user: ChatDriver = chat("en")
    await user.press("station:tokyo")
    await user.press_button(translated("Remind me about this station", "en"))
    assert await db.user_station(user.user_id) == "tokyo"
    assert (await db.reminder_prefs(user.user_id)).moments == reminders.MOMENTS


async def test_forget_cancelled_deletes_nothing(chat, db: Database):
    user: ChatDriver = chat("en")
    await user.send("/remind")
    await user.press_button(translated("Turn on reminders", "en"))
    assert only_text(await user.send("/forget")) == forget_reply("en")
    assert only_text(await user.press_button("forget:0")) == translated(
        "Nothing was deleted.", "en"
    )
    assert await db.reminder_prefs(user.user_id) == DEFAULTS


async def test_forget_confirmed_deletes_subscription_station_and_outbox(chat, dp, db: Database):
    library: Library = dp["library"]
    library.use(dated(library.content, date.today() + timedelta(days=60)))
    user: ChatDriver = chat("ru")
    await user.press("station:istanbul")
    await user.press_button("rstation:istanbul")
    assert len(await db.outbox_rows(user.user_id)) == 3
    await user.send("/forget")
    text = only_text(await user.press_button("forget:1"))
    for part in (
        "your language choice",
        "the polling station you chose",
        "your reminder settings",
    ):
        assert translated(part, "ru") in text
    assert (
        I18N.gettext(
            "{n} announcement or reminder sent or waiting",
            "{n} announcements and reminders sent or waiting",
            3,
            locale="ru",
        ).format(n=3)
        in text
    )
    assert text.endswith(kept_line("ru"))
    assert await db.reminder_prefs(user.user_id) is None
    assert await db.user_station(user.user_id) is None
    assert await db.outbox_rows(user.user_id) == []


async def test_the_deliverer_sends_what_is_due_and_skips_what_was_missed(store: Path, content):
    """The bot was down for the week-before moment; at 10:00 the day before it sends that
    day's two reminders, skips the stale one and keeps voting day's for later."""
    now = datetime(2027, 3, 16, 5, 0, 30, tzinfo=UTC)  # 10:00:30 in Astana
    async with Database(store) as db, FakeTelegram(TOKEN) as tg:
        await subscribe(db, 1, None, lang="ru")
        await plan_all(db, content, BEFORE)
        settings = load_settings(_env_file=None, bot_token=TOKEN, bot_api_url=tg.url)
        bot = make_bot(settings, Outage())
        renderers = Renderers(db, Library(I18N, content), I18N, lambda: now).kinds()
        deliverer = Deliverer(db, bot, renderers, clock=lambda: now)
        deliverer.start()
        try:
            for _ in range(200):
                states = {p["moment"]: s for _, p, s, _ in await db.outbox_rows(1)}
                if "claimed" not in states.values() and list(states.values()).count("queued") == 1:
                    break
                await asyncio.sleep(0.05)
        finally:
            await deliverer.stop(5)
            await bot.session.close()
        assert states == {"week": "failed", "day": "sent", "absentee": "sent", "morning": "queued"}
        sent = [c.params["text"] for c in tg.calls("sendMessage") if c.ok]
        assert len(sent) == 2
        assert all(long_date(VOTE_DAY, "ru") in text for text in sent)


async def test_stop_holds_reminders_and_start_brings_back_those_to_come(store: Path, content):
    async with Database(store) as db:
        await subscribe(db, 1, None)
        soon = dated(content, date.today() + timedelta(days=60))
        await plan_all(db, soon, datetime.now(UTC))  # /start compares with the real clock
        assert len(await due_times(db, 1)) == 4
        assert await db.user_stopped(1) == 4
        assert await due_times(db, 1) == {}
        await db.user_returned(1)
        assert len(await due_times(db, 1)) == 4
