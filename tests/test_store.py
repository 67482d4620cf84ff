"""The SQLite store, YAML import/export, and the command line around them."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DATA_DIR, ROOT, clean_env, copy_db, translated

from bot.config import load_settings
from bot.content.models import MAX_ANSWER_CHARS, MAX_TITLE_CHARS
from bot.content.sync import export_path, import_path
from bot.content.yaml_io import ContentError, yaml_files
from bot.storage import MIGRATIONS, Database

ANSWER_KEYS = {"q", "lang", "id", "intent", "score", "answer", "suggestions"}


def dump(path: Path) -> list[str]:
    """Every row of every table, as SQL: 'exactly as it was' means these are equal."""
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def cli(*args: str, db: Path, stdin: str | None = None, cwd: Path, **env: str):
    """`python -m bot ...` in a clean environment (no .env: cwd is a scratch folder)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(PYTHONPATH=str(ROOT), DATABASE_PATH=str(db), **env),
        timeout=60,
    )


# --- schema ------------------------------------------------------------------------------------


async def test_migrations_create_the_schema_in_wal_mode(tmp_path: Path):
    path = tmp_path / "sub" / "dir" / "fresh.db"  # missing folders are created
    async with Database(path) as db:
        assert await db.schema_version() == len(MIGRATIONS)
        async with db.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with db.conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
        async with db.conn.execute("SELECT name FROM sqlite_master WHERE type='table'") as cur:
            tables = {row[0] for row in await cur.fetchall()}
        assert {"users", "faq_entries", "faq_translations", "records", "unanswered", "meta"} <= (
            tables
        )
        assert await db.content_is_empty()
        assert await db.content_version() == 0
    # Reopening runs nothing again and keeps the data.
    async with Database(path) as db:
        await db.set_locale(7, "ru")
    async with Database(path) as db:
        assert await db.schema_version() == len(MIGRATIONS)
        assert await db.get_locale(7) == "ru"


async def test_unanswered_log_has_no_user_column(tmp_path: Path):
    async with Database(tmp_path / "x.db") as db:
        async with db.conn.execute("PRAGMA table_info(unanswered)") as cur:
            columns = {row[1] for row in await cur.fetchall()}
        assert columns == {"id", "text", "lang", "asked_at", "suggested"}
        await db.record_unanswered("x" * 5000, "ru")
        [(text, lang, _)] = await db.unanswered()
        assert (len(text), lang) == (1000, "ru")
        await db.record_unsure("y" * 5000, "kk", ["voting.next", "voting.hours"])
        [(text, lang, _, offered)] = await db.unsure()
        assert (len(text), lang, offered) == (1000, "kk", ["voting.next", "voting.hours"])


async def test_retention_purges_unsure_questions_too(tmp_path: Path):
    async with Database(tmp_path / "x.db") as db:
        await db.record_unanswered("a", "ru")
        await db.record_unsure("b", "ru", ["voting.next"])
        await db.conn.execute("UPDATE unanswered SET asked_at = '2000-01-01T00:00:00+00:00'")
        assert await db.purge_unanswered(timedelta(days=1)) == 2
        assert await db.unanswered() == [] and await db.unsure() == []


async def test_tasks_sharing_the_connection_keep_out_of_each_others_transactions(
    tmp_path: Path, template_db: Path
):
    """An import running in the bot must neither take an inbox row down with its rollback nor
    collide with another task's transaction on the one shared connection."""
    path = tmp_path / "shared.db"
    copy_db(template_db, path)
    async with Database(path) as db:
        content = await db.load_content()
        version = await db.content_version()

        async def failing_change() -> None:
            async with db.transaction():
                await db.conn.execute("UPDATE meta SET value = '-1' WHERE key = 'content_version'")
                await asyncio.sleep(0.05)  # the other tasks run meanwhile
                raise RuntimeError("rejected")

        async def receive() -> None:
            await asyncio.sleep(0.01)
            await db.inbox_add([(1, "chat", "{}")])

        results = await asyncio.gather(
            failing_change(),
            receive(),
            db.save_content(content),
            db.save_content(content),
            return_exceptions=True,
        )
        assert isinstance(results[0], RuntimeError)
        assert results[1:] == [None, None, None]
        assert (await db.inbox_counts())["pending"] == 1
        assert await db.content_version() == version + 2


