"""The Python peer of `qinqing preview`, for `cargo bench --bench preview`.

The six rules a bureau starts with (节日走访慰问, 满旬祝寿, 每月电话联系, 文件送达,
住院看望, 丧葬吊唁), written plainly as a bureau's Python programmer would: read the
roster and staff CSV files, one loop over persons and rules, sxtwl for lunar dates and
chinese_calendar for working days, and one JSON line per reminder stage whose remind
day is in the range, sorted by day and recipient. No caching tricks.

    pip install -r benches/peer/requirements.txt
    python3 benches/peer/preview.py ROSTER.csv STAFF.csv 2026-01-01 2026-12-31 > out.jsonl

The bench's roster has no documents or events sheets, so 文件送达 gives nothing on
either side; 住院看望 reads the 住院日期 column, 丧葬吊唁 a 去世日期 column when there is one.
"""

import csv
import datetime
import json
import sys

import chinese_calendar
import sxtwl

ONE_DAY = datetime.timedelta(days=1)

RULES = [
    {"id": "festival-visit", "remind_before": [7], "escalate_after": 3, "urgent": False},
    {"id": "birthday-milestone", "remind_before": [7, 1], "escalate_after": 3, "urgent": False},
    {"id": "monthly-call", "remind_before": [0], "escalate_after": 20, "urgent": False},
    {"id": "document-delivery", "remind_before": [1], "escalate_after": 3, "urgent": False},
    {"id": "hospital-visit", "remind_before": [], "escalate_after": 3, "urgent": True},
    {"id": "condolence", "remind_before": [], "escalate_after": 3, "urgent": True},
]

RANKS = ["其他", "科级", "副处级", "县处级", "副厅级", "厅级"]


def parse_date(text):
    text = (text or "").strip()
    if not text:
        return None
    return datetime.datetime.strptime(text, "%Y-%m-%d").date()


def is_workday(d):
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        # No State Council notice for that year yet: Monday to Friday.
        return d.weekday() < 5


def workday_on_or_before(d):
    while not is_workday(d):
        d = d - ONE_DAY
    return d


def workday_on_or_after(d):
    while not is_workday(d):
        d = d + ONE_DAY
    return d


def first_workday(year, month):
    return workday_on_or_after(datetime.date(year, month, 1))


def from_lunar(year, month, day, leap):
    """The Gregorian date of a lunar date; day 30 of a 29-day month becomes day 29."""
    d = sxtwl.fromLunar(year, month, day, leap)
    if day == 30 and d.getLunarDay() != 30:
        d = sxtwl.fromLunar(year, month, 29, leap)
    return datetime.date(d.getSolarYear(), d.getSolarMonth(), d.getSolarDay())


def festival(name, year):
    if name == "春节":
        return from_lunar(year, 1, 1, False)
    if name == "七一":
        return datetime.date(year, 7, 1)
    if name == "中秋":
        return from_lunar(year, 8, 15, False)
    if name == "重阳":
        return from_lunar(year, 9, 9, False)
    raise ValueError(name)


def birthdays_in(person, year):
    born = person["birth"]
    out = []
    if person["lunar"]:
        lunar = sxtwl.fromSolar(born.year, born.month, born.day)
        lyear, lmonth, lday = lunar.getLunarYear(), lunar.getLunarMonth(), lunar.getLunarDay()
        leap = lunar.isLunarLeap()
        for y in (year - 1, year):
            age = y - lyear
            if age < 1:
                continue
            this_leap = leap and sxtwl.getRunMonth(y) == lmonth
            d = from_lunar(y, lmonth, lday, this_leap)
            if d.year == year:
                out.append((d, age))
        out.sort()
    else:
        age = year - born.year
        if age >= 1:
            if born.month == 2 and born.day == 29 and not (
                year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
            ):
                out.append((datetime.date(year, 2, 28), age))
            else:
                out.append((datetime.date(year, born.month, born.day), age))
    return out


