"""Transcripts as text: `[mm:ss] ROLE: text` lines, SubRip cues and JSON turns.

One home for the rendering that `calls show`, `calls transcript` and `export-transcripts`
share. The lines are terminal-safe (they go to terminals and to files that get `cat`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from zazacli.sanitize import json_safe, plain_value, terminal_safe
from zazacli.times import parse_time


def transcript_turns(call: dict[str, Any]) -> list[dict[str, Any]]:
    turns = call.get("turns")
    if not isinstance(turns, list):
        return []
    return [t for t in turns if isinstance(t, dict)]


def transcript_origin(call: dict[str, Any], turns: list[dict[str, Any]]) -> datetime | None:
    """Offsets count from the call's start, else from its first timed turn."""
    start = parse_time(call.get("startedAt"))
    if start is not None:
        return start
    for turn in turns:
        stamp = parse_time(turn.get("timestamp"))
        if stamp is not None:
            return stamp
    return None


def turn_offset(turn: dict[str, Any], origin: datetime | None) -> float | None:
    stamp = parse_time(turn.get("timestamp"))
    if stamp is None or origin is None:
        return None
    return max(0.0, (stamp - origin).total_seconds())


def format_offset(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def transcript_lines(call: dict[str, Any], turns: list[dict[str, Any]] | None = None) -> list[str]:
    """`[mm:ss] ROLE: text`, one turn a line (newlines inside a turn folded, no raw control
    characters: these lines go to terminals and to files that get `cat`)."""
    turns = transcript_turns(call) if turns is None else turns
    origin = transcript_origin(call, turns)
    lines = []
    for turn in turns:
        text = _one_line(turn.get("text"))
        role = plain_value(turn.get("role") or "?")
        lines.append(f"[{format_offset(turn_offset(turn, origin))}] {role}: {text}")
    return lines


def _one_line(value: Any) -> str:
    """A turn's text on one line: whitespace runs folded, control characters visible."""
    return terminal_safe(" ".join(str(value or "").split()))


def _srt_time(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def to_srt(call: dict[str, Any], turns: list[dict[str, Any]] | None = None) -> str:
    """SubRip cues: each turn lasts until the next one starts (or ~reading time)."""
    turns = transcript_turns(call) if turns is None else turns
    origin = transcript_origin(call, turns)
    offsets: list[float] = []
    previous = 0.0
    for turn in turns:
        offset = turn_offset(turn, origin)
        previous = previous if offset is None else max(previous, offset)
        offsets.append(previous)
    blocks = []
    for index, turn in enumerate(turns):
        # One line per cue: a blank line inside a turn would end the cue early.
        text = _one_line(turn.get("text"))
        start = offsets[index]
        reading = max(1.0, min(10.0, len(text) / 15))
        end = offsets[index + 1] if index + 1 < len(turns) else start + reading
        if end <= start:
            end = start + reading
        role = plain_value(turn.get("role") or "?")
        blocks.append(f"{index + 1}\n{_srt_time(start)} --> {_srt_time(end)}\n{role}: {text}\n")
    return "\n".join(blocks)


def no_transcript_note(call: dict[str, Any]) -> str:
    """`no transcript: FAILED, CARRIER_ERROR`: why a call may have no turns, in the words
    of its status and failure reason (terminal-safe: both come from the API)."""
    said = [plain_value(call.get(key)) for key in ("status", "failureReason")]
    said = [text for text in said if text]
    return "no transcript" + (f": {', '.join(said)}" if said else "")


def transcript_file(call: dict[str, Any], fmt: str) -> str:
    """A transcript file's content: exactly what `zaza calls transcript -o FMT` prints."""
    turns = transcript_turns(call)
    if fmt == "json":
        return json_safe(json.dumps(turns, indent=2, ensure_ascii=False)) + "\n"
    if fmt == "srt":
        return to_srt(call, turns)
    return "".join(line + "\n" for line in transcript_lines(call, turns))
