"""Command line: `python -m bot run|chat|ask|import|export`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from collections.abc import Iterator
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
    return parser


async def _run(settings: Settings) -> None:
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
    from bot.content.sync import export_path
    from bot.storage import Database

    async with Database(settings.database_path) as db:
        written = await export_path(db, path)
    print(f"Wrote {len(written)} files to {path}")


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
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except ContentError as exc:
        print(f"Content rejected, the store is unchanged:\n{exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
