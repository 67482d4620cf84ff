"""Reading and writing the human-readable YAML in `data/`.

Errors name the file, the record and the field, so an operator can fix a pull request
without reading a traceback.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.content.models import (
    Content,
    ElectionNote,
    FaqEntry,
    Intent,
    Party,
    Station,
    StationCountry,
    Vote,
)


class ContentError(Exception):
    """Content that cannot be imported; str() lists every problem, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# top-level key in a file -> (Content field, model)
_SECTIONS: dict[str, tuple[str, type[BaseModel]]] = {
    "entries": ("faq", FaqEntry),
    "votes": ("votes", Vote),
    "notes": ("election_notes", ElectionNote),
    "parties": ("parties", Party),
    "stations": ("stations", Station),
    "countries": ("countries", StationCountry),
    "intents": ("intents", Intent),
}


def _describe(record: Any, index: int) -> str:
    if isinstance(record, dict):
        key = record.get("id") or record.get("country")
        if key:
            return f"{key!r}"
    return f"#{index + 1}"


def format_error(err: Any) -> str:
    where = ".".join(str(part) for part in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _load_file(
    path: Path, into: dict[str, list[Any]], problems: list[str], origins: dict[str, Path]
) -> None:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read: {exc}")
        return
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problems.append(f"{path}:{where} not valid YAML: {getattr(exc, 'problem', exc)}")
        return
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{path}: expected a mapping with one of: {', '.join(_SECTIONS)}")
        return
    for key, records in raw.items():
        if key not in _SECTIONS:
            problems.append(
                f"{path}: unknown key {key!r} (expected one of: {', '.join(_SECTIONS)})"
            )
            continue
        if not isinstance(records, list):
            problems.append(f"{path}: {key!r} must be a list")
            continue
        field, model = _SECTIONS[key]
        for index, record in enumerate(records):
            try:
                into[field].append(model.model_validate(record))
                origins[str(getattr(into[field][-1], "id", None) or record.get("country"))] = path
            except ValidationError as exc:
                label = _describe(record, index)
                for err in exc.errors():
                    problems.append(f"{path}: {key} {label}: {format_error(err)}")


# The order topic files are read in is the order entries are listed and ranked on ties:
# general voting questions before their special cases abroad, then the institutions.
TOPIC_ORDER = ("voting", "abroad", "parliament", "parties", "constitution", "bot")


def _reading_order(path: Path) -> tuple[int, str]:
    rank = TOPIC_ORDER.index(path.stem) if path.stem in TOPIC_ORDER else len(TOPIC_ORDER)
    return rank, str(path)


def yaml_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            (p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")), key=_reading_order
        )
    return [path]


def load_content(path: Path, origins: dict[str, Path] | None = None) -> Content:
    """Parses and validates a YAML file or a folder of them; raises ContentError.

    `origins`, when given, is filled with each record's id and the file it came from."""
    if not path.exists():
        raise ContentError([f"{path}: no such file or folder"])
    files = yaml_files(path)
    if not files:
        raise ContentError([f"{path}: no .yaml files found"])
    collected: dict[str, list[Any]] = defaultdict(list)
    problems: list[str] = []
    for file in files:
        _load_file(file, collected, problems, {} if origins is None else origins)
    if problems:
        raise ContentError(problems)
    return Content(**collected)


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def _dump(path: Path, kinds: tuple[tuple[str, list[Any]], ...]) -> bool:
    data = {
        key: [r.model_dump(mode="json", exclude_defaults=True) for r in records]
        for key, records in kinds
        if records
    }
    if not data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100),
        encoding="utf-8",
    )
    return True


def dump_content(content: Content, folder: Path) -> list[Path]:
    """Writes content in the layout of `data/`: faq/<group>.yaml and one file per kind."""
    groups: dict[str, list[FaqEntry]] = defaultdict(list)
    for entry in content.faq:
        groups[entry.id.split(".", 1)[0]].append(entry)
    files: list[tuple[Path, tuple[tuple[str, list[Any]], ...]]] = [
        (folder / "faq" / f"{group}.yaml", (("entries", entries),))
        for group, entries in groups.items()
    ]
    files += [
        (folder / "elections.yaml", (("votes", content.votes), ("notes", content.election_notes))),
        (folder / "parties.yaml", (("parties", content.parties),)),
        (
            folder / "stations.yaml",
            (("stations", content.stations), ("countries", content.countries)),
        ),
        (folder / "offtopic.yaml", (("intents", content.intents),)),
    ]
    return [path for path, kinds in files if _dump(path, kinds)]
