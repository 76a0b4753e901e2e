"""Renders the visit report of a demo patient's ketamine treatment in a real headless Chromium
and fetches every demo patient's FHIR Bundle (stdlib only; see run.sh).

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: commands on
fd 3, answers on fd 4, NUL-separated JSON), which needs no WebSocket library. The clinician's
token goes in as an extra HTTP header, so the page is fetched from the running server exactly as
a browser would, with its real Content-Security-Policy. The script writes:

  OUT/report.png    a screenshot at A4 width (794 CSS px), the CI artifact
  OUT/report.pdf    Page.printToPDF with the page's own @page size (A4), as --print-to-pdf does
  OUT/report.html   the HTML as served
  OUT/report-network.json  every request the page made, and every console/CSP message
  OUT/range-report.*       the same for that patient's range report over a year
  OUT/fhir/*.json   the FHIR Bundle of every demo patient

and exits non-zero when the page requested anything but its own URL or logged a CSP violation.
Usage: browser.py BASE_URL OUT_DIR
"""

import base64
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

BASE, OUT = sys.argv[1], sys.argv[2]
CLINICIAN = "clinician@demo.migraine-diary.test"
PASSWORD = os.environ.get("MIGRAINE_DIARY_PASSWORD", "demo-password-2026")


def call(method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, resp.headers, resp.read()


def get_json(path, token):
    return json.loads(call("GET", path, token)[2])


def add_questionnaires(patient_email, patient_id, treatment_day):
    """The demo clinic has no questionnaires: the patient fills in MIDAS and HIT-6 ten days
    before the treatment and MIDAS twenty days after it, so that the report shows scores and
    the Bundle holds QuestionnaireResponses for the schema to check."""
    login = json.loads(call("POST", "/v1/auth/login",
                            body={"email": patient_email, "password": PASSWORD})[2])
    day = datetime.date.fromisoformat(treatment_day)
    for instrument, offset, answers in [
        ("midas", -10, [6, 5, 8, 4, 7]),
        ("hit6", -10, [5, 4, 5, 4, 4, 5]),
        ("midas", 20, [2, 1, 3, 1, 2]),
    ]:
        body = {"instrument": instrument, "completed_on": str(day + datetime.timedelta(days=offset)),
                "answers": answers}
        call("POST", f"/v1/patients/{patient_id}/questionnaires", login["access_token"], body)


def pick_ketamine_treatment(token):
    """The first demo patient's iv_ketamine treatment whose windows are both sufficient."""
    patients = get_json("/v1/patients?limit=1000", token)["items"]
    for p in patients:
        pid = p["patient"]["id"]
        for t in get_json(f"/v1/patients/{pid}/treatments?limit=1000", token)["items"]:
            if t["kind"] != "iv_ketamine":
                continue
            s = get_json(f"/v1/patients/{pid}/treatments/{t['id']}/summary?followup_windows=3", token)
            if s["sufficient_data"]:
                add_questionnaires(p["patient"]["email"], pid, t["treatment_day"])
                return pid, t["id"], [x["patient"]["id"] for x in patients]
    raise SystemExit("no demo patient has a ketamine treatment with sufficient data")


class DevTools:
    """A DevTools-protocol client over --remote-debugging-pipe."""

    def __init__(self, chromium_args):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Chromium expects its ends on fd 3 (read) and fd 4 (write): move them there in the
        # child (via fresh descriptors first, so that neither end overwrites the other).
        def child_fds():
            read_end, write_end = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(read_end, 3, inheritable=True)
            os.dup2(write_end, 4, inheritable=True)

        log = open(os.path.join(OUT, "chromium.log"), "w")
        self.proc = subprocess.Popen(chromium_args, preexec_fn=child_fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=log)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            if time.time() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed the pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_for(self, method, timeout=60):
        deadline = time.time() + timeout
        for i, m in enumerate(self.events):
            if m.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read_message(deadline)
            if m.get("method") == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def render(url, token, name):
    profile = tempfile.mkdtemp(prefix="record-chromium-")
    args = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}", "--hide-scrollbars",
        "--remote-debugging-pipe", "about:blank",
    ]
    dt = DevTools(args)
    requests, messages = [], []
    try:
        target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Log", "Runtime"):
            dt.send(f"{domain}.enable", session=session)
        dt.send("Network.setExtraHTTPHeaders", {"headers": {"Authorization": "Bearer " + token}}, session)
        # A4 at 96 dpi: 210 mm = 794 px wide, 297 mm = 1123 px high.
        dt.send("Emulation.setDeviceMetricsOverride",
                {"width": 794, "height": 1123, "deviceScaleFactor": 1, "mobile": False}, session)
        dt.events.clear()
        dt.send("Page.navigate", {"url": url}, session)
        dt.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # let late events (violations, late requests) arrive
        shot = dt.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
        pdf = dt.send("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True}, session)
        dt.send("Runtime.evaluate", {"expression": "1"}, session)  # flush pending events
        for m in dt.events:
            params = m.get("params", {})
            if m.get("method") == "Network.requestWillBeSent":
                requests.append(params["request"]["url"])
            elif m.get("method") == "Log.entryAdded":
                messages.append(params["entry"])
            elif m.get("method") == "Runtime.consoleAPICalled":
                messages.append({"console": params.get("type"), "args": params.get("args")})
            elif m.get("method") == "Runtime.exceptionThrown":
                messages.append({"exception": params})
    finally:
        dt.close()
    with open(os.path.join(OUT, f"{name}.png"), "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    with open(os.path.join(OUT, f"{name}.pdf"), "wb") as f:
        f.write(base64.b64decode(pdf["data"]))
    with open(os.path.join(OUT, f"{name}-network.json"), "w") as f:
        json.dump({"requests": requests, "messages": messages}, f, indent=2)
    return requests, messages


def main():
    os.makedirs(os.path.join(OUT, "fhir"), exist_ok=True)
    login = json.loads(call("POST", "/v1/auth/login", body={"email": CLINICIAN, "password": PASSWORD})[2])
    token = login["access_token"]
    patient_id, treatment_id, all_patients = pick_ketamine_treatment(token)
    path = f"/v1/patients/{patient_id}/treatments/{treatment_id}/report?followup_windows=3"
    status, headers, html = call("GET", path, token)
    with open(os.path.join(OUT, "report.html"), "wb") as f:
        f.write(html)
    csp = headers.get("Content-Security-Policy", "")
    print(f"report {path}: {status}, {len(html)} bytes, CSP: {csp}")
    assert "default-src 'none'" in csp and "script-src 'none'" in csp, csp
    for pid in all_patients:
        _, fhir_headers, bundle = call("GET", f"/v1/patients/{pid}/fhir", token)
        assert fhir_headers["Content-Type"].startswith("application/fhir+json"), fhir_headers
        with open(os.path.join(OUT, "fhir", f"{pid}.json"), "wb") as f:
            f.write(bundle)
    print(f"fetched the FHIR Bundle of {len(all_patients)} demo patients")
    # The treatment report, then the range report of the same patient over the longest range
    # it takes (a year: the tallest calendar), which must fit one page too.
    year_ago = datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=364)
    pages = [("report", path), ("range-report", f"/v1/patients/{patient_id}/report?from={year_ago}")]
    for name, page in pages:
        requests, messages = render(BASE + page, token, name)
        print(f"{name}: requests made by the page: {requests}")
        others = [r for r in requests if r != BASE + page]
        violations = [m for m in messages
                      if "Content Security Policy" in json.dumps(m) or m.get("level") == "error"]
        if others or len(requests) != 1:
            raise SystemExit(f"{name}: the page made requests other than its own URL: {others}")
        if violations:
            raise SystemExit(f"{name}: the page logged errors or CSP violations: {violations}")
        print(f"{name}: no request but the page itself; no CSP violation, no console error")

if __name__ == "__main__":
    main()
