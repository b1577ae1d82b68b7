"""Loading and checking the pipeline configuration.

Two layers: the JSON Schema (workflow/schemas/config.schema.yaml) checks shape, types and unknown keys;
:func:`check_config` checks what a schema cannot: cross-references between sections. Both raise
:class:`crfm.errors.ConfigError` naming the key and the fix.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from crfm.errors import ConfigError

# libyaml's C parser where PyYAML was built with it (the wheels are): the same YAML, parsed ~10x
# faster; Snakemake reads every config at start-up, so this is start-up time of every run.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str):
    """``yaml.safe_load`` with the C parser when available."""
    return yaml.load(text, Loader=_LOADER)  # a safe loader (SafeLoader or its C twin)


def load_yaml(path) -> dict:
    """Read a YAML (or JSON) mapping strictly: a key given twice in one mapping is refused (YAML and JSON
    parsers silently keep the last one, so a setting could change without a trace)."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(str(path), "is a directory, not a YAML file", "give the path of the .yaml file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(str(path), "file not found", "check the path given to --configfile") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path), f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x})", "save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read ({exc.strerror})", "check the path and its permissions") from None
    try:
        data, dup = parse_yaml_unique(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            str(path), f"not valid YAML ({' '.join(str(exc).split())})", "fix the YAML syntax at the position shown"
        ) from None
    if dup:
        key, line1, line2 = dup
        at = f"lines {line1} and {line2}" if line1 else "one object"
        raise ConfigError(
            key,
            f"the key is given twice in {path} ({at}); YAML would silently keep only the last value",
            f"delete one of the two entries ({at}) of {path}",
        )
    if not isinstance(data, dict):
        raise ConfigError(str(path), "the file does not hold a mapping of keys", "write `key: value` pairs")
    return data


def _scalar_key(node):
    """The value a mapping key resolves to (so `1` and `0x1`, or `true` and `True`, are the same key)."""
    if isinstance(node, yaml.ScalarNode):
        try:
            return ("scalar", yaml.constructor.SafeConstructor().construct_object(node))
        except (yaml.YAMLError, ValueError, TypeError):
            return ("scalar", node.tag, node.value)
    return ("node", id(node))


