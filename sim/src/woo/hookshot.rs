//! The outgoing HTTP of webhook deliveries: one `POST` over a fresh TCP connection, HTTP/1.0 as
//! WooCommerce's `deliver()` asks for. Only the status code matters to WooCommerce, so the
//! answer is read up to its status line. `https://` receivers are not reachable from here (the
//! crate has no TLS client); such a delivery fails like an unreachable URL.

use std::time::Duration;

use std::io::ErrorKind;

use tokio::net::TcpStream;

/// Posts `body` and returns the HTTP status, or why there was none.
pub(crate) async fn post(url: &str, headers: &[(&str, String)], body: &[u8], timeout: Duration) -> Result<u16, String> {
    match tokio::time::timeout(timeout, send(url, headers, body)).await {
        Ok(result) => result,
        Err(_) => Err(format!("Operation timed out after {} milliseconds", timeout.as_millis())),
    }
}

/// `Host` as WordPress' HTTP client writes it: with the port unless it is the default.
pub(crate) fn host_header(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

async fn send(url: &str, headers: &[(&str, String)], body: &[u8]) -> Result<u16, String> {
    let url = url::Url::parse(url).map_err(|e| format!("A valid URL was not provided: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!("{} delivery is not supported by the simulator", url.scheme()));
    }
    let host = url.host_str().ok_or("A valid URL was not provided.")?.trim_matches(['[', ']']).to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let stream = TcpStream::connect((host.as_str(), port)).await.map_err(|e| format!("cURL error 7: {e}"))?;
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let mut request = format!("POST {target} HTTP/1.0\r\nHost: {}\r\n", host_header(&url));
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Connection: close\r\nContent-Length: {}\r\n\r\n", body.len()));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    write_all(&stream, &bytes).await.map_err(|e| format!("cURL error 55: {e}"))?;
    read_status(&stream).await
}

/// Tokio is built without `io-util` here, so writes go through readiness + `try_write`.
async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn read_some(stream: &TcpStream, chunk: &mut [u8]) -> std::io::Result<usize> {
    loop {
        stream.readable().await?;
        match stream.try_read(chunk) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

async fn read_status(stream: &TcpStream) -> Result<u16, String> {
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    loop {
        if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..end]).into_owned();
            let code = line.split_whitespace().nth(1).and_then(|c| c.parse().ok());
            return code.ok_or_else(|| format!("cURL error 8: weird server reply: {line}"));
        }
        let n = read_some(stream, &mut chunk).await.map_err(|e| format!("cURL error 56: {e}"))?;
        if n == 0 {
            return Err("cURL error 52: Empty reply from server".to_owned());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 8192 {
            return Err("cURL error 8: status line too long".to_owned());
        }
    }
}
