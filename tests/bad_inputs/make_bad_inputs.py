"""Writes the malformed inputs in this folder from the shipped synthetic raw files (run from the repo
root: `python tests/bad_inputs/make_bad_inputs.py`). Each file breaks the contract in one way; the
expected message fragment for each is in tests/test_bad_inputs.py."""

from pathlib import Path

import yaml

HERE = Path(__file__).parent
RAW = Path("resources/raw")


def lines(name, n=13):
    text = (RAW / name).read_text(encoding="utf-8").splitlines()
    return text[: n + 1]  # the synthetic banner, the header and n - 1 rows


def write(name, rows, encoding="utf-8"):
    (HERE / name).write_bytes(("\n".join(rows) + "\n").encode(encoding))


def edit_cell(rows, line_no, col, value):
    header = rows[1].split(",")
    cells = rows[line_no - 1].split(",")
    cells[header.index(col)] = value
    rows[line_no - 1] = ",".join(cells)
    return rows


def drop_col(rows, col):
    idx = rows[1].split(",").index(col)
    return [rows[0]] + [",".join(c for k, c in enumerate(r.split(",")) if k != idx) for r in rows[1:]]


s2 = lines("study2_survey.csv")
write("s2_missing_column.csv", drop_col(s2, "RCOM3"))
write("s2_unknown_item.csv", [s2[0], s2[1] + ",RCOM7"] + [r + ",4" for r in s2[2:]])
write("s2_out_of_range.csv", edit_cell(list(s2), 5, "RSEL2", "8"))
write("s2_text_in_numeric.csv", edit_cell(list(s2), 6, "RINT1", "seven"))
write("s2_non_integer_likert.csv", edit_cell(list(s2), 7, "RCOM2", "4.5"))
write("s2_duplicate_id.csv", edit_cell(list(s2), 8, "respondent_id", "R003"))
write("s2_empty.csv", [])
(HERE / "s2_empty.csv").write_bytes(b"")
write("s2_header_only.csv", s2[:2])
write("s2_semicolon.csv", [r.replace(",", ";") for r in s2])
write("s2_utf16_bom.csv", s2, encoding="utf-16")
(HERE / "s2_utf8_bom_ok.csv").write_bytes(b"\xef\xbb\xbf" + ("\n".join(s2) + "\n").encode())
(HERE / "s2_latin1.csv").write_bytes(
    ("\n".join(edit_cell(list(s2), 4, "respondent_id", "R\u00e9003")) + "\n").encode("latin-1")
)
write("s2_ragged_row.csv", s2[:6] + [s2[6] + ",5"] + s2[7:])
write("s2_duplicate_column.csv", [s2[0], s2[1].replace("RCOM2", "RCOM1", 1).replace("RCOM3", "RCOM2")] + s2[2:])

s1i = lines("study1_interviews.csv", 39)
s1s = lines("study1_segments.csv", 40)
write("s1_segments_unknown_interview.csv", edit_cell(list(s1s), 10, "interview_id", "I99"))
write("s1_segments_unknown_code.csv", edit_cell(list(s1s), 11, "code", "P_TELEPATHY"))
dup = list(s1s)
dup.insert(12, edit_cell(list(s1s), 12, "code", "F_STATUS")[11])
write("s1_segments_double_code.csv", dup)
write("s1_interviews_duplicate_id.csv", edit_cell(list(s1i), 6, "interview_id", "I02"))

s3 = lines("study3_survey.csv")
write("s3_unknown_level.csv", edit_cell(list(s3), 4, "industry", "retail"))
write("s3_missing_control.csv", drop_col(s3, "firm_age"))

# Config overrides (merged over config/config.yaml by --configfile).
cfg = yaml.safe_load(Path("config/config.yaml").read_text())
configs = {
    "config_misspelled_key.yaml": {"study2": {"purificaton": {"min_loading": 0.5}}},
    "config_negative_seed.yaml": {"study2": {"parallel_analysis": {"seed": -7}}},
    "config_one_item_construct.yaml": {
        "measurement": [m if m["construct"] != "COMP" else {**m, "items": m["items"][:1]} for m in cfg["measurement"]]
    },
    "config_item_in_two_constructs.yaml": {
        "measurement": [
            m if m["construct"] != "RSEL" else {**m, "items": m["items"] + [{"id": "RCOM1", "text": "duplicate"}]}
            for m in cfg["measurement"]
        ]
    },
}
for name, body in configs.items():
    (HERE / name).write_text(yaml.safe_dump(body, sort_keys=False))

# Study 1 reliability: one coder only; two coders who share no segment.
s1_all = (RAW / "study1_segments.csv").read_text(encoding="utf-8").splitlines()
write("s1_segments_single_coder.csv", [r for r in s1_all if ",C2," not in r])
no_overlap = []
for r in s1_all:
    if ",C2," in r:
        cells = r.split(",")
        cells[1] = cells[1] + "x"
        r = ",".join(cells)
    no_overlap.append(r)
write("s1_segments_no_overlap.csv", no_overlap)

# Hostile REFI-QDA exports.
import zipfile  # noqa: E402

FIXED = (1980, 1, 1, 0, 0, 0)


def zip_members(name, members):
    with zipfile.ZipFile(HERE / name, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members:
            zf.writestr(zipfile.ZipInfo(member, FIXED), data)


with zipfile.ZipFile(RAW / "study1_coding.qdpx") as zf:
    project = zf.read("project.qde")
zip_members("s1_traversal.qdpx", [("project.qde", project), ("../../outside.txt", b"escape")])
laughs = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b']>\n<Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>\n'
)
zip_members("s1_billion_laughs.qdpx", [("project.qde", laughs)])
(HERE / "s1_not_a_zip.qdpx").write_bytes(b"this is not a zip archive\n")

# Study 2 analysis failures (well-formed files the statistics cannot use).
s2_full = (RAW / "study2_survey.csv").read_text(encoding="utf-8").splitlines()
hdr = s2_full[1].split(",")


def set_col(rows, col, fn):
    k = hdr.index(col)
    out = rows[:2]
    for r in rows[2:]:
        cells = r.split(",")
        cells[k] = fn(cells)
        out.append(",".join(cells))
    return out


write("s2_zero_variance.csv", set_col(s2_full, "RINT3", lambda c: "4"))
write("s2_singular.csv", set_col(s2_full, "RCOM2", lambda c: c[hdr.index("RCOM1")]))
write("s2_too_few_cases.csv", s2_full[:14])

# Study 3 analysis failures.
s3_full = (RAW / "study3_survey.csv").read_text(encoding="utf-8").splitlines()
hdr3 = s3_full[1].split(",")
k_age = hdr3.index("firm_age")
rows3 = s3_full[:2]
for r in s3_full[2:]:
    cells = r.split(",")
    cells[k_age] = "10"
    rows3.append(",".join(cells))
write("s3_constant_control.csv", rows3)
write("s3_too_few_cases.csv", s3_full[:12])
