// What a real app does, through the client generated from openapi/openapi.json
// (openapi-typescript types + openapi-fetch). Type-checked with `tsc --strict`, then run by
// tests/clients/run.sh against a fresh server:
//   MIGRAINE_DIARY_URL                 the server
//   MIGRAINE_DIARY_CLINICIAN_EMAIL/_PASSWORD  a clinician made with `migraine-diary user create`
//   MIGRAINE_DIARY_OPENAPI             the committed document (which operations exist)
// Every step asserts the values it gets back; the first failed assertion ends the run non-zero.

import { readFileSync } from "node:fs";
import { strict as assert } from "node:assert";
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "../.generated/ts/schema.js";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];

const baseUrl = mustEnv("MIGRAINE_DIARY_URL");
const clinicianEmail = mustEnv("MIGRAINE_DIARY_CLINICIAN_EMAIL");
const clinicianPassword = mustEnv("MIGRAINE_DIARY_CLINICIAN_PASSWORD");
const docPath = mustEnv("MIGRAINE_DIARY_OPENAPI");

function mustEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

let steps = 0;
function step(name: string): void {
  steps += 1;
  console.log(`  ok ${steps} - ${name}`);
}

/** A client whose bearer token is whatever `session.access` holds now. */
function newClient(session: { access?: string }): Client<paths> {
  const client = createClient<paths>({ baseUrl });
  const auth: Middleware = {
    onRequest({ request }) {
      if (session.access) request.headers.set("Authorization", `Bearer ${session.access}`);
      return request;
    },
  };
  client.use(auth);
  return client;
}

/** Asserts a problem+json body through the client's own error type. */
function assertProblem(error: Problem | undefined, status: number, kind: string): Problem {
  assert.ok(error, `expected a ${status} problem`);
  assert.equal(error.status, status);
  assert.equal(error.type, `urn:migraine-diary:problem:${kind}`);
  assert.ok(error.title.length > 0 && error.detail.length > 0);
  return error;
}

