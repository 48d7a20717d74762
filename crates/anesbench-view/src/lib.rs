//! `anesbench view`: a read-only web viewer over run directories.
//!
//! - Runs are found under the directories given (recursively, never outside them) and
//!   named in URLs by an opaque id; no URL carries a file path ([`runs`]).
//! - Each run's `samples.jsonl` is held as an index of byte offsets plus a few small
//!   fields per record, grown incrementally as the file grows ([`index`]); records are read
//!   back from the file only for the page that shows them.
//! - Pages are plain server-rendered HTML ([`pages`]) with every piece of run, dataset or
//!   model text escaped, served with a Content-Security-Policy that allows nothing from
//!   outside and no inline script or style; one small script file refreshes a live run.
//! - [`export`] writes the same pages as a static site; [`bench`] measures the viewer on
//!   a synthetic 100,000-sample run against a naive reader.

pub mod bench;
pub mod client;
pub mod export;
pub mod html;
pub mod index;
pub mod index_cache;
pub mod pages;
pub mod query;
pub mod runs;
pub mod scan;
pub mod trees;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, Response, StatusCode};
use axum::routing::get;
use axum::Router;

use crate::html::{esc, page, Links};
use crate::pages::{PageError, PageResult};
use crate::runs::Registry;

pub const CSS: &str = include_str!("assets/app.css");
pub const LIVE_JS: &str = include_str!("assets/live.js");

/// Allows only the viewer's own origin, no inline script or style, no plugins, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

type CompareKey = (String, u64, String, u64);

/// The viewer's state: the runs under its roots, and a comparison cache.
pub struct Viewer {
    pub registry: Registry,
    compare_cache: Mutex<Option<(CompareKey, Arc<anesbench_report::compare::Comparison>)>>,
}

impl Viewer {
    pub fn new(roots: &[PathBuf]) -> anyhow::Result<Viewer> {
        Ok(Viewer {
            registry: Registry::new(roots)?,
            compare_cache: Mutex::new(None),
        })
    }
}

/// Whether binding `host` keeps the viewer on this machine.
pub fn is_loopback(host: &str) -> bool {
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

fn respond(status: StatusCode, ctype: &'static str, body: String) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    r
}

/// Security headers on every response, errors and 405s included.
async fn secure(mut r: Response<Body>) -> Response<Body> {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn error_page(status: StatusCode, msg: &str) -> Response<Body> {
    let body = page(
        &Links::SERVER,
        "Error",
        &format!("<h1>{}</h1><p>{}</p>", status.as_u16(), esc(msg)),
        None,
    );
    respond(status, "text/html; charset=utf-8", body)
}

async fn blocking(
    ctype: &'static str,
    f: impl FnOnce() -> PageResult + Send + 'static,
) -> Response<Body> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(body)) => respond(StatusCode::OK, ctype, body),
        Ok(Err(PageError::NotFound(m))) => error_page(StatusCode::NOT_FOUND, &m),
        Ok(Err(PageError::Bad(m))) => error_page(StatusCode::BAD_REQUEST, &m),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

const HTML: &str = "text/html; charset=utf-8";

fn page_param(qs: &Option<String>) -> usize {
    form_urlencoded::parse(qs.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// The viewer's routes: GET (and HEAD) only.
pub fn router(v: Arc<Viewer>) -> Router {
    Router::new()
        .route(
            "/",
            get(|State(v): State<Arc<Viewer>>, RawQuery(q): RawQuery| async move {
                let p = page_param(&q);
                blocking(HTML, move || pages::index_page(&v, &Links::SERVER, p)).await
            }),
        )
        .route(
            "/run/{id}",
            get(
                |State(v): State<Arc<Viewer>>, Path(id): Path<String>, RawQuery(q): RawQuery| async move {
                    blocking(HTML, move || {
                        pages::run_page(&v, &Links::SERVER, &id, q.as_deref())
                    })
                    .await
                },
            ),
        )
        .route(
            "/run/{id}/sample/{n}",
            get(
                |State(v): State<Arc<Viewer>>, Path((id, n)): Path<(String, u32)>| async move {
                    blocking(HTML, move || pages::sample_page(&v, &Links::SERVER, &id, n)).await
                },
            ),
        )
        .route(
            "/run/{id}/fig/{file}",
            get(
                |State(v): State<Arc<Viewer>>, Path((id, file)): Path<(String, String)>| async move {
                    let Some(kind) = file.strip_suffix(".svg").map(str::to_string) else {
                        return error_page(StatusCode::NOT_FOUND, "no such figure");
                    };
                    blocking("image/svg+xml", move || pages::run_fig(&v, &id, &kind)).await
                },
            ),
        )
        .route(
            "/run/{id}/analysis",
            get(
                |State(v): State<Arc<Viewer>>, Path(id): Path<String>| async move {
                    blocking(HTML, move || pages::analysis_page(&v, &Links::SERVER, &id)).await
                },
            ),
        )
        .route(
            "/run/{id}/poll",
            get(
                |State(v): State<Arc<Viewer>>, Path(id): Path<String>| async move {
                    blocking("application/json", move || pages::poll(&v, &id)).await
                },
            ),
        )
        .route(
            "/compare",
            get(|State(v): State<Arc<Viewer>>, RawQuery(q): RawQuery| async move {
                blocking(HTML, move || pages::compare_page(&v, &Links::SERVER, q.as_deref())).await
            }),
        )
        .route(
            "/leaderboard",
            get(|State(v): State<Arc<Viewer>>| async move {
                blocking(HTML, move || pages::leaderboard_page(&v, &Links::SERVER)).await
            }),
        )
        .route(
            "/leaderboard/fig/{file}",
            get(
                |State(v): State<Arc<Viewer>>, Path(file): Path<String>| async move {
                    let Some(kind) = file.strip_suffix(".svg").map(str::to_string) else {
                        return error_page(StatusCode::NOT_FOUND, "no such figure");
                    };
                    blocking("image/svg+xml", move || pages::lb_fig(&v, &kind)).await
                },
            ),
        )
        .route(
            "/static/{name}",
            get(|Path(name): Path<String>| async move {
                // Two built-in files; nothing is ever read from disk by name.
                match name.as_str() {
                    "app.css" => respond(StatusCode::OK, "text/css; charset=utf-8", CSS.into()),
                    "live.js" => respond(
                        StatusCode::OK,
                        "text/javascript; charset=utf-8",
                        LIVE_JS.into(),
                    ),
                    _ => error_page(StatusCode::NOT_FOUND, "no such file"),
                }
            }),
        )
        .fallback(|| async { error_page(StatusCode::NOT_FOUND, "no such page") })
        .layer(axum::middleware::map_response(secure))
        .with_state(v)
}

/// Serve on an already bound listener until the process ends.
pub async fn serve(v: Arc<Viewer>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(v)).await
}

/// Bind `host:port` (port 0 picks a free one) and serve in the background; returns the
/// bound address.
pub async fn spawn(v: Arc<Viewer>, host: &str, port: u16) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind((host, port)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = serve(v, listener).await;
    });
    Ok(addr)
}
