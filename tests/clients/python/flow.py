"""What a real app does, through the client that openapi-python-client generates from
openapi/openapi.json. Run by tests/clients/run.sh against a fresh server, with the generated
package `migraine_diary_client` on PYTHONPATH and:

  MIGRAINE_DIARY_URL                         the server
  MIGRAINE_DIARY_CLINICIAN_EMAIL / _PASSWORD a clinician made with `migraine-diary user create`
  MIGRAINE_DIARY_OPENAPI                     the committed document (which operations exist)

Every step asserts the values it gets back; the first failed assertion ends the run non-zero.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import pkgutil
import re
import sys
import time
import traceback
import uuid
from types import ModuleType
from typing import Any

import migraine_diary_client.api as api_pkg
from migraine_diary_client import AuthenticatedClient, Client
from migraine_diary_client.api.auth import login, refresh_tokens, register_patient
from migraine_diary_client.api.care_team import create_care_invite, link_clinician
from migraine_diary_client.api.diary import (
    batch_upsert_diary_entries,
    delete_diary_entry,
    get_diary_entry,
    list_diary_entries,
    upsert_diary_entry,
)
from migraine_diary_client.api.sync import list_changes
from migraine_diary_client.api.accounts import get_me
from migraine_diary_client.api.patients import get_patient
from migraine_diary_client.api.treatments import create_treatment, list_treatments
from migraine_diary_client.models import (
    AcuteMedication,
    ChangeFeed,
    DatedDiaryEntryInput,
    DiaryBatchRequest,
    DiaryEntry,
    DiaryEntryInput,
    DiaryEntryList,
    Disability,
    HeadacheFeatures,
    LoginRequest,
    MedicationClass,
    Problem,
    RedeemInviteRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    Treatment,
    TreatmentInput,
    TreatmentKind,
    User,
)
from migraine_diary_client.types import Response

BASE_URL = os.environ["MIGRAINE_DIARY_URL"]
CLINICIAN_EMAIL = os.environ["MIGRAINE_DIARY_CLINICIAN_EMAIL"]
CLINICIAN_PASSWORD = os.environ["MIGRAINE_DIARY_CLINICIAN_PASSWORD"]
DOC = os.environ["MIGRAINE_DIARY_OPENAPI"]

steps = 0


def step(name: str) -> None:
    global steps
    steps += 1
    print(f"  ok {steps} - {name}", flush=True)


def ok(response: Response[Any], status: int, kind: type) -> Any:
    """The parsed body of a success, checked for status and model class."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert isinstance(response.parsed, kind), type(response.parsed)
    return response.parsed


