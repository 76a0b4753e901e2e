"""The checks of tests/multi/run.sh against two instances A and B on one database."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

A, B = sys.argv[1], sys.argv[2]
PASSWORD = "two instances, one database"


def call(base: str, method: str, path: str, body: object | None = None, token: str | None = None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
            return resp.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, (json.loads(text) if text else None)


def expect(status: int, got: tuple[int, object], what: str) -> object:
    if got[0] != status:
        raise SystemExit(f"FAIL {what}: expected {status}, got {got[0]} {got[1]}")
    print(f"ok   {what}")
    return got[1]


def login(base: str, email: str, password: str = PASSWORD):
    return call(base, "POST", "/v1/auth/login", {"email": email, "password": password})


def main() -> None:
    ana = "ana.multi@example.org"
    expect(201, call(A, "POST", "/v1/auth/register", {"email": ana, "password": PASSWORD, "timezone": "UTC"}),
           "register on A")

    # A session moves between instances: log in on A, refresh on B, use the new token on A.
    pair = expect(200, login(A, ana), "log in on A")
    fresh = expect(200, call(B, "POST", "/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}),
                   "refresh on B with A's refresh token")
    me = expect(200, call(A, "GET", "/v1/me", token=fresh["access_token"]), "B's access token works on A")
    expect(401, call(A, "POST", "/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}),
           "the refresh token spent on B is spent on A too")
    # Spending it twice revoked that session everywhere; start another.
    pair = expect(200, login(B, ana), "log in on B")

    # Logout on A is honoured by B: the session's refresh token and its access token.
    expect(200, call(B, "GET", "/v1/me", token=pair["access_token"]), "B's session works on B")
    expect(204, call(A, "POST", "/v1/auth/logout", {"refresh_token": pair["refresh_token"]}), "log out on A")
    expect(401, call(B, "POST", "/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}),
           "B refuses the refresh token logged out on A")
    expect(401, call(B, "GET", "/v1/me", token=pair["access_token"]),
           "B refuses the access token of the session logged out on A")

    # An unlink on A refuses the clinician on B at once, though B had the link cached.
    kim = expect(200, login(B, "kim.multi@clinic.example"), "the clinician logs in on B")["access_token"]
    ana_token = expect(200, login(A, ana), "ana logs in on A")["access_token"]
    invite = expect(201, call(B, "POST", "/v1/care-invites", token=kim), "invite on B")
    expect(201, call(A, "POST", "/v1/me/clinicians", {"code": invite["code"]}, token=ana_token), "link on A")
    profile = f"/v1/patients/{me['id']}"
    for i in range(2):
        expect(200, call(B, "GET", profile, token=kim), f"the clinician reads ana's profile on B ({i + 1})")
    kim_id = call(B, "GET", "/v1/me", token=kim)[1]["id"]
    expect(204, call(A, "DELETE", f"/v1/me/clinicians/{kim_id}", token=ana_token), "ana unlinks on A")
    expect(404, call(B, "GET", profile, token=kim), "B refuses the unlinked clinician at once")
    expect(404, call(B, "GET", f"{profile}/diary", token=kim), "... for the diary too")

    # One login budget (4 failures per account and address) for both instances.
    bob = "bob.multi@example.org"
    expect(201, call(B, "POST", "/v1/auth/register", {"email": bob, "password": PASSWORD, "timezone": "UTC"}),
           "register bob on B")
    for i, base in enumerate([A, B, A, B]):
        expect(401, login(base, bob, "wrong password"), f"wrong password #{i + 1} on {'AB'[i % 2]}")
    for name, base in (("A", A), ("B", B)):
        status, body = login(base, bob)
        if status != 429:
            raise SystemExit(f"FAIL the shared budget: {name} answered {status} {body}")
        print(f"ok   {name} refuses the 5th attempt: 429")

    # A burst of concurrent guesses through both instances gets exactly the budget of checks.
    carol = "carol.multi@example.org"
    expect(201, call(A, "POST", "/v1/auth/register", {"email": carol, "password": PASSWORD, "timezone": "UTC"}),
           "register carol on A")

    def guess(i: int) -> int:
        return login(A if i % 2 == 0 else B, carol, f"guess {i}")[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(guess, range(30)))
    if statuses.count(401) != 4 or statuses.count(429) != 26:
        raise SystemExit(f"FAIL concurrent guesses: {sorted(statuses)}")
    print("ok   30 concurrent guesses through A and B: 4 checked, 26 refused")

    # Concurrent writes of one diary day through both instances: every write is counted.
    token = expect(200, login(A, ana), "log in again")["access_token"]
    day = f"/v1/patients/{me['id']}/diary/2026-01-15"
    writes = 40

    def write(i: int) -> int:
        base = A if i % 2 == 0 else B
        status, _ = call(base, "PUT", day, {"peak_pain": 5, "notes": f"write {i}"}, token=token)
        return status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(write, range(writes)))
    if sorted(set(statuses)) not in ([200, 201], [201]) or statuses.count(201) != 1:
        raise SystemExit(f"FAIL concurrent writes: statuses {statuses}")
    entry = expect(200, call(B, "GET", day, token=token), f"{writes} concurrent writes through A and B")
    if entry["version"] != writes:
        raise SystemExit(f"FAIL lost writes: version {entry['version']} after {writes} writes")
    print(f"ok   version {entry['version']} after {writes} writes: none lost")

    # Distinct days through both at once: all there.
    def write_day(i: int) -> int:
        base = A if i % 2 == 0 else B
        path = f"/v1/patients/{me['id']}/diary/2026-02-{i + 1:02d}"
        return call(base, "PUT", path, {"peak_pain": i % 11}, token=token)[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(write_day, range(28)))
    if statuses != [201] * 28:
        raise SystemExit(f"FAIL concurrent days: {statuses}")
    listed = expect(200, call(A, "GET", f"/v1/patients/{me['id']}/diary?from=2026-02-01&to=2026-02-28",
                              token=token), "28 days written through A and B at once")
    if len(listed["items"]) != 28:
        raise SystemExit(f"FAIL: {len(listed['items'])} of 28 days")
    print("ok   all 28 days are there")


if __name__ == "__main__":
    main()
