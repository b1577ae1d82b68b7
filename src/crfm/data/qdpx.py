"""Reading and writing REFI-QDA Project exports (.qdpx) as the Study 1 segments table.

A .qdpx file is a ZIP archive holding ``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``,
REFI-QDA Project.xsd 1.0) and the source documents under ``sources/``. Mapping to the data contract:

* ``Users/User`` (guid -> name) give the coder names;
* ``CodeBook/Codes/Code`` (guid, name; nested codes allowed) give the codes: code = the Code's name;
* each ``Sources/TextSource`` is one interview: interview_id = the TextSource's name;
* each ``PlainTextSelection`` is one segment: segment_id = its ``name`` attribute, else its guid;
* each ``Coding`` of a selection gives one row: code = the name of the Code its ``CodeRef/@targetGUID``
  points to; coder = the User of the Coding's ``creatingUser``, else of the selection's
  ``creatingUser``;
* excerpt = the characters [startPosition, endPosition) of the source's plain text (inline
  ``PlainTextContent`` or the ``internal://`` file under ``sources/``); missing when the text is not in
  the archive or the selection is empty.

Two coders' codings of one segment may sit in one selection (several Codings) or in separate
selections carrying the same name in the same source; both read as rows of the same segment_id.

Safety: the archive is checked before anything is decompressed (file size, member count, total
uncompressed size, per-member and total compression ratio, absolute / '..' / symlink / encrypted /
duplicate members), members are read into memory with a byte budget (nothing is extracted to disk),
and XML is parsed only with ``defusedxml`` with DTDs forbidden, so entity-expansion ("billion laughs")
and external-entity payloads are rejected. Every problem raises :class:`crfm.errors.InputError` naming
the file and what to fix.

:func:`write_qdpx` builds a small valid export deterministically (GUIDs are uuid5 of the IDs, fixed
ZIP timestamps and member order), so ``read_qdpx(write_qdpx(x))`` returns ``x``.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import uuid
import xml.etree.ElementTree as ET  # building only; parsing uses defusedxml
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import defusedxml
import defusedxml.ElementTree as DET
import pandas as pd

from crfm.errors import InputError

NS = "urn:QDA-XML:project:1.0"
_Q = f"{{{NS}}}"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{NS} http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
PROJECT_MEMBER = "project.qde"
SOURCES_DIR = "sources/"
#: uuid5 namespace of every GUID written by :func:`write_qdpx` (uuid5 of the DNS namespace and a name)
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "crfm-pipeline.refi-qda")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
SEGMENT_COLUMNS = ["interview_id", "segment_id", "coder", "code", "excerpt"]
CODE_COLUMNS = ["code", "definition", "parent", "is_codable"]

_GUID_RE = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class ZipLimits:
    """Bounds a .qdpx must respect before anything is decompressed."""

    max_compressed_bytes: int = 100 * 1024**2  # size of the .qdpx file on disk
    max_uncompressed_bytes: int = 200 * 1024**2  # sum of the members' declared sizes
    max_members: int = 5000
    max_ratio: float = 100.0  # uncompressed / compressed, per member and in total
    ratio_min_bytes: int = 64 * 1024  # members smaller than this are exempt from the ratio check


DEFAULT_LIMITS = ZipLimits()
#: deepest code hierarchy a CodeBook may have (QDA software exports a handful of levels)
MAX_CODE_DEPTH = 100


class QDPXContents(NamedTuple):
    """What :func:`read_qdpx` returns.

    segments: interview_id, segment_id, coder, code, excerpt (str; missing = NaN), sorted by
        interview_id, segment_id, coder; one row per (segment, coder).
    codes: code, definition (Description text; missing = NaN), parent (enclosing Code's name; NaN at
        top level), is_codable (bool), sorted by code.
    """

    segments: pd.DataFrame
    codes: pd.DataFrame


def guid_for(kind: str, key: str) -> str:
    """The deterministic GUID :func:`write_qdpx` gives an object of ``kind`` with identifier ``key``."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{key}"))


# ====================================================================================================
# reading
# ====================================================================================================


def _err(path, problem: str, fix: str) -> InputError:
    return InputError(path, problem, fix)