def problem(response: Response[Any], status: int, kind: str) -> Problem:
    """The problem+json body of an error, through the client's own `Problem` model."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response.headers["content-type"] == "application/problem+json"
    parsed = response.parsed
    assert isinstance(parsed, Problem), type(parsed)
    assert parsed.status == status
    assert parsed.type_ == f"urn:migraine-diary:problem:{kind}", parsed.type_
    assert parsed.title and parsed.detail
    return parsed


def days_ago(n: int) -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=n)


def authed(token: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=BASE_URL, token=token, raise_on_unexpected_status=True)


def main() -> None:
    anon = Client(base_url=BASE_URL, raise_on_unexpected_status=True)
    email = f"ben.{time.time_ns()}@example.org"
    password = "correct horse battery staple"

    # -- register, log in, refresh ------------------------------------------------------------
    me = ok(
        register_patient.sync_detailed(
            client=anon,
            body=RegisterRequest(
                email=email.upper(), password=password, display_name="Ben", timezone="Europe/Berlin"
            ),
        ),
        201,
        User,
    )
    assert me.email == email and me.role.value == "patient" and me.timezone == "Europe/Berlin"
    assert me.display_name == "Ben"
    patient_id: uuid.UUID = me.id
    step("register a patient")

    first = ok(login.sync_detailed(client=anon, body=LoginRequest(email=email, password=password)), 200, TokenPair)
    assert first.token_type.value == "Bearer" and first.expires_in > 0
    step("log in")

    pair = ok(
        refresh_tokens.sync_detailed(client=anon, body=RefreshRequest(refresh_token=first.refresh_token)),
        200,
        TokenPair,
    )
    assert pair.refresh_token != first.refresh_token
    patient = authed(pair.access_token)
    assert ok(get_me.sync_detailed(client=patient), 200, User).id == patient_id
    step("refresh tokens; the new access token works")

    # -- a week of diary days -------------------------------------------------------------------
    week = [days_ago(n) for n in range(10, 3, -1)]  # oldest first, all safely in the past
    pains = [4, 0, 6, 9, 0, 3, 2]
    created = ok(
        upsert_diary_entry.sync_detailed(
            patient_id, week[0], client=patient, body=DiaryEntryInput(peak_pain=1, headache_hours=1.5)
        ),
        201,
        DiaryEntry,
    )
    assert created.version == 1
    step("save one day (201)")

    entries = []
    for date, pain in zip(week, pains):
        severe = pain >= 6
        # What was not recorded is left out (UNSET), as an app would.
        optional: dict[str, Any] = {}
        if pain:
            optional["headache_hours"] = float(pain)
        if severe:
            optional["disability"] = Disability.MODERATE
            optional["notes"] = "bad day"
        entries.append(
            DatedDiaryEntryInput(
                date=date,
                peak_pain=pain,
                features=HeadacheFeatures(aura=severe, nausea=severe),
                acute_medications=[
                    AcuteMedication(name="ibuprofen", class_=MedicationClass.NSAID, dose="400 mg")
                ]
                if pain >= 3
                else [],
                **optional,
            )
        )
    saved = ok(
        batch_upsert_diary_entries.sync_detailed(
            patient_id, client=patient, body=DiaryBatchRequest(entries=entries)
        ),
        200,
        object,
    )
    assert [e.date for e in saved.items] == week
    assert saved.items[0].version == 2, "day 1 was replaced: version 2"
    step("save the week in one batch (offline sync)")

    # -- a treatment ------------------------------------------------------------------------------
    started = dt.datetime.combine(week[3], dt.time(23, 30), tzinfo=dt.timezone.utc)
    treatment = ok(
        create_treatment.sync_detailed(
            patient_id,
            client=patient,
            body=TreatmentInput(
                kind=TreatmentKind.IV_KETAMINE,
                name="ketamine infusion",
                started_at=started,
                ended_at=started + dt.timedelta(hours=4),
                dose=0.5,
                dose_unit="mg/kg/h",
                adverse_events=["dissociation"],
            ),
        ),
        201,
        Treatment,
    )
    assert treatment.kind == TreatmentKind.IV_KETAMINE
    assert treatment.recorded_by == patient_id
    # 23:30 UTC is 00:30 the next day in Berlin: the treatment day is the patient's day.
    assert treatment.treatment_day == week[4], treatment.treatment_day
    assert treatment.adverse_events == ["dissociation"]
    step("record a treatment (treatment day in the patient's time zone)")

    # -- read it back -------------------------------------------------------------------------------
    page = ok(
        list_diary_entries.sync_detailed(patient_id, client=patient, from_=week[0], to=week[-1]),
        200,
        DiaryEntryList,
    )
    assert [e.date for e in page.items] == week
    assert [e.peak_pain for e in page.items] == pains
    assert page.next_cursor is None
    step("read the diary back in date order")

    day = ok(get_diary_entry.sync_detailed(patient_id, week[3], client=patient), 200, DiaryEntry)
    assert day.peak_pain == 9 and day.headache_hours == 9.0
    assert day.features.aura is True and day.features.vomiting is False
    assert day.acute_medications[0].class_ == MedicationClass.NSAID
    assert day.disability == Disability.MODERATE and day.notes == "bad day"
    zero = ok(get_diary_entry.sync_detailed(patient_id, week[1], client=patient), 200, DiaryEntry)
    assert zero.headache_hours is None and zero.notes is None and zero.acute_medications == []
    assert not isinstance(zero.disability, Disability)  # null or absent: not recorded
    step("read single days, values and nulls intact")

    listed = ok(list_treatments.sync_detailed(patient_id, client=patient), 200, object)
    assert [t.id for t in listed.items] == [treatment.id]
    step("list treatments")

    # -- the clinician ----------------------------------------------------------------------------
    staff_pair = ok(
        login.sync_detailed(client=anon, body=LoginRequest(email=CLINICIAN_EMAIL, password=CLINICIAN_PASSWORD)),
        200,
        TokenPair,
    )
    staff = authed(staff_pair.access_token)
    problem(get_patient.sync_detailed(patient_id, client=staff), 404, "not-found")
    invite = ok(create_care_invite.sync_detailed(client=staff), 201, object)
    linked = ok(
        link_clinician.sync_detailed(client=patient, body=RedeemInviteRequest(code=invite.code.lower())),
        201,
        object,
    )
    assert linked.email == CLINICIAN_EMAIL
    profile = ok(get_patient.sync_detailed(patient_id, client=staff), 200, object)
    assert profile.email == email and profile.timezone == "Europe/Berlin"
    step("a clinician is linked by invite code and reads the profile")

    # -- summaries: run when the operations exist in the document --------------------------------
    summaries(patient, staff, patient_id, treatment, week)

    # -- errors through the client's own error type --------------------------------------------------
    bad = problem(
        upsert_diary_entry.sync_detailed(
            patient_id, days_ago(1), client=patient, body=DiaryEntryInput(peak_pain=0, headache_hours=3.0)
        ),
        422,
        "validation",
    )
    assert [e.field for e in bad.errors] == ["headache_hours"], bad.errors
    future = problem(
        upsert_diary_entry.sync_detailed(
            patient_id, days_ago(-3), client=patient, body=DiaryEntryInput(peak_pain=2)
        ),
        422,
        "validation",
    )
    assert [e.field for e in future.errors] == ["date"]
    step("422 names the invalid field (problem+json)")

    problem(get_diary_entry.sync_detailed(patient_id, days_ago(40), client=patient), 404, "not-found")
    problem(get_patient.sync_detailed(uuid.uuid4(), client=patient), 404, "not-found")
    step("404 for a missing day and for another patient (problem+json)")

    problem(refresh_tokens.sync_detailed(client=anon, body=RefreshRequest(refresh_token=first.refresh_token)), 401, "unauthorized")
    step("a spent refresh token is 401")

    # -- two devices sync through the changes feed ------------------------------------------------
    sync_two_devices(patient, patient_id)

    # -- password change: runs when the operation is in the document (it ends every session) ------
    change_password(anon, patient, email, password)


class Device:
    """One device's copy of the diary, kept up to date from the changes feed only."""

    def __init__(self, client: AuthenticatedClient, patient_id: uuid.UUID) -> None:
        self.client = client
        self.patient_id = patient_id
        self.days: dict[dt.date, DiaryEntry] = {}
        self.treatments: set[uuid.UUID] = set()
        self.cursor: str | None = None

    def pull(self, limit: int = 3) -> None:
        """Pulls in pages of `limit` until `has_more` is false; a first pull replaces the copy."""
        if self.cursor is None:
            self.days.clear()
            self.treatments.clear()
        while True:
            extra: dict[str, Any] = {} if self.cursor is None else {"since": self.cursor}
            feed = ok(
                list_changes.sync_detailed(self.patient_id, client=self.client, limit=limit, **extra),
                200,
                ChangeFeed,
            )
            listed = (
                len(feed.diary_entries)
                + len(feed.deleted_diary_dates)
                + len(feed.treatments)
                + len(feed.deleted_treatment_ids)
            )
            assert listed <= limit, "a page holds at most `limit` items"
            for entry in feed.diary_entries:
                self.days[entry.date] = entry
            for date in feed.deleted_diary_dates:
                self.days.pop(date, None)
            self.treatments.update(t.id for t in feed.treatments)
            self.treatments.difference_update(feed.deleted_treatment_ids)
            self.cursor = feed.next_cursor
            if not feed.has_more:
                return

    def view(self) -> dict[dt.date, tuple[int, int]]:
        return {d: (e.version, e.peak_pain) for d, e in self.days.items()}


