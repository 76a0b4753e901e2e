"""Property-based conformance of the live server to openapi/openapi.json, with Schemathesis.

Run by tests/clients/run.sh against a fresh server (MIGRAINE_DIARY_URL) that has one clinician
(MIGRAINE_DIARY_CLINICIAN_EMAIL / _PASSWORD). It registers a patient, links the clinician to
that patient (POST /v1/care-invites, then POST /v1/me/clinicians {code}), gives the patient a
diary day, and then runs Schemathesis over every operation of the document twice:
authenticated as the clinician, then as the patient. The path parameters `patient_id` and
`treatment_id` are pinned to that real patient and to a treatment made just before each run, so
the generated requests reach the handlers' real work instead of stopping at 404.

Checks: all of them (`--checks all`: not_a_server_error, the conformance checks,
positive_data_acceptance, negative_data_rejection, the auth and state checks). Phases: examples,
coverage, fuzzing; EXAMPLES test cases per operation in the fuzzing phase, positive and negative data, a
fixed seed. Any failure fails the stage.

Rules that JSON Schema cannot state (dates relative to today, a 3-year range, IANA zone names,
an invite code that exists) are described in the document and kept by hooks.py in the positive
cases only; the one widened expectation is 412 for the operations that take a version (If-Match,
if_version).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE = os.environ["MIGRAINE_DIARY_URL"]
DOC = os.environ["DOC"]
SCHEMATHESIS = os.environ["SCHEMATHESIS"]
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "100"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261125"))
# A bound on each role's run (it is killed after this); with 2 cores a run takes well under it.
MAX_SECONDS = int(os.environ.get("SCHEMATHESIS_MAX_SECONDS", "300"))
# Every check Schemathesis has, including positive_data_acceptance (a request the document
# allows must not be refused) and negative_data_rejection (one it forbids must be refused).
CHECKS = os.environ.get("SCHEMATHESIS_CHECKS") or "all"
REPORT_DIR = Path(__file__).resolve().parent.parent / "schemathesis-report"
HERE = Path(__file__).resolve().parent
POSITIVE_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
OPERATIONS_TAKING_IF_MATCH = [
    line
    for operation_id in ("upsertDiaryEntry", "deleteDiaryEntry", "batchUpsertDiaryEntries")
    for line in (
        "[[operations]]",
        f'include-operation-id = "{operation_id}"',
        "[operations.checks.positive_data_acceptance]",
        f"expected-statuses = {json.dumps(POSITIVE_ACCEPTED + ['412'])}",
    )
]


def call(method: str, path: str, body: object | None = None, token: str | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
    except urllib.error.HTTPError as e:
        raise SystemExit(f"setup: {method} {path} -> {e.code} {e.read()[:300]!r}") from e
    return json.loads(text) if text else {}


def setup() -> dict[str, str]:
    email = f"fuzz.patient.{time.time_ns()}@example.org"
    password = "fuzzing patient password"
    patient = call("POST", "/v1/auth/register", {"email": email, "password": password, "timezone": "Asia/Kolkata"})
    patient_token = call("POST", "/v1/auth/login", {"email": email, "password": password})["access_token"]
    clinician_token = call(
        "POST",
        "/v1/auth/login",
        {
            "email": os.environ["MIGRAINE_DIARY_CLINICIAN_EMAIL"],
            "password": os.environ["MIGRAINE_DIARY_CLINICIAN_PASSWORD"],
        },
    )["access_token"]
    code = call("POST", "/v1/care-invites", token=clinician_token)["code"]
    call("POST", "/v1/me/clinicians", {"code": code}, token=patient_token)
    pid = patient["id"]
    call("PUT", f"/v1/patients/{pid}/diary/2024-02-29", {"peak_pain": 6, "headache_hours": 5}, token=patient_token)
    # A real, unredeemed code for hooks.py: positive cases of POST /v1/me/clinicians send it.
    os.environ["MIGRAINE_DIARY_FUZZ_INVITE_CODE"] = call("POST", "/v1/care-invites", token=clinician_token)["code"]
    print(f"patient {pid} linked to the clinician", flush=True)
    return {"patient_id": pid, "patient_token": patient_token, "clinician_token": clinician_token}


def new_treatment(ids: dict[str, str], token: str) -> str:
    """A fresh treatment for one role's run: the run before may have deleted the last one."""
    treatment = call(
        "POST",
        f"/v1/patients/{ids['patient_id']}/treatments",
        {"kind": "occipital_nerve_block", "name": "GON block", "started_at": "2024-03-01T10:00:00+05:30"},
        token=token,
    )
    return treatment["id"]


def run(role: str, token: str, ids: dict[str, str]) -> bool:
    treatment_id = new_treatment(ids, token)
    config = "\n".join(
        [
            "[cache]",
            "enabled = false",
            "[headers]",
            f'Authorization = "Bearer {token}"',
            "[parameters]",
            f'"path.patient_id" = "{ids["patient_id"]}"',
            f'"path.treatment_id" = "{treatment_id}"',
            "",
            # A well-formed If-Match (or a batch entry's if_version) that is not the stored
            # version is answered 412, as documented: for the operations that take a version,
            # 412 is a valid answer to a valid request (a version is state, not form). Nothing
            # else is widened.
            *OPERATIONS_TAKING_IF_MATCH,
        ]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(config)
        config_path = f.name
    cmd = [
        SCHEMATHESIS,
        "--config-file",
        config_path,
        "run",
        DOC,
        "--url",
        BASE,
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        # One worker: Hypothesis in several threads trips a CPython 3.11 bug
        # ("AST constructor recursion depth mismatch") in Schemathesis' coverage phase.
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--suppress-health-check",
        "too_slow,filter_too_much",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-dir",
        str(REPORT_DIR / role),
        "--no-color",
    ]
    print(f"\n---- schemathesis as the {role}: {EXAMPLES} examples per operation, seed {SEED} ----", flush=True)
    t0 = time.monotonic()
    # Not `--max-time`: with it Schemathesis keeps fuzzing until the time is spent. The number
    # of test cases is fixed; this timeout only bounds a run that hangs.
    try:
        env = dict(os.environ, SCHEMATHESIS_HOOKS="hooks", PYTHONPATH=str(HERE))
        rc = subprocess.call(cmd, timeout=MAX_SECONDS, env=env)
    except subprocess.TimeoutExpired:
        print(f"schemathesis as the {role} took longer than {MAX_SECONDS} s", flush=True)
        rc = 1
    os.unlink(config_path)
    print(f"---- schemathesis as the {role}: {'passed' if rc == 0 else 'FAILED'} ({time.monotonic() - t0:.0f} s) ----")
    return rc == 0


def main() -> int:
    ids = setup()
    # The clinician first: the patient's run may unlink clinicians (DELETE /v1/me/clinicians/{id}).
    results = {
        "clinician": run("clinician", ids["clinician_token"], ids),
        "patient": run("patient", ids["patient_token"], ids),
    }
    failed = [r for r, ok in results.items() if not ok]
    passed = len(results) - len(failed)
    print(f"schemathesis: {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
