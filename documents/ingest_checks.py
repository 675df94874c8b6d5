"""What an uploaded PDF may contain: the active-content and link policy, checked with pikepdf (qpdf).

Refused (``Refused`` with the reason code the clerk's sentence is chosen by):

- ``active_content``: actions that run code or other programs (JavaScript, Launch, form
  submission, media renditions ...), wherever they sit (links, bookmarks, open actions, page and
  document actions, form fields, name trees, unreachable objects), XFA forms, rich-media,
  movie, sound and screen annotations;
- ``embedded_file``: attached files (annotations, the name tree, any embedded-file stream);
- ``remote_link``: links that leave the document for another file or a local resource
  (GoToR, Thread into another file, URI links other than ``http``, ``https`` and ``mailto``:
  ``file://``, UNC ``\\\\host\\share``, relative paths, ``javascript:``, ``smb:``, and an
  open action that opens any URI). Plain web links (``https://``) are what council packets
  carry (the council's site, e-Gov law texts) and stay accepted; pdf.js opens them in a new
  tab without the platform's cookies.

Removed from the served copy and reported (``changes``): harmless actions that would run by
themselves: a document open action that is not a plain "go to page" (a named "Print" action,
say), and document- or page-level additional actions (``/AA``) that run no code.

Speed: every indirect object is parsed once by qpdf; its text (``unparse``, canonical: sorted
keys, single spaces, escaped strings) is searched for the names that matter, and only objects
that name one are walked in Python. Plain https link annotations are recognised from the text
alone, so a page with 32,768 links is checked in about 0.2 s of CPU (docs/benchmarks.md).

Used by the ingest worker; never imports Django.
"""

from __future__ import annotations

import re

from documents.ingest_damage import MAX_NESTING, Refused

# Actions that run code or another program.
CODE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/ImportData",
        "/SubmitForm",
        "/RichMediaExecute",
        "/Rendition",
        "/GoToE",
    }
)
# Keys that only appear where code or attachments live.
ACTIVE_KEYS = {
    "/JS": "active_content",
    "/JavaScript": "active_content",
    "/Launch": "active_content",
    "/XFA": "active_content",
    "/EmbeddedFile": "embedded_file",
    "/EmbeddedFiles": "embedded_file",
}
ACTIVE_ANNOTATIONS = frozenset({"/RichMedia", "/Movie", "/Sound", "/Screen"})
SAFE_URI = re.compile(r"^\s*(?:https?://|mailto:|www\.)", re.IGNORECASE)

# An A3 page scanned at 600 dpi is 70 megapixels; an image declaring far more is a memory bomb
# for every reader that decodes it (pdf.js on a tablet included), whatever its compressed size.
MAX_IMAGE_PIXELS = 200_000_000

_DELIMITER = rb"(?=[\s()<>\[\]{}/%]|$)"
# Every name the checks below look at; an object whose text names none of them is left alone.
RISKY = re.compile(
    rb"/(?:JS|JavaScript|AA|OpenAction|EF|EmbeddedFiles?|XFA|FileAttachment|RichMedia|"
    rb"RichMediaExecute|Movie|Sound|Screen|Launch|ImportData|SubmitForm|Rendition|GoToE|GoToR|"
    rb"Thread|URI|Image)" + _DELIMITER
)
# A web-link action as qpdf writes it: "/S /URI /URI (https://" (keys sorted, /Type between).
# Tokens alternate key and value, so this text can only be an /S key naming a URI action whose
# /URI key is a web address; cut out, what remains must name nothing risky.
PLAIN_WEB_LINK = re.compile(rb"/S /URI (?:/Type /Action )?/URI \((?i:https?://|mailto:|www\.)")


def uri_leaves_document(value) -> bool:
    """True for a URI action target that is not a web or mail address."""
    import pikepdf

    if value is None:
        return False  # a URI action without a target does nothing
    if not isinstance(value, pikepdf.String):
        return True
    return not SAFE_URI.match(str(value))


def _name(value) -> str | None:
    import pikepdf

    return str(value) if isinstance(value, pikepdf.Name) else None


def check_dictionary(obj, where: str) -> None:
    """One dictionary (or stream dictionary) against the policy; nested direct objects are
    visited by ``_walk``."""
    keys = set(obj.keys())
    for key, reason in ACTIVE_KEYS.items():
        if key in keys:
            raise Refused(reason, f"{key} in {where}")
    kind = _name(obj.get("/S"))  # a Type 3 font's glyph named S is a stream, not an action type
    if kind is not None:
        if kind in CODE_ACTIONS:
            raise Refused("active_content", f"{kind} action in {where}")
        if kind == "/GoToR" or (kind == "/Thread" and "/F" in keys):
            raise Refused("remote_link", f"{kind} action in {where}")
        if kind == "/URI" and uri_leaves_document(obj.get("/URI")):
            raise Refused("remote_link", f"URI {str(obj.get('/URI'))[:80]!r} in {where}")
    if _name(obj.get("/Type")) == "/EmbeddedFile" or "/EF" in keys:
        raise Refused("embedded_file", where)
    subtype = _name(obj.get("/Subtype"))
    if subtype == "/FileAttachment":
        raise Refused("embedded_file", f"file attachment annotation in {where}")
    if subtype in ACTIVE_ANNOTATIONS:
        raise Refused("active_content", f"{subtype} annotation in {where}")
    if subtype == "/Image" and _image_pixels(obj) > MAX_IMAGE_PIXELS:
        raise Refused("memory", f"image too large to decode in {where}")