def sync_two_devices(patient: AuthenticatedClient, patient_id: uuid.UUID) -> None:
    days = [days_ago(n) for n in (22, 21, 20)]

    def batch(entries: list[DatedDiaryEntryInput]) -> Response[Any]:
        return batch_upsert_diary_entries.sync_detailed(
            patient_id, client=patient, body=DiaryBatchRequest(entries=entries)
        )

    ok(batch([DatedDiaryEntryInput(date=d, peak_pain=i + 1, if_version=0) for i, d in enumerate(days)]), 200, object)
    phone, tablet = Device(patient, patient_id), Device(patient, patient_id)
    phone.pull()
    tablet.pull()
    assert phone.view() == tablet.view()
    assert phone.days[days[1]].peak_pain == 2 and len(phone.treatments) == 1
    step("two devices pull everything in pages (initial sync)")

    v0 = phone.days[days[0]].version
    edited = ok(batch([DatedDiaryEntryInput(date=days[0], peak_pain=8, if_version=v0)]), 200, object)
    assert edited.items[0].version == v0 + 1
    gone = delete_diary_entry.sync_detailed(
        patient_id, days[2], client=patient, if_match=f'"{phone.days[days[2]].version}"'
    )
    assert gone.status_code == 204, gone.content
    step("the phone pushes an edit (if_version) and a deletion (If-Match)")

    stale = problem(
        batch(
            [
                DatedDiaryEntryInput(date=days[0], peak_pain=5, if_version=v0),
                DatedDiaryEntryInput(date=days[1], peak_pain=6, if_version=tablet.days[days[1]].version),
            ]
        ),
        412,
        "precondition-failed",
    )
    assert [(c.date, c.current_version) for c in stale.conflicts] == [(days[0], v0 + 1)], stale.conflicts
    step("the tablet's stale push is 412 with the conflicting day")

    tablet.pull()
    assert tablet.days[days[0]].peak_pain == 8 and days[2] not in tablet.days
    ok(
        batch(
            [
                DatedDiaryEntryInput(date=days[0], peak_pain=5, if_version=tablet.days[days[0]].version),
                DatedDiaryEntryInput(date=days[1], peak_pain=6, if_version=tablet.days[days[1]].version),
            ]
        ),
        200,
        object,
    )
    tablet.pull()
    phone.pull()
    server = ok(list_diary_entries.sync_detailed(patient_id, client=patient, limit=1000), 200, DiaryEntryList)
    assert phone.view() == tablet.view() == {e.date: (e.version, e.peak_pain) for e in server.items}
    step("after pull, push, pull both devices hold exactly the server's diary")


