//! The one app factory shared by `main` and every test, and the server loop.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, Logger};
use actix_web::{web, App, HttpServer};

use crate::config::Config;
use crate::routes::{self, errors, JSON_LIMIT_BYTES};
use crate::service::AppState;

/// Builds the application around `state`: routes, pages, body limits and error envelopes.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::new(JSON_LIMIT_BYTES))
        .wrap(errors::envelope())
        .wrap(Compress::default())
        // The default format logs method, path and status; never headers, so no tokens.
        .wrap(Logger::new("%a \"%r\" %s %b %Dms"))
        .configure(routes::configure)
        .configure(crate::web::configure)
        .default_service(web::to(errors::not_found))
}

/// Opens storage and serves until interrupted.
pub async fn serve(config: Config) -> Result<(), String> {
    log::info!("starting certrail with {config:?}");
    let bind = config.bind.clone();
    let state = web::block(move || AppState::open(config))
        .await
        .map_err(|e| e.to_string())??;
    let state = web::Data::new(state);
    let server = HttpServer::new(move || app(state.clone()))
        .bind(&bind)
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    log::info!("listening on http://{bind}");
    server.run().await.map_err(|e| e.to_string())
}
