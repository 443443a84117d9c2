//! A TLS-terminating reverse proxy on a loopback port, as a store behind nginx or a load balancer
//! is reached: HTTPS outside, plain HTTP to the store with `X-Forwarded-Proto: https` (which the
//! test site trusts, as such sites are set up to). Its certificate is made for the run by a CA of
//! its own, written to a PEM file for the client's `woocommerce.ca_file`.

use std::{path::PathBuf, sync::Arc};

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderName, Response},
};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, rustls, server::TlsStream};

pub struct TlsProxy {
    /// `https://127.0.0.1:<port>`
    pub url: String,
    /// The PEM file of the CA that signed the proxy's certificate.
    pub ca_file: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

struct TlsListener {
    tcp: TcpListener,
    tls: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else { continue };
            // A client that gives up during the handshake (a wrong CA) is its own business.
            if let Ok(tls) = self.tls.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Hop-by-hop headers a proxy does not pass on, and the ones reqwest sets for the new request.
const NOT_FORWARDED: &[&str] = &["host", "connection", "content-length", "transfer-encoding", "keep-alive"];

pub async fn start(upstream: &str) -> TlsProxy {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "wns test proxy CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();

    let ca_file = std::env::temp_dir().join(format!("wns-proxy-ca-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&ca_file, ca.pem()).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", tcp.local_addr().unwrap());
    let listener = TlsListener { tcp, tls: TlsAcceptor::from(Arc::new(config)) };

    let upstream = upstream.trim_end_matches('/').to_string();
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |req: Request| {
        let (upstream, http) = (upstream.clone(), http.clone());
        async move { forward(&http, &upstream, req).await }
    });
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TlsProxy { url, ca_file, task }
}

async fn forward(http: &reqwest::Client, upstream: &str, req: Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap();
    let mut out = http.request(parts.method, format!("{upstream}{path}")).body(body);
    for (name, value) in &parts.headers {
        if !NOT_FORWARDED.contains(&name.as_str()) {
            out = out.header(name, value);
        }
    }
    out = out.header(HeaderName::from_static("x-forwarded-proto"), "https");
    let answer = out.send().await.unwrap();
    let mut res = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !NOT_FORWARDED.contains(&name.as_str()) {
            res = res.header(name, value);
        }
    }
    res.body(Body::from(answer.bytes().await.unwrap())).unwrap()
}