def parse_yaml_unique(text: str):
    """Parse ``text`` once and look for a key that a mapping gives twice (YAML and JSON parsers silently
    keep the last one): ``(data, None)``, or ``(None, (key path, first line, second line))`` for the
    first duplicate. Works on the YAML node graph, which is then constructed into the data (JSON is read
    as YAML, as Snakemake falls back to); a ``<<`` merge key is not a duplicate, it is YAML's explicit
    way of overriding. Lines are 1-based; for a file only JSON can read they are None, and a file that
    is neither raises ``yaml.YAMLError``."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        dup = _duplicate_json_key(text)
        if dup:
            return None, dup
        raise
    dup = _first_duplicate(root)
    if dup:
        return None, dup
    return (None if root is None else _LOADER("").construct_document(root)), None


def _first_duplicate(root):
    todo, seen = [(root, [])], set()
    while todo:
        node, where = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first = {}
            for knode, vnode in node.value:
                if isinstance(knode, yaml.ScalarNode) and knode.tag == "tag:yaml.org,2002:merge":
                    continue
                k = _scalar_key(knode)
                name = knode.value if isinstance(knode, yaml.ScalarNode) else "<complex key>"
                if k in first:
                    return _key_path([*where, name]), first[k].start_mark.line + 1, knode.start_mark.line + 1
                first[k] = knode
                todo.append((vnode, [*where, name]))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend((v, [*where, k]) for k, v in enumerate(node.value))
    return None


class _Duplicate(Exception):
    pass


def _duplicate_json_key(text: str):
    """A file YAML cannot read but JSON can (Snakemake reads config files as JSON first)."""

    def pairs(items):
        keys = [k for k, _ in items]
        dup = next((k for k in keys if keys.count(k) > 1), None)
        if dup is not None:
            raise _Duplicate(dup)
        return dict(items)

    try:
        json.loads(text, object_pairs_hook=pairs)
    except _Duplicate as d:
        return str(d.args[0]), None, None
    except ValueError:
        pass  # neither valid YAML nor JSON: the reader reports that
    return None


def check_config_files(paths) -> None:
    """Every configuration file a run reads (``config/config.yaml`` and each ``--configfile``): readable
    and without a key given twice."""
    for p in dict.fromkeys(str(p) for p in paths):
        load_yaml(p)


def _key_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def validate_schema(config: dict, schema_path, sections: dict | None = None) -> None:
    """Check ``config`` against the JSON Schema; the first error (in a stable order) is raised.

    ``sections``: {key: schema} of the config sections the base schema leaves to others (each
    registered study's section, :mod:`crfm.studies`), added to its ``properties``. Without them
    (``None``) those sections are accepted unchecked, for callers below the study layer (the synthetic
    generator); the workflow always passes them."""
    import jsonschema

    schema = load_yaml(schema_path)
    if sections is None:
        schema["additionalProperties"] = True
    else:
        schema["properties"] = {**schema["properties"], **sections}
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return
    err = errors[0]
    # descend into oneOf/allOf context to find the most specific message
    while err.context:
        err = sorted(err.context, key=lambda e: (-len(e.absolute_path), e.message))[0]
    key = _key_path(err.absolute_path)
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        known = ", ".join(sorted(err.schema.get("properties", {})))
        raise ConfigError(
            _key_path(list(err.absolute_path) + [extra[0]]) if extra else key,
            f"unknown key {extra} (misspelled?)",
            f"use one of: {known}",
        )
    raise ConfigError(key, err.message, "see workflow/schemas/config.schema.yaml and config/README.md")


@dataclass(frozen=True)
class Construct:
    name: str
    label: str
    items: tuple[str, ...]
    reverse: tuple[str, ...]
    scale_type: str
    scale_min: float | None
    scale_max: float | None
    texts: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class MeasurementModel:
    """Constructs -> items, reverse keys and scales, as the config declares them."""

    constructs: dict  # name -> Construct (in config order)
    second_order: dict | None  # {'factor', 'label', 'dimensions'} or None

    @classmethod
    def from_config(cls, config: dict) -> MeasurementModel:
        cons = {}
        for c in config["measurement"]:
            scale = c["scale"]
            cons[c["construct"]] = Construct(
                name=c["construct"],
                label=c.get("label", c["construct"]),
                items=tuple(i["id"] for i in c["items"]),
                reverse=tuple(c.get("reverse") or ()),
                scale_type=scale["type"],
                scale_min=scale.get("min"),
                scale_max=scale.get("max"),
                texts={i["id"]: i.get("text", "") for i in c["items"]},
            )
        return cls(cons, config.get("second_order"))

    def items_of(self, constructs) -> list[str]:
        return [i for c in constructs for i in self.constructs[c].items]

    def construct_of(self, item: str) -> str:
        for c in self.constructs.values():
            if item in c.items:
                return c.name
        raise KeyError(item)

    def item_map(self, constructs) -> dict[str, list[str]]:
        return {c: list(self.constructs[c].items) for c in constructs}

    def reverse_items(self) -> set[str]:
        return {i for c in self.constructs.values() for i in c.reverse}

    def scale_of(self, item: str) -> Construct:
        return self.constructs[self.construct_of(item)]

    def item_text(self, item: str) -> str:
        return self.scale_of(item).texts.get(item, "")


# Free text (labels, item and hypothesis wordings) may hold tabs and line breaks; every other string
# (paths, IDs, levels, coder names) none.
FREE_TEXT_KEYS = {"label", "short", "text", "description"}
# File paths: `snakemake --report` writes every job's input paths into a <script> element unescaped, so a
# '<' or '>' in a path ('</script><img onerror=...>') would become live markup in report.html.
PATH_KEYS = {"survey", "interviews", "segments", "codebook", "qdpx", "manifest"}
_CONTROL_ANY = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def check_values(config) -> None:
    """Every number of the config is finite (YAML's ``.inf``/``.nan`` pass a JSON Schema's ``type:
    number``) and no string holds a control character (they would reach tables, figures and the
    appendix's LaTeX raw)."""
    todo = [([], config)]
    while todo:
        where, node = todo.pop()
        if isinstance(node, dict):
            todo.extend(([*where, str(k)], v) for k, v in node.items())
        elif isinstance(node, list):
            todo.extend(([*where, k], v) for k, v in enumerate(node))
        elif isinstance(node, float) and not math.isfinite(node):
            raise ConfigError(_key_path(where), f"{node!r} is not a finite number", "write a finite number")
        elif isinstance(node, str):
            if where and where[-1] in PATH_KEYS and ("<" in node or ">" in node):
                raise ConfigError(
                    _key_path(where),
                    "the path holds '<' or '>'; Snakemake's report would write it into a script element as markup",
                    "rename the file or folder without '<' and '>'",
                )
            free = bool(where) and where[-1] in FREE_TEXT_KEYS
            m = (_CONTROL_TEXT if free else _CONTROL_ANY).search(node)
            if m:
                what = "a control character" if not free else "a control character (other than tab or line break)"
                raise ConfigError(
                    _key_path(where),
                    f"the value holds {what}, {m.group(0).encode('unicode_escape').decode('ascii')!s} at position {m.start() + 1}",
                    "delete the character (it would reach the tables, figures and appendix as raw bytes)",
                )


def check_config(config: dict) -> MeasurementModel:
    """Cross-reference checks the schema cannot express. Returns the measurement model."""
    check_values(config)
    seen_c, seen_i = {}, {}
    for k, c in enumerate(config["measurement"]):
        name = c["construct"]
        key = f"measurement[{k}]"
        if name in seen_c:
            raise ConfigError(
                f"{key}.construct", f"construct '{name}' is declared twice", "give each construct one entry"
            )
        seen_c[name] = k
        ids = [i["id"] for i in c["items"]]
        if len(ids) < 2:
            raise ConfigError(
                f"{key}.items",
                f"construct '{name}' has {len(ids)} item; a reflective construct needs at least two",
                "add items or drop the construct",
            )
        for j, item in enumerate(ids):
            if item in seen_i:
                raise ConfigError(
                    f"{key}.items[{j}]",
                    f"item '{item}' is listed in two constructs ('{seen_i[item]}' and '{name}')",
                    "list each item under exactly one construct",
                )
            seen_i[item] = name
        for r in c.get("reverse") or []:
            if r not in ids:
                raise ConfigError(
                    f"{key}.reverse", f"reverse-keyed item '{r}' is not an item of '{name}'", f"use one of {ids}"
                )
        scale = c["scale"]
        if scale["type"] == "likert":
            lo, hi = scale.get("min"), scale.get("max")
            if lo is None or hi is None or lo != int(lo) or hi != int(hi) or lo >= hi:
                raise ConfigError(
                    f"{key}.scale", "a likert scale needs integer min < max", "e.g. {type: likert, min: 1, max: 7}"
                )
        if c.get("reverse") and (scale.get("min") is None or scale.get("max") is None):
            raise ConfigError(
                f"{key}.scale", f"reverse-keyed items of '{name}' need scale min and max", "set scale min and max"
            )
    model = MeasurementModel.from_config(config)

    so = config.get("second_order")
    if so:
        for d in so["dimensions"]:
            if d not in model.constructs:
                raise ConfigError(
                    "second_order.dimensions",
                    f"'{d}' is not a construct of `measurement`",
                    f"use one of {list(model.constructs)}",
                )
        if so["factor"] in model.constructs:
            raise ConfigError(
                "second_order.factor",
                f"'{so['factor']}' is also a first-order construct",
                "give the second-order factor its own name",
            )

    for study in config["studies"]:
        if study not in config:
            raise ConfigError(
                "studies",
                f"'{study}' is listed but the config has no `{study}:` section",
                f"add a `{study}:` section or drop it from `studies`",
            )

    def need_construct(key, name):
        if name not in model.constructs:
            raise ConfigError(
                key, f"'{name}' is not a construct of `measurement`", f"use one of {list(model.constructs)}"
            )

    s1 = config.get("study1") if "study1" in config["studies"] else None
    if isinstance(s1, dict) and s1.get("source", "segments") == "qdpx":
        rel = s1.get("reliability")
        rating = rel.get("intensity") if isinstance(rel, dict) else None
        if rating:
            raise ConfigError(
                "study1.reliability.intensity",
                f"study1.source is qdpx, and a REFI-QDA export carries the codes only, not the rating column '{rating.get('column')}'",
                "set study1.reliability.intensity: null with source: qdpx, or keep the ratings in the segments CSV (source: segments)",
            )
    for study in ("study2", "study3"):
        if study not in config["studies"]:
            continue
        sc = config[study]
        if study == "study2":
            for k, c in enumerate(sc["constructs"]):
                need_construct(f"study2.constructs[{k}]", c)
        else:
            need_construct("study3.outcome", sc["outcome"])
            for k, m in enumerate(sc["moderators"]):
                need_construct(f"study3.moderators[{k}]", m)
            if sc.get("marker"):
                need_construct("study3.marker", sc["marker"])
            focal_ok = sc["focal"] in model.constructs or (so and sc["focal"] == so["factor"])
            if not focal_ok:
                raise ConfigError(
                    "study3.focal",
                    f"'{sc['focal']}' is neither a construct nor the second-order factor",
                    "name a construct or second_order.factor",
                )
            varnames = [v["column"] for v in sc.get("variables", [])]
            for k, ctl in enumerate(sc.get("controls", [])):
                if ctl not in varnames:
                    raise ConfigError(
                        f"study3.controls[{k}]",
                        f"control '{ctl}' is not declared in study3.variables",
                        "declare it under study3.variables",
                    )
        for k, v in enumerate(sc.get("variables", [])):
            vk = f"{study}.variables[{k}]"
            if v["column"] in seen_i:
                raise ConfigError(
                    vk,
                    f"'{v['column']}' is already an item of '{seen_i[v['column']]}'",
                    "give the variable another column name",
                )
            if v["type"] == "derived":
                if not v.get("from") or not v.get("transform"):
                    raise ConfigError(
                        vk,
                        "a derived variable needs `from` and `transform`",
                        "e.g. {column: log_size, type: derived, from: size, transform: log}",
                    )
                source = next((w for w in sc["variables"] if w["column"] == v["from"]), None)
                if source is None:
                    raise ConfigError(
                        f"{vk}.from", f"'{v['from']}' is not a declared variable", "declare the source column first"
                    )
                if source["type"] != "continuous":
                    raise ConfigError(
                        f"{vk}.from",
                        f"'{v['from']}' is a {source['type']} variable; a derived variable is computed from a continuous column of the sheet",
                        "derive it from a `continuous` variable (a raw numeric column)",
                    )
            if v["type"] == "categorical" and not v.get("levels"):
                raise ConfigError(vk, "a categorical variable needs `levels`", "list the allowed values")
        ex = sc.get("exclusions") or {}
        sl = ex.get("straightlining")
        if sl:
            for b, block in enumerate(sl["blocks"]):
                for j, c in enumerate(block):
                    need_construct(f"{study}.exclusions.straightlining.blocks[{b}][{j}]", c)
        ac = ex.get("attention_check")
        if ac and ac["column"] in seen_i:
            raise ConfigError(
                f"{study}.exclusions.attention_check.column",
                f"'{ac['column']}' is a scale item",
                "name the attention-check column",
            )

    if "design" in config["studies"]:
        d = config["design"]
        if d["size"] not in d["sizes"]:
            raise ConfigError(
                "design.size", f"'{d['size']}' is not one of design.sizes {sorted(d['sizes'])}", "pick a defined size"
            )
        for key in ("second_order", "study3", "population"):
            if not config.get(key):
                raise ConfigError(
                    key,
                    "the design analysis simulates from the population model and the Study 3 setup",
                    f"declare `{key}`",
                )

    if "study1" in config["studies"]:
        s1 = config["study1"]
        if s1.get("source", "segments") == "qdpx" and not s1.get("qdpx"):
            raise ConfigError(
                "study1.qdpx",
                "study1.source is 'qdpx' but no .qdpx file is set",
                "set study1.qdpx or use source: segments",
            )
        if not so:
            raise ConfigError(
                "second_order",
                "Study 1 traces codes to the CRFM dimensions named in second_order.dimensions",
                "declare second_order",
            )
    return model


def load_config(path, schema_path, sections: dict | None = None) -> tuple[dict, MeasurementModel]:
    config = load_yaml(path)
    validate_schema(config, schema_path, sections)
    return config, check_config(config)


def config_hash(config: dict) -> str:
    """sha256 of the canonical JSON of the config (provenance)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