def _image_pixels(obj) -> int:
    try:
        return int(obj.get("/Width", 0)) * int(obj.get("/Height", 0))
    except (TypeError, ValueError):
        raise Refused("damaged", "image size is not a number", kind="image") from None


def _walk(obj, where: str, depth: int = 0) -> None:
    """``obj`` and the direct objects inside it (indirect ones are visited on their own)."""
    import pikepdf

    if depth > MAX_NESTING:  # qpdf has already dropped anything deeper (and warned)
        return
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        check_dictionary(obj, where)
        children = [obj.get(key) for key in obj.keys()]
    elif isinstance(obj, pikepdf.Array):
        children = list(obj)
    else:
        return
    for child in children:
        if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect:
            _walk(child, where, depth + 1)


def needs_walk(text: bytes) -> bool:
    return RISKY.search(PLAIN_WEB_LINK.sub(b"", text)) is not None


def scan(pdf, *, on_stream=None) -> None:
    """Every object of the file (object streams and unreachable objects included) against the
    policy; ``on_stream(stream)`` is called for each stream (the damage checks)."""
    import pikepdf

    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            if on_stream is not None:
                on_stream(obj)
            where = f"object {obj.objgen[0]}"
            check_dictionary(obj, where)  # images and embedded files are streams: always looked at
            if needs_walk(obj.stream_dict.unparse(resolved=True)):
                _walk(obj.stream_dict, where)
        elif isinstance(obj, pikepdf.Dictionary | pikepdf.Array):
            if needs_walk(obj.unparse(resolved=True)):
                _walk(obj, f"object {obj.objgen[0]}")


# --- harmless actions that would run by themselves: removed from the served copy ---------------


def _action_chain(action) -> list:
    """The action and those it chains to through /Next (arrays included), at most 50."""
    import pikepdf

    chain, pending = [], [action]
    while pending and len(chain) < 50:
        current = pending.pop(0)
        if not isinstance(current, pikepdf.Dictionary):
            continue
        chain.append(current)
        following = current.get("/Next")
        if isinstance(following, pikepdf.Array):
            pending.extend(following)
        elif following is not None:
            pending.append(following)
    return chain


def describe_action(action) -> str:
    """A short English label for the record: "Named Print", "Hide", "URI"."""
    parts = []
    for step in _action_chain(action):
        kind = (_name(step.get("/S")) or "?").lstrip("/")
        if kind == "Named":
            kind = f"Named {(_name(step.get('/N')) or '?').lstrip('/')}"
        parts.append(kind)
    return " → ".join(parts) or "?"


def strip_self_running_actions(pdf) -> list[dict]:
    """Removes what runs by itself and is not a plain destination; returns the changes made.
    Runs after ``scan``, so nothing here runs code or leaves the document, except an open
    action opening a web address, which is refused (it takes the reader out of the document)."""
    import pikepdf

    changes: list[dict] = []
    root = pdf.Root
    open_action = root.get("/OpenAction")
    if open_action is not None:
        if isinstance(open_action, pikepdf.Array):
            pass  # a destination: "open at page 1, fit to width"
        elif isinstance(open_action, pikepdf.Dictionary):
            kinds = [_name(step.get("/S")) for step in _action_chain(open_action)]
            if "/URI" in kinds:
                raise Refused("remote_link", "open action opens a URI")
            if set(kinds) != {"/GoTo"}:
                changes.append({"code": "open_action_removed", "action": describe_action(open_action)})
                del root["/OpenAction"]
        else:
            del root["/OpenAction"]  # neither a destination nor an action: nothing a reader runs
    additional = root.get("/AA")
    if additional is not None:
        if isinstance(additional, pikepdf.Dictionary) and len(additional.keys()) > 0:
            changes.append({"code": "document_actions_removed", "events": sorted(additional.keys())})
        del root["/AA"]
    pages_with_actions = []
    for number, page in enumerate(pdf.pages, start=1):
        actions = page.obj.get("/AA")
        if actions is None:
            continue
        if isinstance(actions, pikepdf.Dictionary) and len(actions.keys()) > 0:
            pages_with_actions.append(number)
        del page.obj["/AA"]
    if pages_with_actions:
        changes.append({"code": "page_actions_removed", "pages": pages_with_actions})
    return changes