/** `YYYY-MM-DD` of today (UTC) minus `days`. */
function daysAgo(days: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

async function main(): Promise<void> {
  const patientSession: { access?: string } = {};
  const api = newClient(patientSession);
  const email = `ana.${Date.now()}@example.org`;
  const password = "correct horse battery staple";

  // -- register, log in, refresh ---------------------------------------------------------
  const reg = await api.POST("/v1/auth/register", {
    body: { email: email.toUpperCase(), password, display_name: "Ana", timezone: "America/Chicago" },
  });
  assert.equal(reg.response.status, 201);
  assert.ok(reg.data);
  const me = reg.data;
  assert.equal(me.email, email); // stored lower-case
  assert.equal(me.role, "patient");
  assert.equal(me.display_name, "Ana");
  assert.equal(me.timezone, "America/Chicago");
  const patientId = me.id;
  step("register a patient");

  const dup = await api.POST("/v1/auth/register", { body: { email, password, timezone: "UTC" } });
  assert.equal(dup.response.status, 409);
  assertProblem(dup.error, 409, "conflict");
  step("registering the same email again is 409");

  const login = await api.POST("/v1/auth/login", { body: { email, password } });
  assert.equal(login.response.status, 200);
  assert.ok(login.data);
  assert.equal(login.data.token_type, "Bearer");
  assert.ok(login.data.expires_in > 0);
  patientSession.access = login.data.access_token;
  step("log in");

  const refreshed = await api.POST("/v1/auth/refresh", {
    body: { refresh_token: login.data.refresh_token },
  });
  assert.equal(refreshed.response.status, 200);
  assert.ok(refreshed.data);
  assert.notEqual(refreshed.data.refresh_token, login.data.refresh_token);
  patientSession.access = refreshed.data.access_token;
  const whoami = await api.GET("/v1/me");
  assert.equal(whoami.data?.id, patientId);
  step("refresh tokens; the new access token works");

  // -- a week of diary days ----------------------------------------------------------------
  const week = [10, 9, 8, 7, 6, 5, 4].map(daysAgo); // oldest first, all safely in the past
  const pains = [0, 3, 7, 8, 2, 0, 5];
  const first = week[0]!;
  const last = week[6]!;
  const put = await api.PUT("/v1/patients/{patient_id}/diary/{date}", {
    params: { path: { patient_id: patientId, date: first } },
    body: { peak_pain: 0 },
  });
  assert.equal(put.response.status, 201);
  assert.equal(put.response.headers.get("etag"), '"1"');
  assert.equal(put.data?.version, 1);
  step("save one day (201, ETag \"1\")");

  const entries: Schemas["DatedDiaryEntryInput"][] = week.map((date, i) => ({
    date,
    peak_pain: pains[i]!,
    ...(pains[i]! > 0 ? { headache_hours: pains[i]! } : {}),
    features: { nausea: pains[i]! >= 7, photophobia: pains[i]! >= 7, phonophobia: pains[i]! >= 7 },
    acute_medications:
      pains[i]! >= 7 ? [{ name: "sumatriptan", class: "triptan", dose: "50 mg" }] : [],
    ...(pains[i]! >= 7 ? { disability: "severe" as const } : {}),
  }));
  const batch = await api.POST("/v1/patients/{patient_id}/diary/batch", {
    params: { path: { patient_id: patientId } },
    body: { entries },
  });
  assert.equal(batch.response.status, 200);
  assert.ok(batch.data);
  assert.deepEqual(batch.data.items.map((e) => e.date), week);
  assert.equal(batch.data.items[0]?.version, 1, "same content again keeps version 1");
  step("save the week in one batch (offline sync)");

  // -- a treatment ---------------------------------------------------------------------------
  const startedAt = `${week[3]}T15:30:00Z`;
  const created = await api.POST("/v1/patients/{patient_id}/treatments", {
    params: { path: { patient_id: patientId } },
    body: {
      kind: "iv_magnesium",
      name: "magnesium sulfate 1 g",
      started_at: startedAt,
      dose: 1,
      dose_unit: "g",
      adverse_events: ["flushing"],
    },
  });
  assert.equal(created.response.status, 201);
  assert.ok(created.data);
  const treatment = created.data;
  assert.equal(treatment.kind, "iv_magnesium");
  assert.equal(treatment.patient_id, patientId);
  assert.equal(treatment.recorded_by, patientId);
  assert.equal(treatment.treatment_day, week[3]); // 09:30 in Chicago: same day
  assert.deepEqual(treatment.adverse_events, ["flushing"]);
  step("record a treatment");

  // -- read it back ----------------------------------------------------------------------------
  const diary = await api.GET("/v1/patients/{patient_id}/diary", {
    params: { path: { patient_id: patientId }, query: { from: first, to: last, limit: 5 } },
  });
  assert.equal(diary.response.status, 200);
  assert.ok(diary.data);
  assert.deepEqual(diary.data.items.map((e) => e.peak_pain), pains.slice(0, 5));
  assert.ok(diary.data.next_cursor, "a second page");
  const page2 = await api.GET("/v1/patients/{patient_id}/diary", {
    params: {
      path: { patient_id: patientId },
      query: { from: first, to: last, limit: 5, cursor: diary.data.next_cursor },
    },
  });
  assert.ok(page2.data);
  assert.deepEqual(page2.data.items.map((e) => e.date), week.slice(5));
  assert.equal(page2.data.next_cursor ?? null, null);
  step("read the diary back, two pages, in date order");

  const day = await api.GET("/v1/patients/{patient_id}/diary/{date}", {
    params: { path: { patient_id: patientId, date: week[2]! } },
  });
  assert.ok(day.data);
  assert.equal(day.data.peak_pain, 7);
  assert.equal(day.data.headache_hours, 7);
  assert.equal(day.data.features.nausea, true);
  assert.equal(day.data.features.aura, false);
  assert.equal(day.data.acute_medications[0]?.class, "triptan");
  assert.equal(day.data.disability, "severe");
  assert.equal(day.response.headers.get("etag"), `"${day.data.version}"`);
  step("read one day with its ETag");

  const treatments = await api.GET("/v1/patients/{patient_id}/treatments", {
    params: { path: { patient_id: patientId } },
  });
  assert.deepEqual(treatments.data?.items.map((t) => t.id), [treatment.id]);
  step("list treatments");

  // -- the clinician ---------------------------------------------------------------------------
  const clinicianSession: { access?: string } = {};
  const staff = newClient(clinicianSession);
  const clinLogin = await staff.POST("/v1/auth/login", {
    body: { email: clinicianEmail, password: clinicianPassword },
  });
  assert.ok(clinLogin.data, "clinician login");
  clinicianSession.access = clinLogin.data.access_token;
  const hidden = await staff.GET("/v1/patients/{patient_id}", {
    params: { path: { patient_id: patientId } },
  });
  assertProblem(hidden.error, 404, "not-found"); // not linked yet: the patient does not exist
  const invite = await staff.POST("/v1/care-invites");
  assert.equal(invite.response.status, 201);
  assert.ok(invite.data);
  const linked = await api.POST("/v1/me/clinicians", { body: { code: invite.data.code } });
  assert.equal(linked.response.status, 201);
  assert.equal(linked.data?.email, clinicianEmail);
  const profile = await staff.GET("/v1/patients/{patient_id}", {
    params: { path: { patient_id: patientId } },
  });
  assert.equal(profile.data?.email, email);
  const staffDiary = await staff.GET("/v1/patients/{patient_id}/diary", {
    params: { path: { patient_id: patientId }, query: { from: first, to: last } },
  });
  assert.equal(staffDiary.data?.items.length, 7);
  step("a clinician is linked by invite code and reads the diary");

  // -- summaries: run when the operations exist in the document ------------------------------
  await summaries(api, staff, patientId, treatment, week);

  // -- errors through the client's own error type ----------------------------------------------
  const invalid = await api.PUT("/v1/patients/{patient_id}/diary/{date}", {
    params: { path: { patient_id: patientId, date: daysAgo(1) } },
    body: { peak_pain: 11, headache_hours: 30 },
  });
  assert.equal(invalid.response.status, 422);
  assert.equal(invalid.response.headers.get("content-type"), "application/problem+json");
  const problem = assertProblem(invalid.error, 422, "validation");
  assert.deepEqual(
    problem.errors?.map((e) => e.field).sort(),
    ["headache_hours", "peak_pain"],
  );
  step("422 names every invalid field (problem+json)");

  const missing = await api.GET("/v1/patients/{patient_id}/diary/{date}", {
    params: { path: { patient_id: patientId, date: daysAgo(30) } },
  });
  assert.equal(missing.response.status, 404);
  assertProblem(missing.error, 404, "not-found");
  const stranger = await api.GET("/v1/patients/{patient_id}", {
    params: { path: { patient_id: "0190a2b4-0000-7000-8000-000000000000" } },
  });
  assertProblem(stranger.error, 404, "not-found");
  step("404 for a missing day and for another patient (problem+json)");

  const stale = await api.PUT("/v1/patients/{patient_id}/diary/{date}", {
    params: { path: { patient_id: patientId, date: first }, header: { "If-Match": '"99"' } },
    body: { peak_pain: 1 },
  });
  assertProblem(stale.error, 412, "precondition-failed");
  step("412 on a stale If-Match");

  const reuse = await api.POST("/v1/auth/refresh", {
    body: { refresh_token: login.data.refresh_token },
  });
  assertProblem(reuse.error, 401, "unauthorized");
  step("a spent refresh token is 401");

  // -- two devices sync through the changes feed ---------------------------------------------
  await syncTwoDevices(api, patientId);

  // -- password change: runs when the operation is in the document (it ends every session) ----
  await changePassword(api, patientSession, email, password);
}

/** One device's copy of the diary, kept up to date from the changes feed only. */
class Device {
  days = new Map<string, Schemas["DiaryEntry"]>();
  treatments = new Set<string>();
  cursor: string | undefined;

  constructor(private readonly api: Client<paths>, private readonly patientId: string) {}

  /** Pulls in pages of `limit` until `has_more` is false; a first pull replaces the copy. */
  async pull(limit = 3): Promise<void> {
    if (this.cursor === undefined) {
      this.days.clear();
      this.treatments.clear();
    }
    for (;;) {
      const r = await this.api.GET("/v1/patients/{patient_id}/changes", {
        params: {
          path: { patient_id: this.patientId },
          query: { limit, ...(this.cursor === undefined ? {} : { since: this.cursor }) },
        },
      });
      assert.equal(r.response.status, 200);
      assert.ok(r.data);
      const feed = r.data;
      const listed =
        feed.diary_entries.length +
        feed.deleted_diary_dates.length +
        feed.treatments.length +
        feed.deleted_treatment_ids.length;
      assert.ok(listed <= limit, "a page holds at most `limit` items");
      for (const e of feed.diary_entries) this.days.set(e.date, e);
      for (const d of feed.deleted_diary_dates) this.days.delete(d);
      for (const t of feed.treatments) this.treatments.add(t.id);
      for (const t of feed.deleted_treatment_ids) this.treatments.delete(t);
      this.cursor = feed.next_cursor;
      if (!feed.has_more) return;
    }
  }

  /** `date → (version, peak_pain)`, for comparing copies. */
  view(): Map<string, [number, number]> {
    return new Map([...this.days].map(([d, e]) => [d, [e.version, e.peak_pain]]));
  }
}

async function syncTwoDevices(api: Client<paths>, patientId: string): Promise<void> {
  const days = [22, 21, 20].map(daysAgo);
  const [d0, d1, d2] = [days[0]!, days[1]!, days[2]!];
  const batch = (entries: Schemas["DatedDiaryEntryInput"][]) =>
    api.POST("/v1/patients/{patient_id}/diary/batch", {
      params: { path: { patient_id: patientId } },
      body: { entries },
    });

  const created = await batch(days.map((date, i) => ({ date, peak_pain: i + 1, if_version: 0 })));
  assert.equal(created.response.status, 200);
  const phone = new Device(api, patientId);
  const tablet = new Device(api, patientId);
  await phone.pull();
  await tablet.pull();
  assert.deepEqual(phone.view(), tablet.view());
  assert.equal(phone.days.get(d1)?.peak_pain, 2);
  assert.equal(phone.treatments.size, 1);
  step("two devices pull everything in pages (initial sync)");

  // The phone edits one day and deletes another, each against the version it saw.
  const v0 = phone.days.get(d0)!.version;
  const edited = await batch([{ date: d0, peak_pain: 8, if_version: v0 }]);
  assert.equal(edited.response.status, 200);
  assert.equal(edited.data?.items[0]?.version, v0 + 1);
  const deleted = await api.DELETE("/v1/patients/{patient_id}/diary/{date}", {
    params: {
      path: { patient_id: patientId, date: d2 },
      header: { "If-Match": `"${phone.days.get(d2)!.version}"` },
    },
  });
  assert.equal(deleted.response.status, 204);
  step("the phone pushes an edit (if_version) and a deletion (If-Match)");

  // The tablet, behind, pushes its own edit of the same day: 412 names the day, nothing saved.
  const stale = await batch([
    { date: d0, peak_pain: 5, if_version: v0 },
    { date: d1, peak_pain: 6, if_version: tablet.days.get(d1)!.version },
  ]);
  const conflict = assertProblem(stale.error, 412, "precondition-failed");
  assert.deepEqual(conflict.conflicts, [{ date: d0, current_version: v0 + 1 }]);
  step("the tablet's stale push is 412 with the conflicting day");

  // The tablet pulls, sees the phone's edit and deletion, re-applies its edits on top.
  await tablet.pull();
  assert.equal(tablet.days.get(d0)?.peak_pain, 8);
  assert.equal(tablet.days.has(d2), false);
  const retried = await batch([
    { date: d0, peak_pain: 5, if_version: tablet.days.get(d0)!.version },
    { date: d1, peak_pain: 6, if_version: tablet.days.get(d1)!.version },
  ]);
  assert.equal(retried.response.status, 200);
  await tablet.pull();
  await phone.pull();
  assert.deepEqual(phone.view(), tablet.view());
  const server = await api.GET("/v1/patients/{patient_id}/diary", {
    params: { path: { patient_id: patientId }, query: { limit: 1000 } },
  });
  assert.ok(server.data);
  assert.deepEqual(
    phone.view(),
    new Map(server.data.items.map((e) => [e.date, [e.version, e.peak_pain]])),
  );
  step("after pull, push, pull both devices hold exactly the server's diary");
}

// ---------------------------------------------------------------------------------------------
// Password change (`POST /v1/me/password`): being added; runs only when the document has it.
// ---------------------------------------------------------------------------------------------

type PasswordOp = {
  parameters: { query?: never; header?: never; path?: never; cookie?: never };
  requestBody: {
    content: { "application/json": { current_password: string; new_password: string } };
  };
  responses: {
    200: { headers: { [name: string]: unknown }; content: { "application/json": Schemas["TokenPair"] } };
    401: { headers: { [name: string]: unknown }; content: { "application/problem+json": Problem } };
  };
};
type ExpectedPassword = { "/v1/me/password": { post: PasswordOp } };
type WithPassword = Omit<paths, keyof ExpectedPassword> & {
  [P in keyof ExpectedPassword]: P extends keyof paths ? paths[P] : ExpectedPassword[P];
};

function documentHas(method: string, path: string): boolean {
  const doc = JSON.parse(readFileSync(docPath, "utf8")) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const present = doc.paths[path]?.[method] !== undefined;
  if (!present) console.log(`  skip - ${method.toUpperCase()} ${path} is not in the document yet`);
  return present;
}

async function changePassword(
  patientApi: Client<paths>,
  session: { access?: string },
  email: string,
  password: string,
): Promise<void> {
  if (!documentHas("post", "/v1/me/password")) return;
  const api = patientApi as unknown as Client<WithPassword>;
  const newPassword = "a brand new passphrase";
  const wrong = await api.POST("/v1/me/password", {
    body: { current_password: "not the password", new_password: newPassword },
  });
  assertProblem(wrong.error as Problem | undefined, 401, "unauthorized");
  const old = session.access;
  const changed = await api.POST("/v1/me/password", {
    body: { current_password: password, new_password: newPassword },
  });
  assert.equal(changed.response.status, 200);
  assert.ok(changed.data);
  assert.equal(changed.data.token_type, "Bearer");
  // The old access token stops working at once; the fresh session works.
  const before = await patientApi.GET("/v1/me");
  assertProblem(before.error, 401, "unauthorized");
  session.access = changed.data.access_token;
  const after = await patientApi.GET("/v1/me");
  assert.equal(after.response.status, 200);
  assert.notEqual(old, session.access);
  const anon = newClient({});
  const oldLogin = await anon.POST("/v1/auth/login", { body: { email, password } });
  assertProblem(oldLogin.error, 401, "unauthorized");
  const newLogin = await anon.POST("/v1/auth/login", { body: { email, password: newPassword } });
  assert.equal(newLogin.response.status, 200);
  step("password change: a fresh session, the old token and password refused");
}

// ---------------------------------------------------------------------------------------------
// Summary endpoints. They are being added to the API; each step below runs only when its
// operationId is in openapi/openapi.json. Until then the paths are absent from `paths`, so the
// calls go through `Future`, which declares the expected shape of just the fields used here;
// once the operation is in the document, `Future` is exactly the generated `paths` entry and
// tsc checks these calls against the real schema.
// ---------------------------------------------------------------------------------------------

type Stats = {
  from: string;
  to: string;
  days: number;
  days_recorded: number;
  headache_days: number;
  any_headache_days: number;
};
type Op<Query, Path, Body> = {
  parameters: { query?: Query; header?: never; cookie?: never } & ([Path] extends [never]
    ? { path?: never }
    : { path: Path });
  requestBody?: never;
  responses: {
    200: { headers: { [name: string]: unknown }; content: { "application/json": Body } };
    404: { headers: { [name: string]: unknown }; content: { "application/problem+json": Problem } };
  };
};
type Expected = {
  "/v1/patients/{patient_id}/treatments/{treatment_id}/summary": {
    get: Op<
      { window_days?: number; followup_windows?: number },
      { patient_id: string; treatment_id: string },
      { window_days: number; baseline: Stats; post: Stats; followup: Stats[] }
    >;
  };
  "/v1/patients/{patient_id}/summary": {
    get: Op<
      { from?: string; to?: string; period?: "month" | "week" | "28d" },
      { patient_id: string },
      { overall: Stats; periods: Stats[] }
    >;
  };
  "/v1/patients/{patient_id}/days": {
    get: Op<{ from?: string; to?: string }, { patient_id: string }, { from: string; to: string; days: unknown[] }>;
  };
  "/v1/patients": {
    get: Op<{ limit?: number; cursor?: string }, never, { items: { patient: { id: string } }[] }>;
  };
  "/v1/cohort/summary": {
    get: Op<
      { kind: Schemas["TreatmentKind"]; window_days?: number; from?: string; to?: string },
      never,
      { treatments: number; patients: number }
    >;
  };
};
type Future = Omit<paths, keyof Expected> & {
  [P in keyof Expected]: P extends keyof paths ? paths[P] : Expected[P];
};

async function summaries(
  patientApi: Client<paths>,
  staffApi: Client<paths>,
  patientId: string,
  treatment: Schemas["Treatment"],
  week: string[],
): Promise<void> {
  const doc = JSON.parse(readFileSync(docPath, "utf8")) as {
    paths: Record<string, Record<string, { operationId?: string }>>;
  };
  const operations = new Set(
    Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId)),
  );
  const has = (id: string): boolean => {
    if (!operations.has(id)) console.log(`  skip - ${id} is not in the document yet`);
    return operations.has(id);
  };
  const api = patientApi as unknown as Client<Future>;
  const staff = staffApi as unknown as Client<Future>;
  const first = week[0]!;
  const last = week[6]!;

  if (has("getTreatmentSummary")) {
    const r = await api.GET("/v1/patients/{patient_id}/treatments/{treatment_id}/summary", {
      params: {
        path: { patient_id: patientId, treatment_id: treatment.id },
        query: { window_days: 7, followup_windows: 1 },
      },
    });
    assert.equal(r.response.status, 200);
    assert.ok(r.data);
    assert.equal(r.data.window_days, 7);
    // T = week[3]; the baseline T-7 … T-1 holds week[0..3), the post window T+1 … T+7 week[4..7).
    assert.equal(r.data.baseline.days_recorded, 3);
    assert.equal(r.data.post.days_recorded, 3);
    assert.equal(r.data.baseline.any_headache_days, 2);
    assert.equal(r.data.post.any_headache_days, 2);
    assert.equal(r.data.followup.length, 1);
    const unknown = await api.GET("/v1/patients/{patient_id}/treatments/{treatment_id}/summary", {
      params: { path: { patient_id: patientId, treatment_id: "0190a2b4-0000-7000-8000-000000000001" } },
    });
    assert.equal(unknown.response.status, 404);
    step("treatment summary: baseline and post windows");
  }
  if (has("getPatientSummary")) {
    const r = await api.GET("/v1/patients/{patient_id}/summary", {
      params: { path: { patient_id: patientId }, query: { from: first, to: last, period: "week" } },
    });
    assert.equal(r.response.status, 200);
    assert.ok(r.data);
    assert.equal(r.data.overall.days, 7);
    assert.equal(r.data.overall.days_recorded, 7);
    assert.equal(r.data.overall.any_headache_days, 5);
    assert.ok(r.data.periods.length >= 1 && r.data.periods.length <= 2);
    step("period summary of the week");
  }
  if (has("listDayClasses")) {
    const r = await api.GET("/v1/patients/{patient_id}/days", {
      params: { path: { patient_id: patientId }, query: { from: first, to: last } },
    });
    assert.equal(r.response.status, 200);
    assert.equal(r.data?.days.length, 7);
    step("day calendar: one class per day");
  }
  if (has("listPatients")) {
    const r = await staff.GET("/v1/patients", { params: { query: { limit: 10 } } });
    assert.equal(r.response.status, 200);
    assert.deepEqual(r.data?.items.map((p) => p.patient.id), [patientId]);
    step("the clinician's patient list");
  }
  if (has("getCohortSummary")) {
    const r = await staff.GET("/v1/cohort/summary", {
      params: { query: { kind: "iv_magnesium", window_days: 7, from: first, to: last } },
    });
    assert.equal(r.response.status, 200);
    assert.equal(r.data?.treatments, 1);
    assert.equal(r.data?.patients, 1);
    step("cohort summary over the linked patients");
  }
}

main().then(
  () => console.log(`typescript client flow: ${steps} passed, 0 failed`),
  (err: unknown) => {
    console.error("typescript client flow FAILED:", err);
    console.log(`typescript client flow: ${steps} passed, 1 failed`);
    process.exit(1);
  },
);