def change_password(anon: Client, patient: AuthenticatedClient, email: str, password: str) -> None:
    op = operation_at("post", "/v1/me/password")
    if op is None:
        return
    # Imported here: the model exists only once the operation is in the document.
    body_class = importlib.import_module("migraine_diary_client.models").ChangePasswordRequest
    new_password = "a brand new passphrase"
    problem(
        op.sync_detailed(client=patient, body=body_class(current_password="not it", new_password=new_password)),
        401,
        "unauthorized",
    )
    fresh = ok(
        op.sync_detailed(client=patient, body=body_class(current_password=password, new_password=new_password)),
        200,
        TokenPair,
    )
    # The old access token stops working at once; the fresh session works.
    problem(get_me.sync_detailed(client=patient), 401, "unauthorized")
    assert ok(get_me.sync_detailed(client=authed(fresh.access_token)), 200, User).email == email
    problem(login.sync_detailed(client=anon, body=LoginRequest(email=email, password=password)), 401, "unauthorized")
    ok(login.sync_detailed(client=anon, body=LoginRequest(email=email, password=new_password)), 200, TokenPair)
    step("password change: a fresh session, the old token and password refused")


# ---------------------------------------------------------------------------------------------------
# Summary endpoints. They are being added to the API; each step runs only when its operationId is in
# openapi/openapi.json. The generated module is found by operation name, whatever its tag.
# ---------------------------------------------------------------------------------------------------


