//! The one app factory shared by `main` and every test, and the server loop.

use actix_web::body::MessageBody;
use std::future::Future;
use std::time::{Duration, Instant};

use actix_http::HttpService;
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::AppConfig;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, Condition};
use actix_web::{web, App};

use crate::http::body_deadline::{self, Timed};
use crate::http::head_errors::HeadGuard;

use crate::config::Config;
use crate::http::errors;
use crate::routes::{self, JSON_LIMIT_BYTES};
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
        .app_data(crate::http::params::query_config())
        .app_data(crate::http::params::path_config())
        .wrap(errors::envelope())
        .wrap(Compress::default())
        // Method, path and status; never headers (no tokens), nor signatures or case numbers.
        // Only when its lines would be written: the logger renders each line before the log
        // filter sees it.
        .wrap(Condition::new(
            crate::http::access_log::enabled(),
            crate::http::access_log::logger(),
        ))
        .service(
            web::resource("/api-docs/openapi.json")
                .route(web::get().to(crate::openapi::openapi_json)),
        )
        .configure(routes::configure)
        .configure(crate::web::configure)
        .default_service(web::to(crate::web::home::not_found))
        .wrap_fn(body_deadline::wrap)
        .wrap_fn(|req, srv| {
            // Outermost, so it sees the final status of every response.
            let started = Instant::now();
            let method = req.method().clone();
            let state = req.app_data::<web::Data<AppState>>().cloned();
            let response = srv.call(req);
            async move {
                let response = response.await?;
                if let Some(state) = state {
                    let route = response
                        .request()
                        .match_pattern()
                        .unwrap_or_else(|| "unmatched".into());
                    let status = response.status().as_u16();
                    let seconds = started.elapsed().as_secs_f64();
                    state.metrics.observe_http(&method, &route, status, seconds);
                }
                Ok(response)
            }
        })
}

/// Threads for blocking work (database, label rendering, password hashing) per HTTP worker.
const BLOCKING_THREADS_PER_WORKER: usize = 32;

/// Opens storage and serves until interrupted.
pub async fn serve(config: Config) -> Result<(), String> {
    log::info!("starting certrail with {config:?}");
    let bind = config.bind.clone();
    let state =
        web::block(move || AppState::open_for(config, crate::service::ops::identity::Use::Serve))
            .await
            .map_err(|e| e.to_string())??;
    let state = web::Data::new(state);
    let running = state.clone();
    if crate::service::access::organizations::first_run(&state).unwrap_or(false) {
        log::info!(
            "the database has no organizations yet: for a look around, stop the server and run \
             `certrail demo`; to begin for real, `certrail admin token` prints the admin's token \
             (create organizations with POST /api/v1/organizations), and `certrail admin user` \
             gives people a sign-in"
        );
    }
    // What `HttpServer` builds (its timeouts, half-closed connections, backlog, every address
    // `bind` resolves to), with each connection's stream wrapped in a `HeadGuard` so the
    // parser's own 400 and 431 answers carry the error envelope, and in `Timed` so a request's
    // body has `CERTRAIL_BODY_TIMEOUT_SECS` to arrive.
    let body_timeout = state.config.tuning.body_timeout;
    // Signals are handled by `drain_on_signal`, which first tells load balancers to stop.
    let builder = actix_server::Server::build()
        .backlog(1024)
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_SECS);
    let shutdown = builder.graceful_shutdown_signal();
    let server = builder
        // Blocking work waits for one of a few database connections anyway; hundreds of
        // threads (actix's default) only add memory.
        .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
        .bind("certrail", &bind, move || {
            let shutdown = shutdown.clone();
            let app = app(state.clone())
                .into_factory()
                .map_err(|err: actix_web::Error| err.error_response());
            fn_service(move |io: actix_rt::net::TcpStream| {
                let peer = io.peer_addr().ok();
                std::future::ready(Ok::<_, actix_http::error::DispatchError>((
                    Timed::new(HeadGuard::new(io), body_timeout),
                    peer,
                )))
            })
            .and_then(
                HttpService::build()
                    .on_connect_ext(|io: &Timed<HeadGuard<actix_rt::net::TcpStream>>, data| {
                        data.insert(io.clock());
                    })
                    .keep_alive(actix_http::KeepAlive::default())
                    .client_request_timeout(Duration::from_secs(5))
                    .client_disconnect_timeout(Duration::from_secs(1))
                    .h1_allow_half_closed(true)
                    .graceful_shutdown_signal(move || {
                        let signal = shutdown.clone();
                        async move { signal.notified().await }
                    })
                    .h1(map_config(app, |_| AppConfig::default())),
            )
        })
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    log::info!("listening on http://{bind}");
    // Out of the load balancer until the verification cache holds the newest records.
    running.warming.raise();
    let warming = running.clone();
    std::thread::Builder::new()
        .name("certrail-warm".into())
        .spawn(move || {
            crate::service::verify::warm::run(&warming, warming.config.tuning.warm_records)
        })
        .map_err(|e| format!("cannot start the cache warming: {e}"))?;
    let server = server.run();
    actix_rt::spawn(drain_on_signal(server.handle(), running.clone()));
    let served = server.await.map_err(|e| e.to_string());
    // Scans answered before the listener closed are stored before the process exits.
    let flushed = web::block(move || running.scans.flush())
        .await
        .unwrap_or(false);
    if !flushed {
        log::warn!("scans not yet stored at shutdown were lost");
    }
    log::info!("stopped");
    served
}

