//! What every `/api/v1` operation shares, added to the document in one place: the bearer
//! credential (a user token from the WordPress plugin, or an operator key from `wns keys create`)
//! and the errors any operation may answer — 401 without a valid credential, 403 without the
//! capability, 429 over the caller's rate limit, 500 and 503 — all in the one error shape.

use utoipa::openapi::{
    ContentBuilder, OpenApi, ResponseBuilder,
    security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
};
use wns_api_types::ErrorBody;

const SCHEME: &str = "bearer";

pub fn finish(mut doc: OpenApi) -> OpenApi {
    use utoipa::{PartialSchema, ToSchema};
    doc.info.title = "wns API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    // utoipa-axum starts from utoipa's own package info: the document is wns's.
    doc.info.contact = None;
    doc.info.license = Some(utoipa::openapi::License::new(env!("CARGO_PKG_LICENSE")));
    doc.info.description = Some(
        "The sync service between WooCommerce and NetSuite, for the people who run the shop: order and \
         product status, SKU mappings, exceptions, health and the daily report. Every call carries \
         `Authorization: Bearer <token>`: a user token minted by the wns-sync WordPress plugin (HS256, \
         capabilities view, map_skus, replay, resolve) or an operator key from `wns keys create`."
            .into(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("A wns-sync user token (JWT) or an operator key"))
                .build(),
        ),
    );
    let mut schemas = Vec::new();
    ErrorBody::schemas(&mut schemas);
    for (name, schema) in schemas {
        components.schemas.insert(name, schema);
    }
    components.schemas.insert(ErrorBody::name().into_owned(), ErrorBody::schema());
    doc.security = Some(vec![SecurityRequirement::new(SCHEME, Vec::<String>::new())]);
    let error = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(utoipa::openapi::Ref::from_schema_name(ErrorBody::name()))).build(),
            )
            .build()
    };
    let shared = [
        ("400", "The request is malformed (the message says what to change)"),
        ("401", "No credential, or one that is expired, revoked or not for this wns"),
        ("403", "The caller lacks the capability this operation needs"),
        ("429", "Over the caller's rate limit; `Retry-After` says when to try again"),
        ("500", "wns failed; the cause is in its log"),
        ("503", "wns's database is unavailable"),
    ];
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete].into_iter().flatten() {
            for (code, what) in shared {
                op.responses.responses.entry(code.into()).or_insert_with(|| error(what).into());
            }
        }
    }
    doc
}
