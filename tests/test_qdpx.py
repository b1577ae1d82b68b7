"""crfm.data.qdpx: REFI-QDA .qdpx import/export, round trip and hostile archives."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from crfm.data.qdpx import (
    NS,
    ZipLimits,
    guid_for,
    read_qdpx,
    write_qdpx,
)
from crfm.errors import InputError

DATA = Path(__file__).parent / "data" / "qdpx"


# ----------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------


def make_zip(path: Path, members: dict, *, compress=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def project_xml(body: str, users: str | None = None, codes: str | None = None) -> str:
    users = users if users is not None else '<User guid="00000000-0000-4000-8000-000000000001" name="C1"/>'
    codes = (
        codes
        if codes is not None
        else '<Code guid="00000000-0000-4000-8000-0000000000c1" name="P_WEB" isCodable="true"/>'
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{NS}" name="t">'
        f"<Users>{users}</Users><CodeBook><Codes>{codes}</Codes></CodeBook>"
        f"<Sources>{body}</Sources></Project>"
    )


def selection(name="S1", coding=True, target="00000000-0000-4000-8000-0000000000c1", user=None):
    user = user or "00000000-0000-4000-8000-000000000001"
    inner = (
        f'<Coding guid="00000000-0000-4000-8000-0000000000e1" creatingUser="{user}">'
        f'<CodeRef targetGUID="{target}"/></Coding>'
        if coding
        else ""
    )
    return (
        f'<PlainTextSelection guid="00000000-0000-4000-8000-0000000000d1" '
        f'name="{name}" startPosition="0" endPosition="4">{inner}</PlainTextSelection>'
    )


def text_source(selections: str, name="I01") -> str:
    return (
        f'<TextSource guid="00000000-0000-4000-8000-0000000000a1" name="{name}">'
        f"<PlainTextContent>Some text</PlainTextContent>{selections}</TextSource>"
    )


@pytest.fixture
def segments():
    return pd.DataFrame(
        {
            "interview_id": ["I01", "I01", "I01", "I02", "I02", "I10"],
            "segment_id": ["I01-S01", "I01-S01", "I01-S02", "I02-S01", "I02-S02", "I10-S01"],
            "coder": ["C1", "C2", "C1", "C1", "C1", "C2"],
            "code": ["P_WEB", "P_EVENTS", "F_STATUS", "P_WEB", "P_REFVISIT", "P_WEB"],
            "excerpt": [
                "We put our cases on the web & in <brochures>.",
                "We put our cases on the web & in <brochures>.",
                None,
                'Ääkköset, "quotes", tabs\tand\r\nWindows line ends',
                "  leading and trailing spaces  ",
                "emoji 🚀 outside the BMP",
            ],
        }
    )


@pytest.fixture
def codebook():
    return pd.DataFrame(
        {
            "code": ["P_WEB", "P_EVENTS", "P_REFVISIT", "F_STATUS", "F_UNUSED"],
            "label": ["Web", "Events", "Visits", "Status", "Unused"],
            "definition": ["On the web", "At events & fairs", "Site visits", "Status <transfer>", None],
        }
    )


# ----------------------------------------------------------------------------------------------------
# round trip and determinism
# ----------------------------------------------------------------------------------------------------


def test_round_trip_segments_and_codes(tmp_path, segments, codebook):
    path = tmp_path / "study1_coding.qdpx"
    write_qdpx(segments, codebook, path, "Study 1")
    got = read_qdpx(path)
    pd.testing.assert_frame_equal(got.segments, segments)
    assert got.codes["code"].tolist() == sorted(codebook["code"])
    defs = dict(zip(got.codes["code"], got.codes["definition"]))
    for c, d in zip(codebook["code"], codebook["definition"]):
        assert (pd.isna(d) and pd.isna(defs[c])) or defs[c] == d
    assert got.codes["parent"].isna().all() and got.codes["is_codable"].all()


def test_round_trip_without_excerpts(tmp_path, segments, codebook):
    seg = segments.drop(columns="excerpt")
    write_qdpx(seg, codebook, tmp_path / "x.qdpx", "p")
    got = read_qdpx(tmp_path / "x.qdpx").segments
    assert got["excerpt"].isna().all()
    pd.testing.assert_frame_equal(got.drop(columns="excerpt"), seg)


def test_write_is_byte_deterministic_and_order_independent(tmp_path, segments, codebook):
    write_qdpx(segments, codebook, tmp_path / "a.qdpx", "Study 1")
    shuffled = segments.sample(frac=1.0, random_state=3).reset_index(drop=True)
    write_qdpx(shuffled, codebook.iloc[::-1], tmp_path / "b.qdpx", "Study 1")
    assert (tmp_path / "a.qdpx").read_bytes() == (tmp_path / "b.qdpx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.qdpx") as zf:
        infos = zf.infolist()
        assert infos[0].filename == "project.qde"
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        assert all(i.filename == "project.qde" or i.filename.startswith("sources/") for i in infos)
        xml = zf.read("project.qde").decode("utf-8")
    assert f'guid="{guid_for("code", "P_WEB")}"' in xml
    assert 'name="C2"' in xml and 'xmlns="urn:QDA-XML:project:1.0"' in xml


def test_written_project_follows_schema_structure(tmp_path, segments, codebook):
    """Element order and required attributes as in REFI-QDA Project.xsd 1.0."""
    import defusedxml.ElementTree as DET

    write_qdpx(segments, codebook, tmp_path / "a.qdpx", "Study 1")
    with zipfile.ZipFile(tmp_path / "a.qdpx") as zf:
        root = DET.fromstring(zf.read("project.qde"))
    q = f"{{{NS}}}"
    assert [c.tag for c in root] == [q + "Users", q + "CodeBook", q + "Sources"]
    for code in root.iter(q + "Code"):
        assert {"guid", "name", "isCodable"} <= set(code.attrib)
    for sel in root.iter(q + "PlainTextSelection"):
        assert {"guid", "startPosition", "endPosition"} <= set(sel.attrib)
        for cod in sel.iter(q + "Coding"):
            assert "guid" in cod.attrib and len(cod.findall(q + "CodeRef")) == 1
    for src in root.iter(q + "TextSource"):
        assert src.get("plainTextPath", "").startswith("internal://")


def test_write_rejects_code_missing_from_codebook(tmp_path, segments, codebook):
    with pytest.raises(InputError, match="P_EVENTS"):
        write_qdpx(segments, codebook[codebook["code"] != "P_EVENTS"], tmp_path / "x.qdpx", "p")


def test_write_rejects_two_codes_for_one_segment_and_coder(tmp_path, segments, codebook):
    bad = pd.concat([segments, segments.iloc[[0]].assign(code="F_STATUS")], ignore_index=True)
    with pytest.raises(InputError, match="I01-S01.*coder 'C1'"):
        write_qdpx(bad, codebook, tmp_path / "x.qdpx", "p")
    assert not (tmp_path / "x.qdpx").exists()


# ----------------------------------------------------------------------------------------------------
# a third-party style export
# ----------------------------------------------------------------------------------------------------


def test_reads_foreign_style_export(tmp_path):
    path = make_zip(
        tmp_path / "foreign.qdpx",
        {
            "project.qde": (DATA / "foreign_project.qde").read_bytes(),
            "sources/i02.txt": (DATA / "i02.txt").read_bytes(),
            "sources/logo.png": b"\x89PNG fake",
        },
    )
    got = read_qdpx(path)
    expected = pd.DataFrame(
        {
            "interview_id": ["I01", "I01", "I01", "I01", "I02"],
            "segment_id": ["I01-S1", "I01-S1", "I01-S2", "I01-S2", "{DDDDDDDD-0000-4000-8000-000000000004}"],
            "coder": ["C1", "C2", "C1", "C2", "C1"],
            "code": ["P_WEB", "P_WEB", "P_REFVISIT", "F_STATUS", "F_STATUS"],
            "excerpt": [
                "We publish our cases on the web.",
                "We publish our cases on the web.",
                "Prospects visit our customers.",
                "Prospects visit our customers.",
                "Äänekoski",
            ],
        }
    )
    pd.testing.assert_frame_equal(got.segments, expected)
    codes = got.codes.set_index("code")
    assert codes.index.tolist() == ["F_STATUS", "P_REFVISIT", "P_WEB", "Practices"]
    assert codes.at["P_WEB", "parent"] == "Practices" and pd.isna(codes.at["F_STATUS", "parent"])
    assert not codes.at["Practices", "is_codable"]
    assert codes.at["F_STATUS", "definition"].startswith("A reputable reference customer")


# ----------------------------------------------------------------------------------------------------
# hostile or broken exports
# ----------------------------------------------------------------------------------------------------


def test_rejects_zip_bomb_by_ratio(tmp_path):
    path = make_zip(tmp_path / "bomb.qdpx", {"project.qde": b"<" + b" " * (8 * 1024 * 1024)})
    assert path.stat().st_size < 64 * 1024
    with pytest.raises(InputError, match=r"expands \d+-fold.*ZIP bomb") as e:
        read_qdpx(path)
    assert "bomb.qdpx" in str(e.value) and "Fix:" in str(e.value)


def test_rejects_too_much_uncompressed_data(tmp_path):
    path = make_zip(tmp_path / "big.qdpx", {"project.qde": b"x" * 5000}, compress=zipfile.ZIP_STORED)
    with pytest.raises(InputError, match="5000 bytes uncompressed, above the limit of 4096"):
        read_qdpx(path, limits=ZipLimits(max_uncompressed_bytes=4096))


def test_rejects_too_many_members(tmp_path):
    members = {"project.qde": project_xml("")}
    members.update({f"sources/{i:05d}.txt": b"" for i in range(5001)})
    path = make_zip(tmp_path / "many.qdpx", members, compress=zipfile.ZIP_STORED)
    with pytest.raises(InputError, match="5002 members, more than the limit of 5000"):
        read_qdpx(path)


@pytest.mark.parametrize(
    "name", ["../evil.txt", "sources/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "..\\evil.txt"]
)
def test_rejects_path_traversal_members(tmp_path, name):
    path = make_zip(tmp_path / "trav.qdpx", {"project.qde": project_xml(""), name: b"x"})
    with pytest.raises(InputError, match="absolute path or a '\\.\\.' component"):
        read_qdpx(path)


def test_rejects_symlink_member(tmp_path):
    path = tmp_path / "link.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", project_xml(""))
        info = zipfile.ZipInfo("sources/link.txt")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(InputError, match="'sources/link.txt' is a symbolic link"):
        read_qdpx(path)


def test_rejects_billion_laughs(tmp_path):
    path = make_zip(tmp_path / "lol.qdpx", {"project.qde": (DATA / "billion_laughs.qde").read_bytes()})
    with pytest.raises(InputError, match="entity expansion.*billion laughs.*DTDs are refused") as e:
        read_qdpx(path)
    assert "remove the <!DOCTYPE" in str(e.value)


def test_rejects_external_entity(tmp_path):
    path = make_zip(tmp_path / "xxe.qdpx", {"project.qde": (DATA / "external_entity.qde").read_bytes()})
    with pytest.raises(InputError, match="external-entity declaration"):
        read_qdpx(path)


def test_rejects_missing_project_qde(tmp_path):
    path = make_zip(tmp_path / "noproj.qdpx", {"codebook.qdc": b"<CodeBook/>", "sources/a.txt": b"x"})
    with pytest.raises(InputError, match="no 'project.qde'"):
        read_qdpx(path)


def test_rejects_not_a_zip(tmp_path):
    path = tmp_path / "plain.qdpx"
    path.write_text("interview_id,segment_id\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a ZIP archive"):
        read_qdpx(path)


def test_rejects_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_qdpx(tmp_path / "nope.qdpx")


def test_rejects_malformed_xml(tmp_path):
    path = make_zip(tmp_path / "bad.qdpx", {"project.qde": b"<Project xmlns='urn:QDA-XML:project:1.0'>"})
    with pytest.raises(InputError, match="not well-formed XML"):
        read_qdpx(path)


def test_rejects_wrong_root(tmp_path):
    path = make_zip(tmp_path / "cb.qdpx", {"project.qde": b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'/>"})
    with pytest.raises(InputError, match="not 'Project' in namespace urn:QDA-XML:project:1.0"):
        read_qdpx(path)


def test_rejects_coderef_to_unknown_code(tmp_path):
    xml = project_xml(text_source(selection(target="99999999-0000-4000-8000-000000000000")))
    path = make_zip(tmp_path / "ref.qdpx", {"project.qde": xml})
    with pytest.raises(InputError, match="PlainTextSelection 'S1' in TextSource 'I01'.*99999999.*does not define"):
        read_qdpx(path)


def test_rejects_selection_without_coding(tmp_path):
    path = make_zip(tmp_path / "nocode.qdpx", {"project.qde": project_xml(text_source(selection(coding=False)))})
    with pytest.raises(InputError, match="PlainTextSelection 'S1' in TextSource 'I01' has no Coding"):
        read_qdpx(path)


def test_rejects_two_codings_by_one_coder(tmp_path):
    codes = (
        '<Code guid="00000000-0000-4000-8000-0000000000c1" name="P_WEB" isCodable="true"/>'
        '<Code guid="00000000-0000-4000-8000-0000000000c2" name="P_EVENTS" isCodable="true"/>'
    )
    sel = selection("S1").replace(
        "</PlainTextSelection>",
        '<Coding guid="00000000-0000-4000-8000-0000000000f1" creatingUser="00000000-0000-4000-8000-000000000001">'
        '<CodeRef targetGUID="00000000-0000-4000-8000-0000000000c2"/></Coding></PlainTextSelection>',
    )
    path = make_zip(tmp_path / "two.qdpx", {"project.qde": project_xml(text_source(sel), codes=codes)})
    with pytest.raises(InputError, match="segment 'S1' has 2 codings by coder 'C1'"):
        read_qdpx(path)


def test_rejects_unknown_user(tmp_path):
    sel = selection(user="12345678-0000-4000-8000-000000000000")
    path = make_zip(tmp_path / "user.qdpx", {"project.qde": project_xml(text_source(sel))})
    with pytest.raises(InputError, match="user GUID '12345678-0000-4000-8000-000000000000'"):
        read_qdpx(path)


def test_rejects_missing_internal_source_file(tmp_path):
    body = (
        '<TextSource guid="00000000-0000-4000-8000-0000000000a1" name="I01" plainTextPath="internal://gone.txt">'
        + selection()
        + "</TextSource>"
    )
    path = make_zip(tmp_path / "gone.qdpx", {"project.qde": project_xml(body)})
    with pytest.raises(InputError, match="no member 'sources/gone.txt'"):
        read_qdpx(path)


def test_description_and_file_mode(tmp_path, segments, codebook):
    import defusedxml.ElementTree as DET

    path = tmp_path / "d.qdpx"
    write_qdpx(segments, codebook, path, "Study 1", description="SYNTHETIC DATA: not the paper's data")
    with zipfile.ZipFile(path) as zf:
        root = DET.fromstring(zf.read("project.qde"))
    q = f"{{{NS}}}"
    assert [c.tag for c in root][-1] == q + "Description"  # after Sources, as Project.xsd orders it
    assert root.find(q + "Description").text.startswith("SYNTHETIC DATA")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not mkstemp's private 0600
    pd.testing.assert_frame_equal(read_qdpx(path).segments, segments)
