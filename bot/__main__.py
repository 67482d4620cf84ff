"""Command line: `python -m bot run|chat|ask|import|export|announce|outbox`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot import LOCALES
from bot.config import Settings, SettingsError, load_settings
from bot.content.yaml_io import ContentError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot against Telegram (needs BOT_TOKEN)")
    chat = commands.add_parser("chat", help="chat with the bot in this terminal, no token needed")
    chat.add_argument("--lang", choices=LOCALES, help="your Telegram language (default: none)")
    ask = commands.add_parser("ask", help="answer one question, or JSON lines from stdin")
    ask.add_argument("--lang", choices=LOCALES, default=None)
    ask.add_argument("--json", action="store_true", help="print a JSON line")
    ask.add_argument("question", nargs="?", help="the question (else JSON lines on stdin)")
    imp = commands.add_parser("import", help="validate and load YAML content into the store")
    imp.add_argument("path", type=Path)
    imp.add_argument(
        "--replace", action="store_true", help="delete records of the imported kinds not listed"
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="show what would change, change nothing"
    )
    exp = commands.add_parser("export", help="write the store's content out as YAML")
    exp.add_argument("path", type=Path)
    ann = commands.add_parser(
        "announce", help="write an announcement and its outbox; the running bot sends it"
    )
    for lang in LOCALES:
        ann.add_argument(f"--text-{lang}", default="", metavar="T", help=f"the text in {lang}")
    ann.add_argument("--audience", default="all", help="all, lang:L or country:CC")
    ann.add_argument(
        "--at", type=_moment, default=None, help="ISO-8601 time with offset (default: now)"
    )
    commands.add_parser("outbox", help="per announcement and reminder batch: what was sent")
    return parser


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs its offset, e.g. +05:00 or Z")
    return moment


async def _run(settings: Settings) -> None:
    settings.token()  # a missing or malformed token fails before the slow imports below
    from bot.runner import run_bot

    await run_bot(settings)


async def _chat(settings: Settings, lang: str | None) -> None:
    from bot.dispatcher import build_dispatcher
    from bot.terminal import TerminalChat

    await TerminalChat(build_dispatcher(settings), language_code=lang).run()


def _questions(stdin: TextIO, default_lang: str) -> Iterator[tuple[str, str] | str]:
    """(question, lang) per JSON line; a line that is not usable yields an error text."""
    for number, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question, lang = row["q"], row.get("lang") or default_lang
            if not isinstance(question, str) or lang not in LOCALES:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            yield f'line {number}: expected {{"q": text, "lang": kk|ru|en}}'
            continue
        yield question, lang


async def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.answering import Answerer

    default_lang = args.lang or settings.default_locale
    async with Answerer(settings) as answerer:
        if args.question is not None:
            result = answerer.ask(args.question, default_lang)
            print(json.dumps(result, ensure_ascii=False) if args.json else answerer.as_text(result))
            return 0
        status = 0
        for item in _questions(sys.stdin, default_lang):
            if isinstance(item, str):
                print(item, file=sys.stderr)
                status = 1
                continue
            print(json.dumps(answerer.ask(*item), ensure_ascii=False), flush=True)
        return status


async def _import(settings: Settings, path: Path, replace: bool, dry_run: bool) -> None:
    from bot.content.sync import import_path
    from bot.storage import Database

    async with Database(settings.database_path) as db:
        found = await import_path(db, path, replace=replace, dry_run=dry_run)
        for change in found if dry_run else ():
            print(f"{change.verb} {change.kind} {change.record_id}")
            for edit in await db.operator_edits_since_import(change.kind, change.record_id):
                print(f"  overwrites operator edit #{edit.id} by {edit.actor} at {edit.at}")
    counts = Counter(change.verb for change in found)
    summary = ", ".join(f"{n} {label}" for label, n in sorted(counts.items())) or "no changes"
    verb = "Would import" if dry_run else "Imported"
    print(f"{verb} into {settings.database_path}: {summary}")


async def _export(settings: Settings, path: Path) -> None:
    from bot.content.sync import export_path, open_store
    from bot.storage import Database

    db = Database(settings.database_path)
    try:
        # As the bot opens it: a new store holds the bundled content, and that is exported.
        await open_store(settings, db)
        written = await export_path(db, path)
    finally:
        await db.close()
    print(f"Wrote {len(written)} files to {path}")


async def _announce(settings: Settings, args: argparse.Namespace) -> int:
    from bot.delivery.announcements import AnnouncementError, announce
    from bot.storage import Database

    texts = {lang: getattr(args, f"text_{lang}") for lang in LOCALES}
    async with Database(settings.database_path) as db:
        try:
            broadcast_id, recipients = await announce(db, texts, args.audience, args.at)
        except AnnouncementError as exc:
            print(f"Announcement not written: {exc}", file=sys.stderr)
            return 1
    print(f"announcement {broadcast_id}: {recipients} recipients")
    return 0


async def _outbox(settings: Settings) -> None:
    from bot.storage import Database

    async with Database(settings.database_path) as db:
        report = await db.outbox_report()
    print(f"{'id':>5}  {'kind':<12} {'audience':<11} {'send at (UTC)':<25} "
          f"{'queued':>7} {'sent':>7} {'failed':>7} {'blocked':>7}")  # fmt: skip
    for row in report:
        state = "  cancelled" if row["state"] == "cancelled" else ""
        print(
            f"{row['id']:>5}  {row['kind']:<12} {row['audience']:<11} {row['send_at']:<25} "
            f"{row['queued']:>7} {row['sent']:>7} {row['failed']:>7} {row['blocked']:>7}{state}"
        )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command == "run" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
        if args.command == "run":
            asyncio.run(_run(settings))
        elif args.command == "chat":
            asyncio.run(_chat(settings, args.lang))
        elif args.command == "ask":
            return asyncio.run(_ask(settings, args))
        elif args.command == "import":
            asyncio.run(_import(settings, args.path, args.replace, args.dry_run))
        elif args.command == "export":
            asyncio.run(_export(settings, args.path))
        elif args.command == "announce":
            return asyncio.run(_announce(settings, args))
        elif args.command == "outbox":
            asyncio.run(_outbox(settings))
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except ContentError as exc:
        print(f"Content rejected, the store is unchanged:\n{exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Ctrl-C ends the terminal chat as Ctrl-D does; anything else was interrupted.
        return 0 if args.command == "chat" else 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
