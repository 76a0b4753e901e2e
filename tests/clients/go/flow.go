// What a real app does, through the Go client that OpenAPI Generator 7.26 generates from
// openapi/openapi.json with default options. Built and run by tests/clients/run.sh against a
// fresh server:
//
//	MIGRAINE_DIARY_URL                        the server
//	MIGRAINE_DIARY_CLINICIAN_EMAIL/_PASSWORD  a clinician made with `migraine-diary user create`
//
// The same steps as ts/flow.ts and python/flow.py. Every step asserts the values it gets back;
// the first failed assertion ends the run non-zero.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	openapi "github.com/GIT_USER_ID/GIT_REPO_ID"
)

var steps = 0

func step(name string) {
	steps++
	fmt.Printf("  ok %d - %s\n", steps, name)
}

// failure ends the flow: main recovers it and prints the closing line.
type failure struct{ msg string }

func check(cond bool, format string, args ...interface{}) {
	if !cond {
		panic(failure{fmt.Sprintf(format, args...)})
	}
}

func equal(got, want interface{}, what string) {
	check(reflect.DeepEqual(got, want), "%s: got %#v, want %#v", what, got, want)
}

// success asserts that a call returned no error and the expected status.
func success(resp *http.Response, err error, status int, what string) {
	if err != nil {
		var apiErr *openapi.GenericOpenAPIError
		if errors.As(err, &apiErr) {
			check(false, "%s: %v: %s", what, err, apiErr.Body())
		}
		check(false, "%s: %v", what, err)
	}
	check(resp != nil && resp.StatusCode == status, "%s: status %d, want %d", what, statusOf(resp), status)
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// problem asserts an error answer and returns its problem+json body, decoded by the client into
// its own `Problem` model.
func problem(resp *http.Response, err error, status int, kind string) openapi.Problem {
	check(err != nil, "expected a %d problem, got success (%d)", status, statusOf(resp))
	check(statusOf(resp) == status, "status %d, want %d (%v)", statusOf(resp), status, err)
	equal(resp.Header.Get("Content-Type"), "application/problem+json", "problem content type")
	var apiErr *openapi.GenericOpenAPIError
	check(errors.As(err, &apiErr), "error %T is not the client's GenericOpenAPIError", err)
	p, ok := apiErr.Model().(openapi.Problem)
	check(ok, "the client decoded no Problem model: %T %s", apiErr.Model(), apiErr.Body())
	equal(int(p.GetStatus()), status, "problem status")
	equal(p.GetType(), "urn:migraine-diary:problem:"+kind, "problem type")
	check(p.GetTitle() != "" && p.GetDetail() != "", "problem without title or detail")
	return p
}

// daysAgo is today (UTC) minus n days as YYYY-MM-DD.
func daysAgo(n int) string {
	return time.Now().UTC().AddDate(0, 0, -n).Format("2006-01-02")
}

func newClient(baseURL string) *openapi.APIClient {
	cfg := openapi.NewConfiguration()
	cfg.Servers = openapi.ServerConfigurations{{URL: baseURL, Description: "the server under test"}}
	return openapi.NewAPIClient(cfg)
}

func bearer(token string) context.Context {
	return context.WithValue(context.Background(), openapi.ContextAccessToken, token)
}

func mustEnv(name string) string {
	v := os.Getenv(name)
	if v == "" {
		panic(failure{name + " is not set"})
	}
	return v
}

func main() {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "go client flow FAILED: %v\n", r)
			fmt.Printf("go client flow: %d passed, 1 failed\n", steps)
			os.Exit(1)
		}
	}()
	run()
	fmt.Printf("go client flow: %d passed, 0 failed\n", steps)
}

