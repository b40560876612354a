#!/usr/bin/env python3
"""Cross-check cn-holidays.toml against independent public data sets, day by day.

Not part of CI (it needs packages from PyPI and npm). Run it when a year is added:

    pip install chinesecalendar holidays
    npm pack chinese-days && tar xzf chinese-days-*.tgz   # optional third source
    python3 calendar/data/crosscheck.py [path/to/package/dist/chinese-days.json]

It prints every date on which any source disagrees with ours about whether the day is a
working day, and exits non-zero if there is one that SOURCES.md does not already explain.
"""

import datetime
import json
import pathlib
import sys
import tomllib

HERE = pathlib.Path(__file__).parent
FIRST, LAST = 2004, 2026

# Disagreements investigated and resolved in SOURCES.md: date -> source names that are wrong.
EXPLAINED = {
    datetime.date(2005, 12, 31): {"chinesecalendar", "chinese-days"},
}


def days_of(text):
    if ".." in text:
        a, b = (datetime.date.fromisoformat(s) for s in text.split(".."))
    else:
        a = b = datetime.date.fromisoformat(text)
    while a <= b:
        yield a
        a += datetime.timedelta(days=1)


def ours():
    data = tomllib.loads((HERE / "cn-holidays.toml").read_text(encoding="utf-8"))
    special = {}
    for year in data["year"]:
        for notice in [year] + year.get("amendment", []):
            for holiday in notice["holidays"]:
                for r in holiday.get("off", []):
                    for d in days_of(r):
                        special[d] = False
                for w in holiday.get("work", []):
                    special[datetime.date.fromisoformat(w)] = True
    return lambda d: special.get(d, d.weekday() < 5)


def sources(chinese_days_json):
    found = {}
    try:
        import chinese_calendar

        found["chinesecalendar"] = chinese_calendar.is_workday
    except ImportError:
        print("chinesecalendar not installed; skipped", file=sys.stderr)
    try:
        import holidays

        cn = holidays.China(years=range(FIRST - 1, LAST + 1))
        found["python-holidays"] = cn.is_working_day
    except ImportError:
        print("holidays not installed; skipped", file=sys.stderr)
    if chinese_days_json:
        data = json.loads(pathlib.Path(chinese_days_json).read_text(encoding="utf-8"))
        off = {datetime.date.fromisoformat(k) for k in data["holidays"]}
        on = {datetime.date.fromisoformat(k) for k in data["workdays"]}
        found["chinese-days"] = lambda d: d in on or (d not in off and d.weekday() < 5)
    return found


def main():
    is_working = ours()
    others = sources(sys.argv[1] if len(sys.argv) > 1 else None)
    unexplained = 0
    day = datetime.date(FIRST, 1, 1)
    while day <= datetime.date(LAST, 12, 31):
        wrong = {name for name, f in others.items() if f(day) != is_working(day)}
        if wrong:
            known = wrong <= EXPLAINED.get(day, set())
            unexplained += not known
            print(f"{day} ours={'work' if is_working(day) else 'off'} disagree={sorted(wrong)}"
                  f"{' (explained)' if known else ''}")
        day += datetime.timedelta(days=1)
    print(f"sources compared: {sorted(others)}; unexplained disagreements: {unexplained}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