def operation(operation_id: str) -> ModuleType | None:
    with open(DOC, encoding="utf-8") as f:
        doc = json.load(f)
    ids = {op.get("operationId") for item in doc["paths"].values() for op in item.values() if isinstance(op, dict)}
    if operation_id not in ids:
        print(f"  skip - {operation_id} is not in the document yet", flush=True)
        return None
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()
    for info in pkgutil.iter_modules(api_pkg.__path__):
        try:
            return importlib.import_module(f"{api_pkg.__name__}.{info.name}.{name}")
        except ModuleNotFoundError:
            continue
    raise AssertionError(f"{operation_id} is in the document but the client has no module {name}")


def operation_at(method: str, path: str) -> ModuleType | None:
    """The generated module of the operation at `method path`, or None when the document lacks it."""
    with open(DOC, encoding="utf-8") as f:
        doc = json.load(f)
    op = doc["paths"].get(path, {}).get(method)
    if not isinstance(op, dict) or "operationId" not in op:
        print(f"  skip - {method.upper()} {path} is not in the document yet", flush=True)
        return None
    return operation(op["operationId"])


def summaries(
    patient: AuthenticatedClient,
    staff: AuthenticatedClient,
    patient_id: uuid.UUID,
    treatment: Treatment,
    week: list[dt.date],
) -> None:
    if (op := operation("getTreatmentSummary")) is not None:
        r = op.sync_detailed(patient_id, treatment.id, client=patient, window_days=7, followup_windows=2)
        s = ok(r, 200, object)
        assert s.window_days == 7
        # T = week[4]; the baseline T-7 … T-1 holds week[0..4), the post window T+1 … T+7 week[5..7).
        assert s.baseline.days_recorded == 4, s.baseline
        assert s.post.days_recorded == 2, s.post
        assert len(s.followup) == 2
        problem(op.sync_detailed(patient_id, uuid.uuid4(), client=patient), 404, "not-found")
        step("treatment summary: baseline and post windows")
    if (op := operation("getPatientSummary")) is not None:
        s = ok(op.sync_detailed(patient_id, client=staff, from_=week[0], to=week[-1]), 200, object)
        assert s.overall.days == 7 and s.overall.days_recorded == 7
        assert s.overall.any_headache_days == 5
        step("period summary of the week (as the clinician)")
    if (op := operation("listDayClasses")) is not None:
        s = ok(op.sync_detailed(patient_id, client=patient, from_=week[0], to=week[-1]), 200, object)
        assert len(s.days) == 7
        step("day calendar: one class per day")
    if (op := operation("listPatients")) is not None:
        s = ok(op.sync_detailed(client=staff), 200, object)
        assert [p.patient.id for p in s.items] == [patient_id]
        step("the clinician's patient list")
    if (op := operation("getCohortSummary")) is not None:
        s = ok(
            op.sync_detailed(client=staff, kind=TreatmentKind.IV_KETAMINE, window_days=7, from_=week[0], to=week[-1]),
            200,
            object,
        )
        assert s.treatments == 1 and s.patients == 1
        step("cohort summary over the linked patients")


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001 - report any failure as a failed flow
        traceback.print_exc()
        print(f"python client flow: {steps} passed, 1 failed")
        sys.exit(1)
    print(f"python client flow: {steps} passed, 0 failed")