async def test_users_locale_and_forget(tmp_path: Path):
    async with Database(tmp_path / "x.db") as db:
        assert await db.get_locale(1) is None
        await db.set_locale(1, "kk")
        await db.set_locale(1, "en")
        assert await db.get_locale(1) == "en"
        assert (await db.forget_user(1)).language is True
        assert await db.get_locale(1) is None
        assert (await db.forget_user(1)).language is False
    async with Database(tmp_path / "x.db") as db:  # not just the cache
        assert await db.get_locale(1) is None


async def test_forget_deletes_the_record_of_finished_updates_but_answers_queued_ones(
    tmp_path: Path,
):
    async with Database(tmp_path / "x.db") as db:
        await db.inbox_add([(1, "chat:7", "{}"), (2, "chat:8", "{}"), (3, "user:7", "{}")])
        for update_id, _payload in await db.inbox_claim(limit=3):
            await db.inbox_finish(update_id, "handled")
        await db.inbox_add([(4, "chat:7", "{}")])  # arrived, not handled yet
        await db.forget_user(7)
        async with db.conn.execute("SELECT update_id FROM inbox ORDER BY update_id") as cur:
            assert [r[0] for r in await cur.fetchall()] == [2, 4]


# --- import and export ---------------------------------------------------------------------


async def test_import_export_round_trip(tmp_path: Path):
    async with Database(tmp_path / "first.db") as first:
        added = await import_path(first, DATA_DIR)
        assert await first.content_version() == 1
        original = await first.load_content()
        written = await export_path(first, tmp_path / "export")
    assert {c.verb for c in added} == {"added"}
    assert len(added) == sum(
        len(getattr(original, f))
        for f in ("faq", "votes", "election_notes", "parties", "stations", "countries", "intents")
    )
    assert original.faq and original.votes and original.parties and original.stations
    # Same layout as data/.
    assert {p.relative_to(tmp_path / "export") for p in written} == {
        p.relative_to(DATA_DIR) for p in yaml_files(DATA_DIR)
    }

    async with Database(tmp_path / "second.db") as second:
        await import_path(second, tmp_path / "export")
        assert await second.load_content() == original
        again = await export_path(second, tmp_path / "export2")
    for a, b in zip(sorted(written), sorted(again), strict=True):
        assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8"), a.name


async def test_titles_survive_import_and_export(tmp_path: Path):
    source = {e["id"]: e for p in yaml_files(DATA_DIR / "faq") for e in load(p)["entries"]}
    async with Database(tmp_path / "x.db") as db:
        await import_path(db, DATA_DIR)
        stored = await db.load_content()
        await export_path(db, tmp_path / "export")
    exported = {
        e["id"]: e for p in yaml_files(tmp_path / "export" / "faq") for e in load(p)["entries"]
    }
    assert set(exported) == set(source) == {e.id for e in stored.faq}
    for entry in stored.faq:
        for lang in ("kk", "ru", "en"):
            written = source[entry.id][lang]["title"]
            assert entry.text(lang).title == written
            assert exported[entry.id][lang]["title"] == written


async def test_a_store_filled_before_titles_shows_the_first_phrasing(tmp_path: Path):
    path = tmp_path / "x.db"
    async with Database(path) as db:
        await import_path(db, DATA_DIR)
    # What migration 11 leaves in rows stored before it: no title.
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE faq_translations SET title = ''")
    async with Database(path) as db:
        old = await db.load_content()
        for entry in old.faq:
            for lang in ("kk", "ru", "en"):
                text = entry.text(lang)
                first = " ".join(text.questions[0].split())
                cut = text.title.endswith("…") and first.startswith(text.title[:-1])
                assert text.title == first or cut, (entry.id, lang)
                assert len(text.title) <= MAX_TITLE_CHARS
        await import_path(db, DATA_DIR)  # a re-import brings the titles
        first_entry = load(DATA_DIR / "faq" / "voting.yaml")["entries"][0]
        assert (await db.load_content()).faq[0].kk.title == first_entry["kk"]["title"]


async def test_reimport_is_an_update_not_a_duplicate(tmp_path: Path, template_db: Path):
    path = tmp_path / "x.db"
    copy_db(template_db, path)
    async with Database(path) as db:
        before = await db.load_content()
        await import_path(db, DATA_DIR)
        assert await db.load_content() == before
        assert await db.content_version() == 2


