#!/usr/bin/env python3
"""Checks the benchmark queries' answers before any load is run.

  compare.py pair NAME DUCHA.json PGL.json
      ducha and PostGraphile gave the same data for query NAME.
  compare.py colour LIST.json COLOUR.json
      ducha's list+colour answer is its list answer with valid colours added.

Exits 1 and prints the first differences when the check fails.

The answers are normalised before they are compared. The two servers encode some values
differently, and the normalising is needed only for these:
- databaseId: ducha gives an Int (60). PostGraphile gives a BigInt, which is a JSON
  string ("60"). Both become integers.
- Timestamps (keys ending in "At"): ducha writes 2026-11-20T10:00:00+00:00, PostGraphile
  2026-11-20T10:00:00.000000+00:00. Both are compared as instants.
Every other key and value must be the same, in the same order.
"""
import json
import re
import sys
from datetime import datetime, timedelta, timezone

COLOURS = {"NONE", "BLUE", "YELLOW", "RED"}
_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def instant(text):
    """An ISO 8601 timestamp as an aware UTC datetime. Any number of fraction digits is
    accepted, so this also works on Python older than 3.11."""
    m = _TS.match(text)
    if not m:
        raise ValueError(f"not a timestamp: {text!r}")
    base, frac, zone = m.groups()
    micros = int((frac or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    return datetime.fromisoformat(base).replace(microsecond=micros, tzinfo=tz).astimezone(timezone.utc)


def norm(value, key=""):
    if isinstance(value, dict):
        return {k: norm(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [norm(v) for v in value]
    if key == "databaseId" and value is not None:
        return int(value)
    if key.endswith("At") and isinstance(value, str):
        return instant(value)
    return value


def load(path):
    """The normalised list of items in a GraphQL answer (items(...) or item(...))."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("errors"):
        sys.exit(f"{path}: the answer has GraphQL errors: {json.dumps(doc['errors'], ensure_ascii=False)[:2000]}")
    data = doc.get("data") or {}
    if "items" in data:
        items = [edge["node"] for edge in data["items"]["edges"]]
    elif "item" in data:
        items = [] if data["item"] is None else [data["item"]]
    else:
        sys.exit(f"{path}: neither data.items nor data.item in the answer")
    return norm(items)


def show(value):
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def diffs(a, b, path="$"):
    """Paths where a and b differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                yield f"{path}.{k}: present only in {'the first' if k in a else 'the second'}"
            else:
                yield from diffs(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path}: {len(a)} elements vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            yield from diffs(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        yield f"{path}: {show(a)} vs {show(b)}"


def summary(items):
    return f"{len(items)} items, {sum(len(i.get('assignments') or []) for i in items)} assignments"


def fail(found):
    for line in found[:20]:
        print("  " + line)
    if len(found) > 20:
        print(f"  … and {len(found) - 20} more")
    sys.exit(1)


def pair(name, ducha_path, pgl_path):
    a, b = load(ducha_path), load(pgl_path)
    print(f"{name}: ducha {summary(a)}; PostGraphile {summary(b)}")
    if not a:
        sys.exit(f"{name}: ducha's answer has no item; the comparison would prove nothing")
    found = list(diffs(a, b))
    if found:
        print(f"{name}: ducha and PostGraphile DIFFER (first = ducha, second = PostGraphile):")
        fail(found)
    print(f"{name}: identical after normalisation")


def colour(list_path, colour_path):
    plain, coloured = load(list_path), load(colour_path)
    print(f"list+colour: ducha {summary(coloured)}")
    if not coloured:
        sys.exit("list+colour: ducha's answer has no item")
    found = []
    stripped = []
    for i, item in enumerate(coloured):
        item = dict(item)
        if item.pop("colour", None) not in COLOURS:
            found.append(f"$[{i}].colour is missing or not one of {sorted(COLOURS)}")
        if not isinstance(item.pop("colourReason", None), str):
            found.append(f"$[{i}].colourReason is missing")
        assignments = []
        for j, a in enumerate(item.get("assignments") or []):
            a = dict(a)
            if a.pop("colour", None) not in COLOURS:
                found.append(f"$[{i}].assignments[{j}].colour is missing or invalid")
            assignments.append(a)
        item["assignments"] = assignments
        stripped.append(item)
    found += list(diffs(plain, stripped))
    if found:
        print("list+colour: the answer is not the list answer plus colours (first = list):")
        fail(found)
    counts = {}
    for item in coloured:
        counts[item["colour"]] = counts.get(item["colour"], 0) + 1
    print(f"list+colour: the list answer plus colours; item colours {dict(sorted(counts.items()))}")


def main():
    args = sys.argv[1:]
    if len(args) == 4 and args[0] == "pair":
        pair(*args[1:])
    elif len(args) == 3 and args[0] == "colour":
        colour(*args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
