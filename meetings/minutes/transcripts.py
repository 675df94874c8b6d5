"""Transcripts (WebVTT or timestamped plain text) split into speech blocks by time.

A conferencing system or speech-recognition service gives cues with times from the start of
the recording; the record gives each turn at the floor with its times. A cue belongs to the
turn whose span holds the cue's midpoint.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

MAX_BYTES = 5 * 1024 * 1024
_TS = r"(?:(\d{1,2}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?"
VTT_TIMING = re.compile(rf"^\s*{_TS}\s*-->\s*{_TS}")
TEXT_LINE = re.compile(rf"^\s*\[?{_TS}\]?\s*(?:-\s*\[?{_TS}\]?\s*)?[:：]?\s*(.*)$")
TAG = re.compile(r"<[^>]+>")
VOICE = re.compile(r"<v(?:\.[^ >]*)?\s+([^>]+)>")


class TranscriptError(ValueError):
    pass


@dataclass
class Cue:
    start: datetime.datetime
    end: datetime.datetime
    text: str
    voice: str = ""

    @property
    def middle(self) -> datetime.datetime:
        return self.start + (self.end - self.start) / 2


def _seconds(h, m, s, ms) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + (int((ms or "0").ljust(3, "0")) / 1000)


def _clean(text: str) -> str:
    return TAG.sub("", text).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").strip()


def parse_vtt(content: str, *, base: datetime.datetime) -> list[Cue]:
    lines = content.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not lines[0].startswith("WEBVTT"):
        raise TranscriptError(_("This is not a WebVTT file: it must begin with WEBVTT."))
    cues: list[Cue] = []
    i = 1
    while i < len(lines):
        match = VTT_TIMING.match(lines[i])
        if not match:
            i += 1
            continue
        g = match.groups()
        start, end = _seconds(*g[0:4]), _seconds(*g[4:8])
        i += 1
        body = []
        while i < len(lines) and lines[i].strip():
            body.append(lines[i])
            i += 1
        voice = VOICE.search(" ".join(body))
        text = join_texts([_clean(line) for line in body])
        if text:
            cues.append(
                Cue(
                    base + datetime.timedelta(seconds=start),
                    base + datetime.timedelta(seconds=end),
                    text,
                    voice.group(1).strip() if voice else "",
                )
            )
    return cues


def parse_text(
    content: str, *, base: datetime.datetime, clock: bool = False, day: datetime.date | None = None
) -> list[Cue]:
    """Lines like ``[00:12:03] text`` (offsets) or ``10:12:03 text`` (clock times when ``clock``)."""
    starts: list[tuple[datetime.datetime, list[str]]] = []
    tz = timezone.get_current_timezone()
    for line in content.replace("\ufeff", "").splitlines():
        match = TEXT_LINE.match(line)
        if match:
            g = match.groups()
            seconds = _seconds(*g[0:4])
            if clock:
                midnight = datetime.datetime.combine(
                    day or timezone.localtime(base).date(), datetime.time(0), tz
                )
                at = midnight + datetime.timedelta(seconds=seconds)
            else:
                at = base + datetime.timedelta(seconds=seconds)
            starts.append((at, [g[8]] if g[8].strip() else []))
        elif line.strip() and starts:
            starts[-1][1].append(line.strip())
    if not starts:
        raise TranscriptError(_("No timestamped lines found (expected lines such as “[00:12:03] text”)."))
    cues = []
    for n, (at, texts) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else at + datetime.timedelta(seconds=5)
        text = join_texts([_clean(t) for t in texts])
        if text:
            cues.append(Cue(at, max(end, at), text))
    return cues


def parse(
    content: str, *, fmt: str = "auto", base: datetime.datetime, day: datetime.date | None = None
) -> list[Cue]:
    if len(content.encode("utf-8")) > MAX_BYTES:
        raise TranscriptError(_("The transcript is too large (at most 5 MB)."))
    if fmt == "auto":
        fmt = "vtt" if content.lstrip("\ufeff").startswith("WEBVTT") else "text"
    if fmt == "vtt":
        return parse_vtt(content, base=base)
    if fmt in ("text", "clock"):
        return parse_text(content, base=base, clock=fmt == "clock", day=day)
    raise TranscriptError(_("Unknown transcript format."))


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def join_texts(texts: list[str]) -> str:
    """Join cue texts: no space between Japanese fragments, one space between Latin words."""
    out = ""
    for t in texts:
        t = t.strip()
        if not t:
            continue
        if out and not (_is_wide(out[-1]) or _is_wide(t[0])):
            out += " "
        out += t
    return out


def assign(cues: list[Cue], speeches: list) -> tuple[dict[int, str], list[Cue]]:
    """Map each speech block (with ``pk``, ``started_at``, ``ended_at``) to the text of its cues."""
    ordered = sorted(speeches, key=lambda b: b.started_at)
    spans = []
    for n, b in enumerate(ordered):
        end = b.ended_at or (ordered[n + 1].started_at if n + 1 < len(ordered) else None)
        spans.append((b.started_at, end, b.pk))
    found: dict[int, list[str]] = {}
    unmatched: list[Cue] = []
    for cue in sorted(cues, key=lambda c: c.start):
        m = cue.middle
        target = next((pk for start, end, pk in spans if start <= m and (end is None or m < end)), None)
        if target is None:
            unmatched.append(cue)
        else:
            found.setdefault(target, []).append(cue.text)
    return {pk: join_texts(texts) for pk, texts in found.items()}, unmatched