/// Longest time in-flight requests have to finish once the listener closed.
const SHUTDOWN_SECS: u64 = 30;

/// SIGTERM (systemd, an orchestrator): `/readyz` answers 503 for `CERTRAIL_DRAIN_SECS` so load
/// balancers stop sending requests, then the listener closes and in-flight requests finish.
/// SIGINT (Ctrl-C) does the same without the wait; SIGQUIT, or any second signal, stops at once.
async fn drain_on_signal(server: actix_server::ServerHandle, state: web::Data<AppState>) {
    use actix_rt::signal::unix::{signal, SignalKind};
    use std::task::Poll;
    let (Ok(mut term), Ok(mut int), Ok(mut quit)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::quit()),
    ) else {
        log::error!("cannot listen for signals: stop the server with SIGKILL");
        return;
    };
    // Which signal came: 0 SIGTERM, 1 SIGINT, 2 SIGQUIT.
    let mut next = |cx: &mut std::task::Context<'_>| {
        if term.poll_recv(cx).is_ready() {
            Poll::Ready(0)
        } else if int.poll_recv(cx).is_ready() {
            Poll::Ready(1)
        } else if quit.poll_recv(cx).is_ready() {
            Poll::Ready(2)
        } else {
            Poll::Pending
        }
    };
    let wait = match std::future::poll_fn(&mut next).await {
        0 => state.config.ops.drain,
        1 => Duration::ZERO,
        _ => return server.stop(false).await,
    };
    state.draining.raise();
    log::info!(
        "draining: /readyz answers 503; the listener closes in {} s",
        wait.as_secs()
    );
    let mut sleep = std::pin::pin!(actix_rt::time::sleep(wait));
    let interrupted = std::future::poll_fn(|cx| match next(cx) {
        Poll::Ready(_) => Poll::Ready(true),
        Poll::Pending => sleep.as_mut().poll(cx).map(|()| false),
    })
    .await;
    if interrupted {
        return server.stop(false).await;
    }
    let mut graceful = std::pin::pin!(server.stop(true));
    let interrupted = std::future::poll_fn(|cx| match next(cx) {
        Poll::Ready(_) => Poll::Ready(true),
        Poll::Pending => graceful.as_mut().poll(cx).map(|()| false),
    })
    .await;
    if interrupted {
        server.stop(false).await;
    }
}
