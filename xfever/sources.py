"""KILT FEVER records in: local `.jsonl` files or the Hub (`facebook/kilt_tasks`, config `fever`).

A record is `{"id", "input", "output": [{"answer": "SUPPORTS"|"REFUTES"|"NOT ENOUGH INFO"}, ...],
"rephrases"?: [str, ...]}` (the KnowledgeEditor release adds `rephrases`). NOT ENOUGH INFO rows are
dropped and counted; every other problem is an ToolkitError naming file, line and field.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import ToolkitError, UsageError, at
from common.identity import COMMIT_SHA, sha256_file
from xfever.schema import LABELS, NOT_ENOUGH_INFO

log = logging.getLogger(__name__)

HUB_CONFIG = "fever"


@dataclass(frozen=True)
class Claim:
    """One English row: KILT id, label, claim text and (possibly no) English rephrases."""

    id: str
    label: str
    claim: str
    rephrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """Rows read from one input and where they came from (for build.json and the card)."""

    role: str  # train | dev | edit | validation | test
    location: str  # file name or Hub id as given
    claims: tuple[Claim, ...]
    dropped_nei: int
    sha256: str | None = None  # local files
    revision: str | None = None  # Hub datasets: resolved commit
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "source": Path(self.location).name if self.sha256 else self.location,
            "sha256": self.sha256,
            "revision": self.revision,
            "rows_kept": len(self.claims),
            "rows_dropped_not_enough_info": self.dropped_nei,
            **self.extra,
        }


def _label(record: dict, where: tuple[object, int | None]) -> str:
    output = record.get("output")
    if isinstance(output, dict) and isinstance(output.get("answer"), list):
        # `datasets` gives a legacy Sequence-of-dict feature as a dict of lists (older Hub revisions)
        output = [{"answer": answer} for answer in output["answer"]]
    if output is None:
        raise ToolkitError(f"{at(*where, 'output')}: missing")
    if not isinstance(output, list) or not output or not isinstance(output[0], dict):
        raise ToolkitError(f"{at(*where, 'output')}: expected a non-empty list of {{'answer': ...}} objects")
    answer = output[0].get("answer")
    if answer not in (*LABELS, NOT_ENOUGH_INFO):
        raise ToolkitError(
            f"{at(*where, 'output[0].answer')}: unknown label {answer!r} "
            f"(expected {', '.join(LABELS)} or {NOT_ENOUGH_INFO})"
        )
    return str(answer)


def claim_from_record(record: Any, path: object, line: int | None = None) -> Claim | None:
    """Convert one KILT FEVER record; None for a NOT ENOUGH INFO row. Raises ToolkitError on bad rows."""
    where = (path, line)
    if not isinstance(record, dict):
        raise ToolkitError(f"{at(path, line)}: expected a JSON object, got {type(record).__name__}")
    rid = record.get("id")
    if rid is None or str(rid).strip() == "":
        raise ToolkitError(f"{at(*where, 'id')}: missing")
    if "input" not in record:
        raise ToolkitError(f"{at(*where, 'input')}: missing")
    text = record["input"]
    if not isinstance(text, str) or not text.strip():
        raise ToolkitError(f"{at(*where, 'input')}: empty claim")
    label = _label(record, where)
    if label == NOT_ENOUGH_INFO:
        return None
    rephrases = record.get("rephrases") or []
    if not isinstance(rephrases, list) or not all(isinstance(r, str) for r in rephrases):
        raise ToolkitError(f"{at(*where, 'rephrases')}: expected a list of strings")
    return Claim(str(rid), label, text.strip(), tuple(r.strip() for r in rephrases if r.strip()))


def collect(records: Iterable[tuple[int | None, Any]], path: object) -> tuple[list[Claim], int]:
    """Convert records, refusing duplicate ids; return (claims, NOT ENOUGH INFO rows dropped)."""
    claims: list[Claim] = []
    first_seen: dict[str, int | None] = {}
    dropped = 0
    for line, record in records:
        claim = claim_from_record(record, path, line)
        if claim is None:
            dropped += 1
            continue
        if claim.id in first_seen:
            seen = first_seen[claim.id]
            where = f" (first on line {seen})" if seen is not None else ""
            raise ToolkitError(f"{at(path, line, 'id')}: duplicate id {claim.id!r}{where}")
        first_seen[claim.id] = line
        claims.append(claim)
    return claims, dropped


def _jsonl_records(path: Path) -> Iterator[tuple[int, Any]]:
    # utf-8-sig: files saved by Windows editors (and pandas `to_json(..., encoding="utf-8-sig")`) start
    # with a byte-order mark, which json.loads refuses; universal newlines already take care of CRLF.
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    yield number, json.loads(raw)
                except json.JSONDecodeError as err:
                    raise ToolkitError(f"{at(path, number)}: {_json_problem(raw, err)}") from None
    except UnicodeDecodeError as err:
        raise ToolkitError(f"{path}: not UTF-8 text ({err.reason})") from None
    except OSError as err:
        raise ToolkitError(f"{path}: cannot read ({err.strerror or err})") from None


def _json_problem(raw: str, err: json.JSONDecodeError) -> str:
    """What is wrong with a line json.loads refused, in words: a line that stops before its record
    is complete (a file cut short, a record split over lines) is told apart from other bad JSON."""
    if err.pos >= len(raw.rstrip()) or err.msg.startswith("Unterminated string"):
        return (
            f"malformed JSON: the record is cut short (the line ends at column {len(raw.rstrip())} "
            "before the JSON object is complete; was the file truncated, or a record split over lines?)"
        )
    return f"malformed JSON ({err.msg}, column {err.colno})"


def is_local(location: str) -> bool:
    """A path (existing, or shaped like a file) rather than a Hub id `ORG/NAME`."""
    path = Path(location)
    return path.exists() or path.suffix in {".jsonl", ".json"} or location.startswith((".", "/", "~"))


def read_local(path: str | Path, role: str) -> Source:
    path = Path(path).expanduser()
    if not path.is_file():
        raise ToolkitError(
            f"{path}: cannot read (no such file)" if not path.exists() else f"{path}: not a file"
        )
    claims, dropped = collect(_jsonl_records(path), path)
    if not claims:
        raise ToolkitError(f"{path}: no SUPPORTS/REFUTES rows")
    log.info("%s: %d rows (%d NOT ENOUGH INFO dropped)", path.name, len(claims), dropped)
    return Source(role, str(path), tuple(claims), dropped, sha256=sha256_file(path))


def read_hub(repo_id: str, split: str, role: str, *, cache_dir: str | None = None) -> Source:
    """KILT FEVER from the Hub; `repo_id` may end in `@REVISION`. Config `fever`.

    Online, the revision is resolved to its commit first and loaded at that commit. Offline
    (`HF_HUB_OFFLINE=1`), nothing asks the Hub: the commit comes from the Hub cache's `refs/` (what
    `main` or the given branch pointed to when it was downloaded) and `datasets` loads its cached copy.
    """
    from huggingface_hub import HfApi
    from huggingface_hub import constants as hub

    from common.dataset_loading import load_split

    name, _, revision = repo_id.partition("@")
    extra = {"hub_config": HUB_CONFIG, "hub_split": split}
    try:
        if hub.HF_HUB_OFFLINE:
            sha = cached_dataset_commit(name, revision or None, cache_dir)
            extra["resolved"] = "offline, from the Hub cache" if sha else "offline; commit unknown"
            load_at = sha or revision or None
        else:
            sha = load_at = HfApi().dataset_info(name, revision=revision or None).sha
        data = load_split(name, HUB_CONFIG, split, revision=load_at, cache_dir=cache_dir)
    except Exception as err:  # network, auth, missing repo, nothing cached offline: all user-facing
        hint = "" if hub.HF_HUB_OFFLINE else " (offline with a cached copy? set HF_HUB_OFFLINE=1)"
        raise UsageError(
            f"--{role}: cannot load {repo_id!r} (config {HUB_CONFIG}, split {split}): {err}{hint}"
        ) from None
    where = f"{name}[{HUB_CONFIG}/{split}]"
    claims, dropped = collect(((i + 1, row) for i, row in enumerate(data)), where)
    return Source(role, name, tuple(claims), dropped, revision=sha, extra=extra)


def cached_dataset_commit(repo_id: str, revision: str | None, cache_dir: str | None = None) -> str | None:
    """The commit a dataset revision (default `main`) pointed to when the Hub cache downloaded it."""
    from huggingface_hub import constants as hub

    if revision and COMMIT_SHA.match(revision):
        return revision
    folder = "datasets--" + repo_id.replace("/", "--")
    for root in (cache_dir, hub.HF_HUB_CACHE):
        if root is None:
            continue
        try:
            commit = (Path(root) / folder / "refs" / (revision or "main")).read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if COMMIT_SHA.match(commit):
            return commit
    return None


def read_source(
    location: str, role: str, *, hub_split: str = "train", cache_dir: str | None = None
) -> Source:
    """Local `.jsonl` file or Hub id."""
    if is_local(location):
        return read_local(location, role)
    return read_hub(location, hub_split, role, cache_dir=cache_dir)