async def test_replace_deletes_records_not_listed(tmp_path: Path, template_db: Path, data_copy):
    path = tmp_path / "x.db"
    copy_db(template_db, path)
    folder = data_copy()
    entries = yaml.safe_load((folder / "faq" / "bot.yaml").read_text(encoding="utf-8"))
    only = tmp_path / "only.yaml"
    only.write_text(yaml.safe_dump({"entries": entries["entries"][:1]}), encoding="utf-8")
    async with Database(path) as db:
        await import_path(db, only)  # merge: nothing deleted
        assert len((await db.load_content()).faq) > 1
        await import_path(db, only, replace=True)
        content = await db.load_content()
    assert [e.id for e in content.faq] == [entries["entries"][0]["id"]]
    assert content.votes and content.stations  # kinds the file did not carry are kept


# --- malformed content is rejected and changes nothing ----------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Callable[[], Path]:
    def make() -> Path:
        target = tmp_path / "data"
        if not target.exists():
            shutil.copytree(DATA_DIR, target)
        return target

    return make


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def save(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def plain_entry(data: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in data["entries"] if not e.get("render"))


def break_syntax(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "voting.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "    section: [elections")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, "", ["not valid YAML", "line"]


def unknown_key(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "abroad.yaml"
    data = load(path)
    entry = plain_entry(data)
    entry["colour"] = "red"
    save(path, data)
    return path, entry["id"], ["colour", "Extra inputs are not permitted"]


def unknown_top_level_key(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "parties.yaml"
    data = load(path)
    data["partys"] = data.pop("parties")
    save(path, data)
    return path, "", ["unknown key 'partys'"]


def missing_answer(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "constitution.yaml"
    data = load(path)
    entry = plain_entry(data)
    del entry["en"]["answer"]
    save(path, data)
    return path, entry["id"], ["en: answer is empty"]


def long_answer(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "voting.yaml"
    data = load(path)
    entry = plain_entry(data)
    entry["ru"]["answer"] = "Очень длинный ответ. " * (MAX_ANSWER_CHARS // 20 + 5)
    save(path, data)
    return path, entry["id"], ["ru.answer", f"more than {MAX_ANSWER_CHARS}"]


def missing_title(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "abroad.yaml"
    data = load(path)
    entry = plain_entry(data)
    del entry["kk"]["title"]
    save(path, data)
    return path, entry["id"], ["kk.title", "Field required"]


def long_title(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "bot.yaml"
    data = load(path)
    entry = plain_entry(data)
    entry["ru"]["title"] = "Очень длинная надпись на кнопке, которая не влезет"
    save(path, data)
    return path, entry["id"], ["ru.title", f"more than {MAX_TITLE_CHARS}"]


def html_title(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "parliament.yaml"
    data = load(path)
    entry = plain_entry(data)
    entry["en"]["title"] = "<b>Kurultai</b>"
    save(path, data)
    return path, entry["id"], ["en.title", "no HTML"]


def bad_html(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "bot.yaml"
    data = load(path)
    entry = plain_entry(data)
    entry["kk"]["answer"] = "<div>Сәлем</div>"
    save(path, data)
    return path, entry["id"], ["kk.answer", "tag <div> is not allowed"]


def unclosed_tag(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "bot.yaml"
    data = load(path)
    entry = plain_entry(data)
    entry["en"]["answer"] = "<b>never closed"
    save(path, data)
    return path, entry["id"], ["en.answer", "<b> is never closed"]


def bad_date(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "parliament.yaml"
    data = load(path)
    entry = plain_entry(data)
    entry["verified"] = "yesterday"
    save(path, data)
    return path, entry["id"], ["verified"]


def unknown_party(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "parties.yaml"
    data = load(path)
    entry = next(e for e in data["entries"] if (e.get("render") or "").startswith("party:"))
    entry["render"] = "party:nosuch"
    save(path, data)
    return path, entry["id"], ["unknown party 'nosuch'"]


def unknown_vote(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "stations.yaml"
    data = load(path)
    station = data["stations"][0]
    station["votes"] = {"no-such-vote": "operated"}
    save(path, data)
    return path, station["id"], ["unknown vote 'no-such-vote'"]


def duplicate_id(folder: Path) -> tuple[Path, str, list[str]]:
    path = folder / "faq" / "extra.yaml"
    first = load(folder / "faq" / "voting.yaml")["entries"][1]
    save(path, {"entries": [first]})
    return path, first["id"], ["appears 2 times"]


BREAKAGES = [
    break_syntax,
    unknown_key,
    unknown_top_level_key,
    missing_answer,
    long_answer,
    missing_title,
    long_title,
    html_title,
    bad_html,
    unclosed_tag,
    bad_date,
    unknown_party,
    unknown_vote,
    duplicate_id,
]
# Problems found across records (references, duplicates) are reported without the file.
CROSS_RECORD = {unknown_party, unknown_vote, duplicate_id}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__)
async def test_malformed_content_is_rejected_and_changes_nothing(
    tmp_path: Path, template_db: Path, data_copy, breakage
):
    path = tmp_path / "x.db"
    copy_db(template_db, path)
    before = dump(path)
    folder = data_copy()
    bad_file, record, words = breakage(folder)

    async with Database(path) as db:
        with pytest.raises(ContentError) as caught:
            await import_path(db, folder)
    message = str(caught.value)
    assert len(caught.value.problems) >= 1
    if breakage not in CROSS_RECORD:
        assert str(bad_file) in message
    if record:
        assert repr(record) in message or record in message
    for word in words:
        assert word in message
    assert dump(path) == before


async def test_reference_problems_name_the_file(tmp_path: Path, template_db: Path, data_copy):
    path = tmp_path / "x.db"
    copy_db(template_db, path)
    bad_file, _, _ = unknown_party(data_copy())
    async with Database(path) as db:
        with pytest.raises(ContentError) as caught:
            await import_path(db, bad_file.parent.parent)
    assert bad_file.name in str(caught.value)


async def test_rejected_import_into_an_empty_store_leaves_it_empty(tmp_path: Path, data_copy):
    folder = data_copy()
    missing_answer(folder)
    async with Database(tmp_path / "x.db") as db:
        with pytest.raises(ContentError):
            await import_path(db, folder)
        assert await db.content_is_empty()
        assert await db.content_version() == 0
        assert await db.load_content() == type(await db.load_content())()


async def test_every_problem_is_listed(tmp_path: Path, data_copy):
    folder = data_copy()
    bad_html(folder)
    long_answer(folder)
    async with Database(tmp_path / "x.db") as db:
        with pytest.raises(ContentError) as caught:
            await import_path(db, folder)
    message = str(caught.value)
    assert "bot.yaml" in message and "voting.yaml" in message


# --- the command line ---------------------------------------------------------------------


def test_cli_import_and_export(tmp_path: Path):
    db = tmp_path / "cli.db"
    done = cli("import", str(DATA_DIR), db=db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Imported ")
    assert " added" in done.stdout and str(db) in done.stdout
    assert done.stderr == ""
    # A dry run of the same content against the filled store changes nothing and says so.
    done = cli("import", "--dry-run", str(DATA_DIR), db=db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("no changes")

    out = tmp_path / "out"
    done = cli("export", str(out), db=db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    files = sorted(p.relative_to(out) for p in out.rglob("*.yaml"))
    assert f"Wrote {len(files)} files" in done.stdout
    assert files == sorted(p.relative_to(DATA_DIR) for p in yaml_files(DATA_DIR))


async def test_export_of_a_new_store_writes_the_bundled_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """`python -m bot export` on a database the bot has never opened: the store is filled from
    data/ on first open, as the bot fills it, so the export holds the bundled content."""
    from bot.__main__ import _export

    settings = load_settings(_env_file=None, database_path=tmp_path / "new.db")
    out = tmp_path / "out"
    await _export(settings, out)
    files = sorted(p.relative_to(out) for p in out.rglob("*.yaml"))
    assert files == sorted(p.relative_to(DATA_DIR) for p in yaml_files(DATA_DIR))
    assert capsys.readouterr().out.startswith(f"Wrote {len(files)} files")
    async with Database(tmp_path / "check.db") as check:
        await import_path(check, out)
        exported = await check.load_content()
    async with Database(tmp_path / "new.db") as new:
        assert exported == await new.load_content()
        assert exported.faq and exported.stations and exported.intents


def test_cli_import_rejects_bad_content(tmp_path: Path, template_db: Path, data_copy):
    db = tmp_path / "cli.db"
    copy_db(template_db, db)
    before = dump(db)
    folder = data_copy()
    bad_file, record, words = bad_html(folder)

    done = cli("import", str(folder), db=db, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "store is unchanged" in done.stderr
    assert str(bad_file) in done.stderr and record in done.stderr and words[1] in done.stderr
    assert "Traceback" not in done.stderr
    assert dump(db) == before

    done = cli("import", str(tmp_path / "nowhere"), db=db, cwd=tmp_path)
    assert done.returncode == 1
    assert "no such file or folder" in done.stderr and "Traceback" not in done.stderr


def test_cli_ask_one_question(tmp_path: Path, template_db: Path):
    db = tmp_path / "cli.db"
    copy_db(template_db, db)
    done = cli("ask", "--json", "--lang", "ru", "Когда выборы в Курултай?", db=db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    result = json.loads(line)
    assert set(result) == ANSWER_KEYS
    assert result["q"] == "Когда выборы в Курултай?"
    assert result["lang"] == "ru"
    assert result["id"] == "parliament.kurultai_election"
    assert result["score"] > 0.5
    assert "Курултай" in result["answer"] and "Источники" in result["answer"]
    assert result["suggestions"] == []


def test_cli_ask_json_lines(tmp_path: Path, template_db: Path):
    db = tmp_path / "cli.db"
    copy_db(template_db, db)
    lines = [
        {"q": "Когда выборы в Курултай?", "lang": "ru", "expected": "ignored", "n": 1},
        "this is not json",
        {"q": "What is the Kurultai?", "lang": "en"},
        {"lang": "ru"},
        {"q": "Құрылтай деген не?"},  # no lang: the default (kk)
        {"q": "x", "lang": "de"},
        {"q": 42, "lang": "en"},
        [1, 2],
        {"q": "recipe for chocolate cake", "lang": "en"},
        {"q": "hi how are you", "lang": "en"},
    ]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n\n"
    done = cli("ask", "--json", db=db, stdin=stdin, cwd=tmp_path)

    assert done.returncode == 1  # some lines were bad
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(set(r) == ANSWER_KEYS for r in results)
    assert [(r["q"], r["lang"], r["id"]) for r in results] == [
        ("Когда выборы в Курултай?", "ru", "parliament.kurultai_election"),
        ("What is the Kurultai?", "en", "parliament.kurultai"),
        ("Құрылтай деген не?", "kk", "parliament.kurultai"),
        ("recipe for chocolate cake", "en", None),
        ("hi how are you", "en", None),
    ]
    assert (results[-2]["answer"], results[-2]["intent"]) == (None, "offtopic")
    # Small talk is no entry, but `ask` answers it as the chat does.
    assert results[-1]["intent"] == "smalltalk.how_are_you"
    assert results[-1]["answer"] == translated(
        "I am fine, thank you! I am here to answer questions about elections in Kazakhstan: "
        "ask in your own words, or pick a section:",
        "en",
    )
    errors = done.stderr.splitlines()
    assert [e.split(":")[0] for e in errors] == ["line 2", "line 4", "line 6", "line 7", "line 8"]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "BOT_TOKEN is not set"),
        ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN is malformed"),
        ({"BOT_TOKEN": "123456:TEST", "ADMIN_IDS": "1, two ,3"}, "ADMIN_IDS"),
        ({"BOT_TOKEN": "123456:TEST", "BOT_API_URL": "ftp://example"}, "BOT_API_URL"),
        ({"BOT_TOKEN": "123456:TEST", "DEFAULT_LOCALE": "de"}, "DEFAULT_LOCALE"),
        ({"BOT_TOKEN": "123456:TEST", "WEBHOOK_PORT": "99999"}, "WEBHOOK_PORT"),
    ],
    ids=["no-token", "bad-token", "bad-admin-ids", "bad-api-url", "bad-locale", "bad-port"],
)
def test_cli_run_with_bad_settings_says_one_line(tmp_path: Path, env, expected):
    done = cli("run", db=tmp_path / "run.db", cwd=tmp_path, **env)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert expected in lines[0]
    assert "123456:TEST" not in done.stderr  # the token is never printed