def occasions(rule, person, year):
    """(date, title, kind, key, remind_on, window_end) for one rule, person and year."""
    out = []
    if rule["id"] == "festival-visit":
        covered = person["category"] in ("离休", "遗属") or (
            person["category"] == "退休"
            and (RANKS.index(person["rank"]) >= RANKS.index("县处级") or person["alone"])
        )
        if covered:
            for name in ["春节", "七一", "中秋", "重阳"]:
                if name == "七一" and not person["party"]:
                    continue
                out.append((festival(name, year), name + "走访慰问", "visit", name, None, None))
    elif rule["id"] == "birthday-milestone":
        for d, age in birthdays_in(person, year):
            if age == 70 or age == 80 or age >= 90:
                out.append((d, "%d岁寿辰" % age, "visit", "", None, None))
    elif rule["id"] == "monthly-call":
        for m in range(1, 13):
            d = first_workday(year, m)
            last = datetime.date(year + (m == 12), m % 12 + 1, 1) - ONE_DAY
            out.append((d, "%d月电话联系" % m, "call", "", None, last))
    elif rule["id"] == "document-delivery":
        for doc in person["documents"]:
            if doc["deadline"].year != year or person["self_care"] == "自理":
                continue
            out.append((doc["deadline"], "送文到家:" + doc["title"], "deliver",
                        "doc-" + doc["id"], [doc["issued"], doc["deadline"] - ONE_DAY], None))
    elif rule["id"] == "hospital-visit":
        since = person["hospitalised"]
        if since is not None and (since + 2 * ONE_DAY).year == year:
            out.append((since + 2 * ONE_DAY, "住院看望", "visit", str(since), [since], None))
    elif rule["id"] == "condolence":
        died = person["died"]
        if died is not None and (died + ONE_DAY).year == year:
            out.append((died + ONE_DAY, "吊唁", "visit", "", [died], None))
    return out


def stages(rule, person, occasion, staff):
    date, title, kind, key, remind_on, window_end = occasion
    urgent = rule["urgent"]
    died = person["died"]

    def alive(d):
        return rule["id"] == "condolence" or died is None or d <= died

    if not alive(date) or not person["staff"]:
        return []
    out = []
    if person["name"] and person["name"] not in title:
        title = person["name"] + " " + title
    deadline = window_end or date
    due = deadline if urgent else workday_on_or_before(deadline)
    line = {
        "due_on": due.isoformat(),
        "kind": kind,
        "occasion_on": date.isoformat(),
        "person": person["id"],
        "rule": rule["id"],
        "title": title,
        "urgent": urgent,
    }
    if remind_on is not None:
        leads = [((date - d).days, d) for d in remind_on]
    else:
        leads = [(lead, date - lead * ONE_DAY) for lead in rule["remind_before"]]
    seen = []
    for lead, day in leads:
        if lead in seen:
            continue
        seen.append(lead)
        if not urgent:
            day = workday_on_or_before(day)
        if not alive(day):
            continue
        for r in person["staff"]:
            out.append(dict(line, remind_on=day.isoformat(), recipient=r, stage="remind",
                            lead_days=lead))
    day = date + rule["escalate_after"] * ONE_DAY
    if not urgent:
        day = workday_on_or_after(day)
    if alive(day):
        bosses = []
        for r in person["staff"]:
            boss = staff.get(r, "")
            if boss not in bosses:
                bosses.append(boss)
        for b in bosses:
            out.append(dict(line, remind_on=day.isoformat(), recipient=b, stage="escalate",
                            lead_days=None))
    return out


def read_roster(path):
    persons = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            persons.append({
                "id": row["身份证号"],
                "name": row["姓名"],
                "birth": parse_date(row["出生日期"]),
                "lunar": row.get("农历生日") == "是",
                "category": row["类别"],
                "rank": row["职级"] or "其他",
                "party": bool((row.get("党支部") or "").strip()),
                "self_care": row.get("自理能力") or "自理",
                "alone": row.get("独居") == "是",
                "hospitalised": parse_date(row.get("住院日期")),
                "died": parse_date(row.get("去世日期")),
                "staff": [s for s in (row.get("联系人") or "").split("、") if s],
                "documents": [],
            })
    return persons


def read_staff(path):
    bosses = {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            bosses[row["工号"]] = row.get("上级") or ""
    return bosses


def main():
    roster, staff_file, first, last = sys.argv[1:5]
    first, last = parse_date(first), parse_date(last)
    persons = read_roster(roster)
    staff = read_staff(staff_file)
    lines = []
    for person in persons:
        for rule in RULES:
            for year in range(first.year - 1, last.year + 2):
                for occasion in occasions(rule, person, year):
                    for s in stages(rule, person, occasion, staff):
                        if first.isoformat() <= s["remind_on"] <= last.isoformat():
                            lines.append(s)
    lines.sort(key=lambda s: (s["remind_on"], s["recipient"], s["occasion_on"], s["rule"],
                              s["person"], s["stage"], s["lead_days"] or -1))
    out = sys.stdout
    for s in lines:
        out.write(json.dumps(s, ensure_ascii=False, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