def _check_archive(path: Path, zf: zipfile.ZipFile, limits: ZipLimits) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise _err(
            path,
            f"the archive has {len(infos)} members, more than the limit of {limits.max_members}",
            "export the project again from the QDA software; a genuine .qdpx of interview transcripts has "
            "far fewer files (raise ZipLimits.max_members only for a trusted file)",
        )
    members: dict[str, zipfile.ZipInfo] = {}
    total_unc = total_comp = 0
    for info in infos:
        name = info.filename
        parts = re.split(r"[\\/]", name)
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise _err(
                path,
                f"member '{name}' has an absolute path or a '..' component (path traversal)",
                "do not use this file; re-export the project from the QDA software",
            )
        mode = (info.external_attr >> 16) & 0xFFFF
        if stat.S_ISLNK(mode):
            raise _err(
                path,
                f"member '{name}' is a symbolic link",
                "re-export the project without links; a .qdpx holds regular files only",
            )
        if info.flag_bits & 0x1:
            raise _err(path, f"member '{name}' is encrypted", "export the project without a password")
        if name in members:
            raise _err(path, f"member '{name}' occurs twice in the archive", "re-export the project")
        if info.file_size < 0 or info.compress_size < 0:
            raise _err(path, f"member '{name}' declares a negative size", "re-export the project")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= limits.ratio_min_bytes and ratio > limits.max_ratio:
            raise _err(
                path,
                f"member '{name}' expands {ratio:.0f}-fold ({info.compress_size} -> {info.file_size} bytes), "
                f"above the limit of {limits.max_ratio:.0f} (possible ZIP bomb)",
                "do not use this file; re-export the project from the QDA software",
            )
        total_unc += info.file_size
        total_comp += info.compress_size
        members[name] = info
    if total_unc > limits.max_uncompressed_bytes:
        raise _err(
            path,
            f"the members total {total_unc} bytes uncompressed, above the limit of {limits.max_uncompressed_bytes}",
            "export only the Study 1 transcripts and coding, or raise ZipLimits.max_uncompressed_bytes for a "
            "trusted file",
        )
    if total_unc >= limits.ratio_min_bytes and total_unc / max(total_comp, 1) > limits.max_ratio:
        raise _err(
            path,
            f"the archive expands {total_unc / max(total_comp, 1):.0f}-fold in total, above the limit of "
            f"{limits.max_ratio:.0f} (possible ZIP bomb)",
            "do not use this file; re-export the project from the QDA software",
        )
    return members