func run() {
	api := newClient(mustEnv("MIGRAINE_DIARY_URL"))
	clinicianEmail := mustEnv("MIGRAINE_DIARY_CLINICIAN_EMAIL")
	clinicianPassword := mustEnv("MIGRAINE_DIARY_CLINICIAN_PASSWORD")
	anon := context.Background()
	email := fmt.Sprintf("carla.%d@example.org", time.Now().UnixNano())
	password := "correct horse battery staple"

	// -- register, log in, refresh -------------------------------------------------------------
	reg := openapi.NewRegisterRequest(strings.ToUpper(email), password, "America/Sao_Paulo")
	reg.SetDisplayName("Carla")
	me, resp, err := api.AuthAPI.RegisterPatient(anon).RegisterRequest(*reg).Execute()
	success(resp, err, 201, "register")
	equal(me.GetEmail(), email, "email is stored lower-case")
	equal(me.GetRole(), openapi.PATIENT, "role")
	equal(me.GetDisplayName(), "Carla", "display name")
	equal(me.GetTimezone(), "America/Sao_Paulo", "time zone")
	patientID := me.GetId()
	step("register a patient")

	_, resp, err = api.AuthAPI.RegisterPatient(anon).
		RegisterRequest(*openapi.NewRegisterRequest(email, password, "UTC")).Execute()
	problem(resp, err, 409, "conflict")
	step("registering the same email again is 409")

	login, resp, err := api.AuthAPI.Login(anon).LoginRequest(*openapi.NewLoginRequest(email, password)).Execute()
	success(resp, err, 200, "login")
	equal(login.GetTokenType(), openapi.BEARER, "token type")
	check(login.GetExpiresIn() > 0, "expires_in %d", login.GetExpiresIn())
	step("log in")

	pair, resp, err := api.AuthAPI.RefreshTokens(anon).
		RefreshRequest(*openapi.NewRefreshRequest(login.GetRefreshToken())).Execute()
	success(resp, err, 200, "refresh")
	check(pair.GetRefreshToken() != login.GetRefreshToken(), "the refresh token was not rotated")
	patient := bearer(pair.GetAccessToken())
	whoami, resp, err := api.AccountsAPI.GetMe(patient).Execute()
	success(resp, err, 200, "me")
	equal(whoami.GetId(), patientID, "me.id")
	step("refresh tokens; the new access token works")

	// -- a week of diary days ------------------------------------------------------------------
	week := []string{}
	for n := 10; n >= 4; n-- { // oldest first, all safely in the past
		week = append(week, daysAgo(n))
	}
	pains := []int32{5, 0, 8, 3, 0, 7, 1}
	first, last := week[0], week[6]
	one := openapi.NewDiaryEntryInput(2)
	one.SetHeadacheHours(1.5)
	saved, resp, err := api.DiaryAPI.UpsertDiaryEntry(patient, patientID, first).DiaryEntryInput(*one).Execute()
	success(resp, err, 201, "first PUT")
	equal(resp.Header.Get("ETag"), `"1"`, "ETag")
	equal(int(saved.GetVersion()), 1, "version")
	step(`save one day (201, ETag "1")`)

	var entries []openapi.DatedDiaryEntryInput
	for i, date := range week {
		e := openapi.NewDatedDiaryEntryInput(date, pains[i])
		if pains[i] > 0 {
			e.SetHeadacheHours(float64(pains[i]))
		}
		severe := pains[i] >= 7
		features := openapi.HeadacheFeaturesInput{}
		features.SetNausea(severe)
		features.SetPulsating(pains[i] >= 3)
		e.SetFeatures(features)
		meds := []openapi.AcuteMedication{}
		if pains[i] >= 3 {
			m := openapi.NewAcuteMedication("rizatriptan", openapi.TRIPTAN)
			m.SetDose("10 mg")
			meds = append(meds, *m)
		}
		e.SetAcuteMedications(meds)
		if severe {
			e.SetDisability(openapi.SEVERE)
			e.SetNotes("stayed in bed")
		}
		entries = append(entries, *e)
	}
	batch, resp, err := api.DiaryAPI.BatchUpsertDiaryEntries(patient, patientID).
		DiaryBatchRequest(*openapi.NewDiaryBatchRequest(entries)).Execute()
	success(resp, err, 200, "batch")
	equal(dates(batch.GetItems()), week, "batch dates")
	equal(int(batch.GetItems()[0].GetVersion()), 2, "day 1 was replaced: version 2")
	step("save the week in one batch (offline sync)")

	// -- a treatment ---------------------------------------------------------------------------
	// 01:30 UTC is 22:30 the day before in São Paulo: the treatment day is the patient's day.
	startedAt, err := time.Parse(time.RFC3339, addDays(week[3], 1)+"T01:30:00Z")
	check(err == nil, "parse: %v", err)
	input := openapi.NewTreatmentInput(openapi.IV_DOPAMINE_ANTAGONIST, "metoclopramide 10 mg", startedAt)
	input.SetEndedAt(startedAt.Add(30 * time.Minute))
	input.SetDose(10)
	input.SetDoseUnit("mg")
	input.SetAdverseEvents([]string{"restlessness"})
	treatment, resp, err := api.TreatmentsAPI.CreateTreatment(patient, patientID).TreatmentInput(*input).Execute()
	success(resp, err, 201, "create treatment")
	equal(treatment.GetKind(), openapi.IV_DOPAMINE_ANTAGONIST, "kind")
	equal(treatment.GetPatientId(), patientID, "patient_id")
	equal(treatment.GetRecordedBy(), patientID, "recorded_by")
	equal(treatment.GetTreatmentDay(), week[3], "treatment day in the patient's zone")
	equal(treatment.GetAdverseEvents(), []string{"restlessness"}, "adverse events")
	step("record a treatment (treatment day in the patient's time zone)")

	// -- read it back --------------------------------------------------------------------------
	page, resp, err := api.DiaryAPI.ListDiaryEntries(patient, patientID).From(first).To(last).Limit(5).Execute()
	success(resp, err, 200, "list page 1")
	equal(peaks(page.GetItems()), pains[:5], "page 1 peak pains")
	cursor, ok := page.GetNextCursorOk()
	check(ok && *cursor != "", "a second page")
	page2, resp, err := api.DiaryAPI.ListDiaryEntries(patient, patientID).From(first).To(last).Limit(5).
		Cursor(*cursor).Execute()
	success(resp, err, 200, "list page 2")
	equal(dates(page2.GetItems()), week[5:], "page 2 dates")
	check(page2.GetNextCursor() == "", "no third page")
	step("read the diary back, two pages, in date order")

	day, resp, err := api.DiaryAPI.GetDiaryEntry(patient, patientID, week[2]).Execute()
	success(resp, err, 200, "get day")
	equal(int(day.GetPeakPain()), 8, "peak pain")
	equal(day.GetHeadacheHours(), 8.0, "headache hours")
	features := day.GetFeatures()
	check(features.GetNausea() && features.GetPulsating() && !features.GetAura(), "features %+v", features)
	equal(day.GetAcuteMedications()[0].GetClass(), openapi.TRIPTAN, "medication class")
	equal(day.GetDisability(), openapi.SEVERE, "disability")
	equal(day.GetNotes(), "stayed in bed", "notes")
	equal(resp.Header.Get("ETag"), fmt.Sprintf(`"%d"`, day.GetVersion()), "ETag")
	zero, resp, err := api.DiaryAPI.GetDiaryEntry(patient, patientID, week[1]).Execute()
	success(resp, err, 200, "get pain-free day")
	// null (or absent) reads back as the Go client's "no value": a nil pointer.
	hours, _ := zero.GetHeadacheHoursOk()
	notes, _ := zero.GetNotesOk()
	disability, _ := zero.GetDisabilityOk()
	check(hours == nil && notes == nil && disability == nil, "unrecorded values came back: %+v", zero)
	equal(len(zero.GetAcuteMedications()), 0, "no medications")
	step("read single days with their ETag, values and nulls intact")

	treatments, resp, err := api.TreatmentsAPI.ListTreatments(patient, patientID).Execute()
	success(resp, err, 200, "list treatments")
	check(len(treatments.GetItems()) == 1 && treatments.GetItems()[0].GetId() == treatment.GetId(),
		"treatments %+v", treatments.GetItems())
	step("list treatments")

	// -- the clinician ---------------------------------------------------------------------------
	staffPair, resp, err := api.AuthAPI.Login(anon).
		LoginRequest(*openapi.NewLoginRequest(clinicianEmail, clinicianPassword)).Execute()
	success(resp, err, 200, "clinician login")
	staff := bearer(staffPair.GetAccessToken())
	_, resp, err = api.PatientsAPI.GetPatient(staff, patientID).Execute()
	problem(resp, err, 404, "not-found") // not linked yet: the patient does not exist
	invite, resp, err := api.CareTeamAPI.CreateCareInvite(staff).Execute()
	success(resp, err, 201, "create invite")
	linked, resp, err := api.CareTeamAPI.LinkClinician(patient).
		RedeemInviteRequest(*openapi.NewRedeemInviteRequest(invite.GetCode())).Execute()
	success(resp, err, 201, "link clinician")
	equal(linked.GetEmail(), clinicianEmail, "linked clinician")
	profile, resp, err := api.PatientsAPI.GetPatient(staff, patientID).Execute()
	success(resp, err, 200, "clinician reads the profile")
	equal(profile.GetEmail(), email, "profile email")
	staffDiary, resp, err := api.DiaryAPI.ListDiaryEntries(staff, patientID).From(first).To(last).Execute()
	success(resp, err, 200, "clinician reads the diary")
	equal(len(staffDiary.GetItems()), 7, "days the clinician sees")
	step("a clinician is linked by invite code and reads the diary")

	// -- summaries -------------------------------------------------------------------------------
	summary, resp, err := api.OutcomesAPI.GetTreatmentSummary(patient, patientID, treatment.GetId()).
		WindowDays(7).FollowupWindows(1).Execute()
	success(resp, err, 200, "treatment summary")
	equal(int(summary.GetWindowDays()), 7, "window days")
	// T = week[3]; the baseline T-7 … T-1 holds week[0..3), the post window T+1 … T+7 week[4..7).
	equal(int(summary.GetBaseline().DaysRecorded), 3, "baseline days recorded")
	equal(int(summary.GetPost().DaysRecorded), 3, "post days recorded")
	equal(int(summary.GetBaseline().AnyHeadacheDays), 2, "baseline any-headache days")
	equal(int(summary.GetPost().AnyHeadacheDays), 2, "post any-headache days")
	equal(len(summary.GetFollowup()), 1, "follow-up windows")
	_, resp, err = api.OutcomesAPI.GetTreatmentSummary(patient, patientID, "0190a2b4-0000-7000-8000-000000000001").Execute()
	problem(resp, err, 404, "not-found")
	step("treatment summary: baseline and post windows")

	period, resp, err := api.OutcomesAPI.GetPatientSummary(staff, patientID).From(first).To(last).
		Period(openapi.WEEK).Execute()
	success(resp, err, 200, "period summary")
	overall := period.GetOverall()
	equal([]int{int(overall.GetDays()), int(overall.GetDaysRecorded()), int(overall.GetAnyHeadacheDays())},
		[]int{7, 7, 5}, "overall days, recorded, any-headache")
	check(len(period.GetPeriods()) >= 1 && len(period.GetPeriods()) <= 2, "periods %d", len(period.GetPeriods()))
	step("period summary of the week (as the clinician)")

	calendar, resp, err := api.OutcomesAPI.ListDayClasses(patient, patientID).From(first).To(last).Execute()
	success(resp, err, 200, "day calendar")
	equal(len(calendar.GetDays()), 7, "calendar days")
	check(calendar.GetDays()[3].GetTreatmentIds()[0] == treatment.GetId(), "the treatment is on its day")
	step("day calendar: one class per day")

	panel, resp, err := api.PatientsAPI.ListPatients(staff).Limit(10).Execute()
	success(resp, err, 200, "patient list")
	check(len(panel.GetItems()) == 1 && panel.GetItems()[0].Patient.GetId() == patientID, "panel %+v", panel.GetItems())
	step("the clinician's patient list")

	cohort, resp, err := api.OutcomesAPI.GetCohortSummary(staff).Kind(openapi.IV_DOPAMINE_ANTAGONIST).
		WindowDays(7).From(first).To(last).Execute()
	success(resp, err, 200, "cohort summary")
	equal([]int{int(cohort.GetTreatments()), int(cohort.GetPatients())}, []int{1, 1}, "cohort treatments, patients")
	step("cohort summary over the linked patients")

	// -- errors through the client's own error type ----------------------------------------------
	invalid := openapi.NewDiaryEntryInput(11)
	invalid.SetHeadacheHours(30)
	_, resp, err = api.DiaryAPI.UpsertDiaryEntry(patient, patientID, daysAgo(1)).DiaryEntryInput(*invalid).Execute()
	p := problem(resp, err, 422, "validation")
	fields := []string{}
	for _, e := range p.GetErrors() {
		fields = append(fields, e.GetField())
	}
	sort.Strings(fields)
	equal(fields, []string{"headache_hours", "peak_pain"}, "invalid fields")
	step("422 names every invalid field (problem+json)")

	_, resp, err = api.DiaryAPI.GetDiaryEntry(patient, patientID, daysAgo(30)).Execute()
	problem(resp, err, 404, "not-found")
	_, resp, err = api.PatientsAPI.GetPatient(patient, "0190a2b4-0000-7000-8000-000000000000").Execute()
	problem(resp, err, 404, "not-found")
	step("404 for a missing day and for another patient (problem+json)")

	_, resp, err = api.DiaryAPI.UpsertDiaryEntry(patient, patientID, first).IfMatch(`"99"`).
		DiaryEntryInput(*openapi.NewDiaryEntryInput(1)).Execute()
	problem(resp, err, 412, "precondition-failed")
	step("412 on a stale If-Match")

	_, resp, err = api.AuthAPI.RefreshTokens(anon).
		RefreshRequest(*openapi.NewRefreshRequest(login.GetRefreshToken())).Execute()
	problem(resp, err, 401, "unauthorized")
	step("a spent refresh token is 401")
}

func dates(entries []openapi.DiaryEntry) []string {
	out := []string{}
	for _, e := range entries {
		out = append(out, e.GetDate())
	}
	return out
}

func peaks(entries []openapi.DiaryEntry) []int32 {
	out := []int32{}
	for _, e := range entries {
		out = append(out, e.GetPeakPain())
	}
	return out
}

func addDays(date string, n int) string {
	t, err := time.Parse("2006-01-02", date)
	check(err == nil, "date %q: %v", date, err)
	return t.AddDate(0, 0, n).Format("2006-01-02")
}
