"""Schemathesis hooks for the rules that JSON Schema cannot state (SCHEMATHESIS_HOOKS=hooks).

The document states every limit it can (lengths, ranges, patterns, formats). A few rules depend
on today, on another field or on the server's state; the document says them in the
descriptions, and these hooks keep the *positive* test cases within them, one parameter at a
time, so that positive_data_acceptance stays meaningful (a valid request must be accepted) without
switching it off. Negative cases (meant to be refused) are never touched, and no check is
disabled:

- diary dates (the path `date`, the batch's `entries[].date`): not after today in the patient's
  time zone; a batch's dates are distinct; `headache_hours` is 0 or absent when `peak_pain` is 0;
- `cursor` (and the changes feed's `since`): only ever one that the server issued, so a
  positive case sends none (empty); a questionnaire's `completed_on` is not after today and
  its `answers` fit its `instrument`;
- `from`/`to` of any range query: `from` not after `to` (default: the patient's today, which
  may be a day before or after UTC's) and at most 3 years (1096 days) apart;
- `started_at`/`ended_at` of a treatment: from 2000-01-01 to a year ahead, `ended_at` not
  before `started_at`;
- time zones (`timezone`): a name of the IANA database;
- the invite `code` of POST /v1/me/clinicians: one the server issued (a well-formed but unknown
  code is a 422 by design); run.py creates it and passes it in MIGRAINE_DIARY_FUZZ_INVITE_CODE.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from typing import Any

import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

ZONES = zoneinfo.available_timezones()
MAX_RANGE_DAYS = 1096


def _today() -> dt.date:
    # For "not after today": the earliest today anywhere, never later than the patient's.
    return _todays_anywhere()[0]


def _todays_anywhere() -> tuple[dt.date, dt.date]:
    # What the server takes for an omitted `to`: today in the patient's time zone, which the
    # fuzzer itself changes (PATCH /v1/me): anything from UTC-12 to UTC+14, so a day before or
    # after UTC's. A positive range has to hold for all of them.
    now = dt.datetime.now(dt.timezone.utc)
    return (now - dt.timedelta(hours=12)).date(), (now + dt.timedelta(hours=14)).date()


def _positive(case: Any, location: ParameterLocation) -> bool:
    meta = case.meta
    if meta is None:
        return False
    component = meta.components.get(location)
    mode = component.mode if component is not None else meta.generation.mode
    return mode == GenerationMode.POSITIVE


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _not_after_today(value: Any) -> Any:
    day = _date(value)
    return _today().isoformat() if day is not None and day > _today() else value


def _pain_free_hours(entry: Any) -> None:
    if isinstance(entry, dict) and entry.get("peak_pain") == 0 and entry.get("headache_hours"):
        entry["headache_hours"] = 0


def _diary_dates(case: Any) -> None:
    if "{date}" in case.operation.path and _positive(case, ParameterLocation.PATH):
        date = case.path_parameters.get("date")
        case.path_parameters["date"] = _not_after_today(date)
    if "{date}" in case.operation.path and _positive(case, ParameterLocation.BODY):
        _pain_free_hours(case.body)
    if case.operation.path.endswith("/diary/batch") and _positive(case, ParameterLocation.BODY):
        entries = case.body.get("entries") if isinstance(case.body, dict) else None
        if isinstance(entries, list):
            seen: set[Any] = set()
            kept = []
            for entry in entries:
                if isinstance(entry, dict):
                    _pain_free_hours(entry)
                    entry["date"] = _not_after_today(entry.get("date"))
                    if entry["date"] in seen:
                        continue
                    seen.add(entry["date"])
                kept.append(entry)
            case.body["entries"] = kept


def _cursor(case: Any) -> None:
    # `cursor` of the lists and `since` of the changes feed: only ever values the server issued.
    if isinstance(case.query, dict) and _positive(case, ParameterLocation.QUERY):
        for name in ("cursor", "since"):
            if case.query.get(name):
                case.query[name] = ""


def _questionnaire(case: Any) -> None:
    # The answers' count and range depend on `instrument` (one schema covers both; a oneOf per
    # instrument would give every typed client a wrapper type): MIDAS 5 numbers 0-90 plus two
    # optional extras, HIT-6 6 codes 1-5 and no extras.
    body = case.body
    if not (isinstance(body, dict) and case.operation.path.endswith("/questionnaires")):
        return
    if case.operation.method.upper() != "POST" or not _positive(case, ParameterLocation.BODY):
        return
    answers = [a for a in body.get("answers") or [] if isinstance(a, int)]
    if body.get("instrument") == "hit6":
        body["answers"] = [min(max(a, 1), 5) for a in (answers + [1] * 6)[:6]]
        body.pop("headache_days_3_months", None)
        body.pop("average_pain", None)
    elif body.get("instrument") == "midas":
        body["answers"] = [min(max(a, 0), 90) for a in (answers + [0] * 5)[:5]]


CSV_HEADER = (
    "date,peak_pain,headache_hours,aura,nausea,vomiting,photophobia,phonophobia,unilateral,"
    "pulsating,aggravated_by_activity,acute_medications,disability,notes\r\n"
)


def _csv_import(case: Any) -> None:
    # A CSV import needs its header line (a schema of `text/csv` cannot say what it holds).
    if case.operation.path.endswith("/diary/import") and _positive(case, ParameterLocation.BODY):
        if not isinstance(case.body, str) or not case.body.startswith("date,"):
            case.body = CSV_HEADER


def _completed_on(case: Any) -> None:
    if isinstance(case.body, dict) and "completed_on" in case.body and _positive(case, ParameterLocation.BODY):
        case.body["completed_on"] = _not_after_today(case.body["completed_on"])


def _range(case: Any) -> None:
    # Every `from`/`to` pair of the API is an inclusive range of days; the longest is 3 years.
    if case.operation.method.upper() != "GET" or not isinstance(case.query, dict):
        return
    if not _positive(case, ParameterLocation.QUERY):
        return
    start, end = _date(case.query.get("from")), _date(case.query.get("to"))
    if start is None:
        return
    earliest, latest = (end, end) if end is not None else _todays_anywhere()
    if start > earliest:
        start = earliest
    # The range report's calendar fits one page: at most 366 days after `from` (365 here).
    longest = 365 if case.operation.path.endswith("/report") else MAX_RANGE_DAYS
    if (latest - start).days >= longest:
        start = latest - dt.timedelta(days=longest - 1)
    case.query["from"] = start.isoformat()


def _treatment_times(case: Any) -> None:
    if "/treatments" not in case.operation.path or case.operation.method.upper() not in ("POST", "PATCH"):
        return
    if not _positive(case, ParameterLocation.BODY) or not isinstance(case.body, dict):
        return
    earliest = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    latest = dt.datetime.now(dt.timezone.utc)
    started = _instant(case.body.get("started_at"))
    if started is not None and not earliest <= started <= latest:
        started = min(max(started, earliest), latest)
        case.body["started_at"] = started.isoformat()
    ended = _instant(case.body.get("ended_at"))
    if ended is not None:
        # A change without started_at is checked against the stored start (run.py's treatment).
        floor = started or dt.datetime(2024, 3, 1, 4, 30, tzinfo=dt.timezone.utc)
        if ended < floor:
            case.body["ended_at"] = floor.isoformat()


def _timezone(case: Any) -> None:
    if not _positive(case, ParameterLocation.BODY) or not isinstance(case.body, dict):
        return
    zone = case.body.get("timezone")
    if isinstance(zone, str) and zone not in ZONES:
        case.body["timezone"] = "Europe/Berlin"


def _invite_code(case: Any) -> None:
    if case.operation.path != "/v1/me/clinicians" or case.operation.method.upper() != "POST":
        return
    code = os.environ.get("MIGRAINE_DIARY_FUZZ_INVITE_CODE")
    if code and _positive(case, ParameterLocation.BODY) and isinstance(case.body, dict):
        case.body["code"] = code


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    _diary_dates(case)
    _cursor(case)
    _completed_on(case)
    _questionnaire(case)
    _csv_import(case)
    _range(case)
    _treatment_times(case)
    _timezone(case)
    _invite_code(case)
    return case