def _read_member(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> bytes:
    """Read one member into memory, never more than its declared size or the remaining budget."""
    limit = min(info.file_size, budget[0])
    buf = io.BytesIO()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(min(1 << 16, limit + 1 - buf.tell()))
                if not chunk:
                    break
                buf.write(chunk)
                if buf.tell() > limit:
                    raise _err(
                        path,
                        f"member '{info.filename}' decompresses to more than its declared size or the size budget",
                        "do not use this file; re-export the project from the QDA software",
                    )
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        raise _err(path, f"member '{info.filename}' cannot be decompressed ({exc})", "re-export the project") from exc
    budget[0] -= buf.tell()
    return buf.getvalue()


def _parse_xml(path: Path, data: bytes):
    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden as exc:
        head = data[:65536]
        if b"<!ENTITY" in head and (b"SYSTEM" in head or b"PUBLIC" in head):
            kind = "an external-entity declaration (XXE: it asks the parser to read another file or URL)"
        elif b"<!ENTITY" in head:
            kind = "entity declarations (entity expansion, e.g. a 'billion laughs' payload)"
        else:
            kind = "a document type declaration, which can carry entity or external-reference payloads"
        raise _err(
            path,
            f"{PROJECT_MEMBER} contains <!DOCTYPE {exc.name} ...> with {kind}; DTDs are refused",
            f"remove the <!DOCTYPE ...> block from {PROJECT_MEMBER}; REFI-QDA project files need no DTD",
        ) from exc
    except defusedxml.EntitiesForbidden as exc:
        raise _err(
            path,
            f"{PROJECT_MEMBER} declares the XML entity '{exc.name}' (entity expansion / external entity)",
            f"remove the entity declarations from {PROJECT_MEMBER}",
        ) from exc
    except defusedxml.ExternalReferenceForbidden as exc:
        raise _err(
            path,
            f"{PROJECT_MEMBER} refers to an external resource ({exc.sysid or exc.pubid})",
            f"remove the external reference from {PROJECT_MEMBER}",
        ) from exc
    except defusedxml.DefusedXmlException as exc:  # pragma: no cover - other defusedxml refusals
        raise _err(path, f"{PROJECT_MEMBER} was refused by the XML guard ({exc})", "re-export the project") from exc
    except DET.ParseError as exc:
        raise _err(
            path,
            f"{PROJECT_MEMBER} is not well-formed XML ({exc})",
            "re-export the project from the QDA software (REFI-QDA Project export)",
        ) from exc


def _guid(value: str | None) -> str | None:
    if value is None:
        return None
    m = _GUID_RE.match(value.strip())
    return m.group(1).lower() if m else value.strip().lower()


def _desc(el) -> str | None:
    d = el.find(f"{_Q}Description")
    if d is None or d.text is None or d.text == "":
        return None
    return d.text


def read_qdpx(path, *, limits: ZipLimits = DEFAULT_LIMITS) -> QDPXContents:
    """Read a REFI-QDA .qdpx export into the segments table and a table of the codes it defines."""
    path = Path(path)
    if path.is_dir():
        raise _err(path, "is a directory, not a .qdpx file", "point study1.qdpx at the exported .qdpx file")
    if not path.is_file():
        raise _err(path, "the file does not exist", "check study1.qdpx in the configuration")
    size = path.stat().st_size
    if size > limits.max_compressed_bytes:
        raise _err(
            path,
            f"the file is {size} bytes, above the limit of {limits.max_compressed_bytes}",
            "export only the Study 1 transcripts and coding, or raise ZipLimits.max_compressed_bytes for a "
            "trusted file",
        )
    if not zipfile.is_zipfile(path):
        raise _err(
            path,
            "not a ZIP archive; a .qdpx export is a ZIP file holding project.qde and sources/",
            "export the project as 'REFI-QDA Project (.qdpx)' from the QDA software",
        )
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise _err(path, f"the ZIP archive cannot be read ({exc})", "re-export the project") from exc
    with zf:
        members = _check_archive(path, zf, limits)
        if PROJECT_MEMBER not in members:
            qde = [n for n in members if n.lower().endswith(".qde")]
            raise _err(
                path,
                f"the archive has no '{PROJECT_MEMBER}' at its top level"
                + (f" (found {', '.join(qde[:5])})" if qde else ""),
                "export a REFI-QDA Project (.qdpx), not a codebook (.qdc) or a plain ZIP of files",
            )
        budget = [limits.max_uncompressed_bytes]
        root = _parse_xml(path, _read_member(path, zf, members[PROJECT_MEMBER], budget))

        def read_text(rel: str, what: str) -> str:
            name = SOURCES_DIR + rel
            if name not in members:
                raise _err(
                    path,
                    f"{what} points to 'internal://{rel}', but the archive has no member '{name}'",
                    "re-export the project including its sources",
                )
            data = _read_member(path, zf, members[name], budget)
            try:
                return data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise _err(path, f"member '{name}' is not UTF-8 text ({exc})", "re-export the project") from exc

        return _interpret(path, root, read_text)


def _interpret(path: Path, root, read_text) -> QDPXContents:
    if root.tag != f"{_Q}Project":
        raise _err(
            path,
            f"the root element of {PROJECT_MEMBER} is '{root.tag}', not 'Project' in namespace {NS}",
            "export a REFI-QDA Project (.qdpx) version 1.0",
        )
    # users -------------------------------------------------------------------------------------
    users: dict[str, str] = {}
    for u in root.iterfind(f"{_Q}Users/{_Q}User"):
        g = _guid(u.get("guid"))
        name = u.get("name") or u.get("id")
        if not g or not name:
            raise _err(path, f"a User (guid '{u.get('guid')}') has no guid or no name", "name every user (coder)")
        users[g] = name
    # codes -------------------------------------------------------------------------------------
    codes: dict[str, str] = {}
    code_rows = []

    # Depth-first, in document order, without recursion: a hostile export can nest codes deeper than
    # Python's stack.
    todo = [
        (c, None, 1) for codes_el in root.iterfind(f"{_Q}CodeBook/{_Q}Codes") for c in codes_el.iterfind(f"{_Q}Code")
    ]
    todo.reverse()
    names: set[str] = set()
    while todo:
        c, parent_name, depth = todo.pop()
        if depth > MAX_CODE_DEPTH:
            raise _err(
                path,
                f"the CodeBook nests codes more than {MAX_CODE_DEPTH} levels deep (code '{c.get('name')}')",
                "flatten the code hierarchy in the QDA software and export again",
            )
        g, name = _guid(c.get("guid")), c.get("name")
        if not g or not name:
            raise _err(path, f"a Code (guid '{c.get('guid')}') has no guid or no name", "name every code")
        if name in names:
            raise _err(
                path,
                f"the code name '{name}' is defined more than once in the CodeBook",
                "give every code a unique name (the name is the code ID used in the analysis)",
            )
        names.add(name)
        codes[g] = name
        code_rows.append((name, _desc(c), parent_name, (c.get("isCodable") or "true").strip().lower() in ("true", "1")))
        todo.extend((child, name, depth + 1) for child in reversed(c.findall(f"{_Q}Code")))
    # sources -----------------------------------------------------------------------------------
    rows = []
    sources_el = root.find(f"{_Q}Sources")
    for src in [] if sources_el is None else list(sources_el):
        local = src.tag.split("}")[-1]
        if local != "TextSource":
            if src.find(f".//{_Q}Coding") is not None:
                raise _err(
                    path,
                    f"{local} '{src.get('name') or src.get('guid')}' carries codings; only text sources are supported",
                    "code the interview transcripts as text sources (plain-text transcripts)",
                )
            continue
        iid = src.get("name")
        if not iid:
            raise _err(
                path,
                f"TextSource (guid '{src.get('guid')}') has no name",
                "name each document by its interview_id (the interviews table's key)",
            )
        if src.find(f"{_Q}Coding") is not None:
            raise _err(
                path,
                f"TextSource '{iid}' has a Coding of the whole document, which is not a segment",
                "code text selections (segments) instead of whole documents",
            )
        text = None
        content = src.find(f"{_Q}PlainTextContent")
        if content is not None:
            text = content.text or ""
        else:
            ptp = src.get("plainTextPath") or ""
            if ptp.startswith("internal://"):
                text = read_text(ptp[len("internal://") :], f"TextSource '{iid}'")
        for sel in src.iterfind(f"{_Q}PlainTextSelection"):
            sid = sel.get("name") or sel.get("guid")
            if not sid:
                raise _err(path, f"a PlainTextSelection in TextSource '{iid}' has neither name nor guid", "re-export")
            where = f"PlainTextSelection '{sid}' in TextSource '{iid}'"
            try:
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            except (TypeError, ValueError):
                raise _err(path, f"{where} lacks integer startPosition/endPosition", "re-export the project") from None
            excerpt = None
            if text is not None:
                if not 0 <= start <= end <= len(text):
                    raise _err(
                        path,
                        f"{where} spans characters {start}-{end}, outside the source text (length {len(text)})",
                        "re-export the project; the selection and its source text disagree",
                    )
                excerpt = text[start:end] or None
            codings = sel.findall(f"{_Q}Coding")
            if not codings:
                raise _err(
                    path,
                    f"{where} has no Coding (a segment without a code)",
                    "code the selection or delete it in the QDA software, then export again",
                )
            for cod in codings:
                ref = cod.find(f"{_Q}CodeRef")
                target = _guid(ref.get("targetGUID")) if ref is not None else None
                if not target:
                    raise _err(path, f"a Coding of {where} has no CodeRef targetGUID", "re-export the project")
                if target not in codes:
                    raise _err(
                        path,
                        f"a Coding of {where} refers to code GUID '{ref.get('targetGUID')}', which the CodeBook "
                        "does not define",
                        "re-export the project with its complete codebook, or remove the coding of the deleted code",
                    )
                ug = _guid(cod.get("creatingUser")) or _guid(sel.get("creatingUser"))
                if not ug:
                    raise _err(
                        path,
                        f"a Coding of {where} names no creatingUser (neither on the Coding nor the selection)",
                        "export with user information so each code can be attributed to a coder",
                    )
                if ug not in users:
                    raise _err(
                        path,
                        f"a Coding of {where} was created by user GUID '{ug}', which Users does not list",
                        "re-export the project including its users",
                    )
                rows.append((iid, sid, users[ug], codes[target], excerpt))

    seg = pd.DataFrame(rows, columns=SEGMENT_COLUMNS).astype("str")
    seg = seg.sort_values(["interview_id", "segment_id", "coder"], kind="mergesort").reset_index(drop=True)
    _check_read_segments(path, seg)
    code_df = pd.DataFrame(code_rows, columns=CODE_COLUMNS)
    code_df = code_df.astype({"code": "str", "definition": "str", "parent": "str", "is_codable": bool})
    code_df = code_df.sort_values("code", kind="mergesort")
    return QDPXContents(segments=seg, codes=code_df.reset_index(drop=True))


def _check_read_segments(path: Path, seg: pd.DataFrame) -> None:
    dup = seg.duplicated(["segment_id", "coder"], keep=False)
    if dup.any():
        r = seg.loc[dup].iloc[0]
        codes = seg.loc[dup & (seg["segment_id"] == r["segment_id"]) & (seg["coder"] == r["coder"]), "code"]
        raise _err(
            path,
            f"segment '{r['segment_id']}' has {len(codes)} codings by coder '{r['coder']}' "
            f"({', '.join(codes)}); each coder gives each segment exactly one code",
            "split the selection into one selection per code (each with its own name), or remove the extra coding",
        )
    multi = seg.groupby("segment_id")["interview_id"].nunique()
    multi = multi[multi > 1]
    if len(multi):
        raise _err(
            path,
            f"the selection name '{multi.index[0]}' is used in more than one document",
            "give selections in different documents different names (the name is the segment_id)",
        )


# ====================================================================================================
# writing
# ====================================================================================================


def _text_or_none(v) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    s = str(v)
    return s if s != "" else None


def _check_xml_text(source: str, what: str, value: str) -> str:
    if _XML_ILLEGAL.search(value):
        raise InputError(
            source,
            f"{what} {value!r} contains a control character that XML 1.0 cannot carry",
            "remove the control character",
        )
    return value


def write_qdpx(
    segments: pd.DataFrame,
    codebook: pd.DataFrame,
    path,
    project_name: str,
    *,
    origin: str = "crfm-pipeline",
    description: str | None = None,
    source: str = "segments",
) -> None:
    """Write ``segments`` and the codes of ``codebook`` as a REFI-QDA Project export.

    One TextSource per interview (name = interview_id) whose plain text (``sources/<guid>.txt``) is the
    segments' excerpts in segment_id order separated by blank lines; one PlainTextSelection per segment
    (name = segment_id) with one Coding per coder; one User per coder; one Code per codebook row
    (name = code, Description = definition). GUIDs are :func:`guid_for` of the IDs, ZIP entries carry a
    fixed timestamp, so the bytes depend only on the inputs. Empty excerpts are treated as missing.
    ``description`` (optional) becomes the Project's Description, e.g. a synthetic-data notice.
    """
    required = ["interview_id", "segment_id", "coder", "code"]
    missing = [c for c in required if c not in segments.columns]
    if missing:
        raise InputError(
            source, f"missing column(s) {', '.join(missing)}", "pass the segments table", column=missing[0]
        )
    if "code" not in codebook.columns:
        raise InputError("codebook", "missing column 'code'", "pass the codebook table", column="code")
    seg = pd.DataFrame({c: segments[c].astype(str) for c in required})
    seg["excerpt"] = [_text_or_none(v) for v in segments["excerpt"]] if "excerpt" in segments.columns else None
    dup = seg.duplicated(["segment_id", "coder"], keep=False)
    if dup.any():
        r = seg.loc[dup].iloc[0]
        raise InputError(
            source,
            f"segment '{r['segment_id']}' has more than one code from coder '{r['coder']}'",
            "each coder gives each segment exactly one code",
            column="code",
        )
    cb_codes = [str(c) for c in codebook["code"]]
    if len(set(cb_codes)) != len(cb_codes):
        raise InputError("codebook", "a code is defined more than once", "define every code once", column="code")
    undefined = sorted(set(seg["code"]) - set(cb_codes))
    if undefined:
        raise InputError(
            source,
            f"code(s) {', '.join(undefined[:10])} are not defined in the codebook",
            "add them to the codebook or correct the segments",
            column="code",
        )
    defs = (
        {str(c): _text_or_none(d) for c, d in zip(codebook["code"], codebook["definition"])}
        if "definition" in codebook.columns
        else {}
    )
    for col in required:
        for v in seg[col].unique():
            _check_xml_text(source, col, v)
    for c in cb_codes:
        _check_xml_text("codebook", "code", c)
    _check_xml_text(source, "project_name", project_name)

    seg = seg.sort_values(["interview_id", "segment_id", "coder"], kind="mergesort").reset_index(drop=True)
    coders = sorted(seg["coder"].unique())
    user_guid = {c: guid_for("user", c) for c in coders}

    # Tags are written unqualified under a literal default-namespace declaration (ElementTree's
    # default_namespace option refuses unqualified attributes); the parsed result is in namespace NS.
    root = ET.Element(
        "Project",
        {
            "xmlns": NS,
            "xmlns:xsi": XSI,
            "xsi:schemaLocation": SCHEMA_LOCATION,
            "name": project_name,
            "origin": origin,
        },
    )
    users_el = ET.SubElement(root, "Users")
    for c in coders:
        ET.SubElement(users_el, "User", {"guid": user_guid[c], "name": c})
    codes_el = ET.SubElement(ET.SubElement(root, "CodeBook"), "Codes")
    for c in sorted(cb_codes):
        el = ET.SubElement(codes_el, "Code", {"guid": guid_for("code", c), "name": c, "isCodable": "true"})
        if defs.get(c):
            _check_xml_text("codebook", "definition", defs[c])
            ET.SubElement(el, "Description").text = defs[c]
    sources_el = ET.SubElement(root, "Sources")
    files: dict[str, bytes] = {}
    for iid, g_iv in seg.groupby("interview_id", sort=True):
        sguid = guid_for("source", iid)
        fname = f"{sguid}.txt"
        src_el = ET.SubElement(
            sources_el, "TextSource", {"guid": sguid, "name": iid, "plainTextPath": f"internal://{fname}"}
        )
        text_parts: list[str] = []
        cursor = 0
        for sid, g in g_iv.groupby("segment_id", sort=True):
            excerpts = {e for e in g["excerpt"] if _text_or_none(e) is not None}
            if len(excerpts) > 1:
                raise InputError(
                    source,
                    f"segment '{sid}' has different excerpts for different coders",
                    "a segment is one piece of text: give its rows the same excerpt",
                    column="excerpt",
                )
            excerpt = excerpts.pop() if excerpts else None
            if excerpt is not None:
                if text_parts:
                    text_parts.append("\n\n")
                    cursor += 2
                start, end = cursor, cursor + len(excerpt)
                text_parts.append(excerpt)
                cursor = end
            else:
                start = end = 0
            first_coder = sorted(g["coder"])[0]
            sel = ET.SubElement(
                src_el,
                "PlainTextSelection",
                {
                    "guid": guid_for("selection", f"{iid}/{sid}"),
                    "name": sid,
                    "startPosition": str(start),
                    "endPosition": str(end),
                    "creatingUser": user_guid[first_coder],
                },
            )
            for r in g.sort_values("coder", kind="mergesort").itertuples(index=False):
                cod = ET.SubElement(
                    sel,
                    "Coding",
                    {
                        "guid": guid_for("coding", f"{iid}/{sid}/{r.coder}"),
                        "creatingUser": user_guid[r.coder],
                    },
                )
                ET.SubElement(cod, "CodeRef", {"targetGUID": guid_for("code", r.code)})
        files[SOURCES_DIR + fname] = "".join(text_parts).encode("utf-8")
    if description:
        _check_xml_text(source, "description", description)
        ET.SubElement(root, "Description").text = description
    ET.indent(root, space="  ")
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w") as zf:
            for name, data in [(PROJECT_MEMBER, xml + b"\n"), *sorted(files.items())]:
                info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
