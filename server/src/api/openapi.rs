//! The OpenAPI document (`GET /api/v1/openapi.json`), derived by `utoipa` from the handlers'
//! `#[utoipa::path]` and the [`super::types`]; served without a token (it holds no data).

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{control, direct, history, types};

/// The API's document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Fanout API", version = "1", description = "Drive Fanout from other tools. Every route needs `Authorization: Bearer <token>` (tokens are made in the dashboard's Settings)."),
    paths(
        control::live, control::destinations, control::start, control::stop,
        control::accounts, control::pause, control::resume,
        history::lives, history::events,
        direct::list, direct::create, direct::change, direct::remove,
    ),
    components(schemas(
        types::ErrorBody, types::ErrorDetail, types::LiveNow, types::LiveView, types::DestinationView,
        types::AccountView, types::Done, types::LiveRecord, types::LivesPage, types::EventRecord,
        types::EventsPage, types::DirectView, types::NewDirect, types::DirectPatch,
    )),
    modifiers(&Bearer),
)]
struct ApiDoc;

/// Adds the `bearer` security scheme the paths name.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// `GET /api/v1/openapi.json`.
pub(super) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
