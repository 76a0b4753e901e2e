//! Every route of the service on one screen, then the layers every request passes through.
//!
//! Routes are registered through utoipa-axum's `OpenApiRouter`, so the served routes and the
//! OpenAPI document come from the same list and cannot diverge. The order of this list is the
//! order of `openapi/openapi.json`; new routes go at the end of their group.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{header, HeaderName, Request};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::api::{
    accounts, add_problem_responses, audit, care_team, changes, contract, data_rights, diary,
    health, outcomes, password, patients, questionnaires, record, treatments, ApiDoc,
};
use crate::error::ApiError;
use crate::state::AppState;

/// Largest accepted request body: a full 400-day batch with long notes fits.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Every route of the API with its documentation.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        // Sessions and accounts: anyone (sign-up, login), then the caller's own account,
        // then admins.
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::refresh))
        .routes(routes!(accounts::logout))
        .routes(routes!(accounts::get_me, accounts::update_me))
        .routes(routes!(accounts::create_user))
        // Passwords and data rights: the caller's own, anyone's reset, then admins.
        .routes(routes!(password::change_password))
        .routes(routes!(password::request_password_reset))
        .routes(routes!(password::confirm_password_reset))
        .routes(routes!(data_rights::export_my_data))
        .routes(routes!(data_rights::delete_my_account))
        .routes(routes!(password::issue_desk_reset_code))
        .routes(routes!(data_rights::delete_user))
        // The care team: clinicians hand out invites, patients redeem and revoke them.
        .routes(routes!(care_team::create_invite))
        .routes(routes!(
            care_team::list_my_clinicians,
            care_team::link_clinician
        ))
        .routes(routes!(care_team::unlink_clinician))
        // Patients: the clinician's list and a profile.
        .routes(routes!(patients::list_patients))
        .routes(routes!(patients::get_patient))
        // The diary: the patient writes, the patient and linked clinicians read.
        .routes(routes!(diary::list_diary))
        .routes(routes!(
            diary::get_diary_entry,
            diary::upsert_diary_entry,
            diary::delete_diary_entry
        ))
        .routes(routes!(diary::batch_upsert_diary))
        // Sync: the patient app pulls what changed since its cursor.
        .routes(routes!(changes::list_changes))
        // Treatments: the patient or a linked clinician records them.
        .routes(routes!(
            treatments::list_treatments,
            treatments::create_treatment
        ))
        .routes(routes!(
            treatments::get_treatment,
            treatments::update_treatment,
            treatments::delete_treatment
        ))
        // Questionnaires: the patient submits, the patient and linked clinicians read.
        .routes(routes!(
            questionnaires::list_questionnaires,
            questionnaires::submit_questionnaire
        ))
        .routes(routes!(
            questionnaires::get_questionnaire,
            questionnaires::delete_questionnaire
        ))
        // Outcomes: before/after, period summaries, the day calendar, the cohort.
        .routes(routes!(outcomes::treatment_summary))
        .routes(routes!(outcomes::patient_summary))
        .routes(routes!(outcomes::day_calendar))
        .routes(routes!(outcomes::cohort_summary))
        // The record in other media types: CSV out and in, FHIR, the printable reports.
        .routes(routes!(record::export_diary_csv))
        .routes(routes!(record::import_diary_csv))
        .routes(routes!(record::export_fhir))
        .routes(routes!(record::treatment_report))
        .routes(routes!(record::range_report))
        // The audit trail: the patient's access log, the admin's view of the whole trail.
        .routes(routes!(audit::access_log))
        .routes(routes!(audit::admin_audit))
        // Health: orchestrators and load balancers, no token.
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
}

/// The OpenAPI document, exactly as `/openapi.json` serves it.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api_router().split_for_parts();
    add_problem_responses(&mut doc);
    contract::apply(&mut doc);
    doc
}

/// The document as committed in `openapi/openapi.json` (pretty JSON, trailing newline).
pub fn openapi_json() -> String {
    let mut text = serde_json::to_string_pretty(&openapi_document()).unwrap_or_default();
    text.push('\n');
    text
}

async fn not_found() -> ApiError {
    ApiError::not_found("No such route.")
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("handler panicked").into_response()
}

/// The whole service: API routes, `/openapi.json`, `/docs`, and the cross-cutting layers.
pub fn app(state: AppState) -> Router {
    let (router, mut doc) = api_router().split_for_parts();
    add_problem_responses(&mut doc);
    contract::apply(&mut doc);
    let x_request_id = HeaderName::from_static("x-request-id");
    let web = Arc::new(state.web.clone());
    let cors = (!web.cors_origins.is_empty())
        .then(|| from_fn_with_state(Arc::clone(&web), crate::web::cors));
    // One stack, outermost first, applied once: every `Router::layer` call wraps each route in
    // a boxed service of its own, which is cloned and whose future is boxed again on every
    // request (eleven of them were a tenth of a `/health/live` request). They run after
    // routing, so the route template is known to the span, the metrics and the audit trail.
    let layers = ServiceBuilder::new()
        .layer(axum::middleware::map_request(
            crate::request_id::drop_unsafe,
        ))
        .layer(SetRequestIdLayer::new(
            x_request_id.clone(),
            MakeRequestUuid,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let request_id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                // The route template (`/v1/patients/{patient_id}/diary/{date}`), not the path:
                // ids and diary dates stay out of the logs.
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("(no route)", MatchedPath::as_str);
                tracing::info_span!(
                    "request",
                    method = %req.method(),
                    route = %route,
                    request_id = %request_id,
                )
            }),
        )
        .layer(from_fn_with_state(
            Arc::clone(&state.metrics),
            crate::metrics::layer,
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
        ]))
        .option_layer(cors)
        // Outside the panic catcher, so that its 500 gets the headers and the request id too.
        .layer(from_fn_with_state(web, crate::web::answer_policy))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn_with_state(state.audit.clone(), crate::audit::layer));
    router
        .merge(
            SwaggerUi::new("/docs")
                .url("/openapi.json", doc)
                // No badge from validator.swagger.io: the page works offline and calls no one.
                .config(Config::default().validator_url("none")),
        )
        .fallback(not_found)
        .with_state(state)
        .layer(layers)
}
