//! HTTP test servers on 127.0.0.1 that stop by themselves (after 10 s): [`Server`] answers
//! each request from a closure and counts connections; [`ConnectProxy`] is an HTTP
//! `CONNECT` proxy that records where it tunnelled.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A server on 127.0.0.1 answering each request with `answer(path, n)` (n counts from 0),
/// one connection after the other, for at most 10 s (or the lifetime given), until stopped.
pub struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    heads: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts the server for at most 10 s.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start(answer: impl Fn(&str, usize) -> Option<Vec<u8>> + Send + 'static) -> Server {
        Server::for_at_most(Duration::from_secs(10), answer)
    }

    /// Starts the server for at most `lifetime`: a test that asserts nothing reached it
    /// keeps it up until it has looked (then [`Server::stop`]).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn for_at_most(
        lifetime: Duration,
        answer: impl Fn(&str, usize) -> Option<Vec<u8>> + Send + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("because loopback is free");
        let port = listener.local_addr().expect("bound").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (seen, heard, stopped) = (
            Arc::clone(&connections),
            Arc::clone(&heads),
            Arc::clone(&stop),
        );
        let thread = std::thread::spawn(move || {
            let end = Instant::now() + lifetime;
            let mut n = 0;
            while Instant::now() < end && !stopped.load(Ordering::SeqCst) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                seen.fetch_add(1, Ordering::SeqCst);
                stream.set_nonblocking(false).expect("blocking");
                let (path, head) = read_head(&mut stream);
                heard
                    .lock()
                    .expect("because the server thread does not panic holding it")
                    .push(head);
                match answer(&path, n) {
                    Some(bytes) => {
                        let _ = stream.write_all(&bytes);
                    }
                    // Hang: keep the connection open and say nothing.
                    None => std::thread::sleep(Duration::from_secs(5)),
                }
                n += 1;
            }
        });
        Server {
            port,
            connections,
            heads,
            stop,
            thread: Some(thread),
        }
    }

    /// Lets the server run out its lifetime whatever becomes of this value (a harness that
    /// hands out only its URL).
    pub fn detach(mut self) {
        self.thread = None;
        self.stop = Arc::new(AtomicBool::new(false));
    }

    /// Stops the server and waits for it: from here its port refuses connections.
    ///
    /// # Panics
    /// When the server's thread panicked (its `answer` did).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread
                .join()
                .expect("because the server's answer does not panic");
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The port on 127.0.0.1.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The head of every request received so far (request line and headers, `\r\n` line
    /// ends), in order.
    ///
    /// # Panics
    /// When the server's thread panicked.
    #[must_use]
    pub fn requests(&self) -> Vec<String> {
        self.heads
            .lock()
            .expect("because the server thread does not panic holding it")
            .clone()
    }

    /// Connections accepted so far.
    #[must_use]
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    /// A server dropped stops at its next poll (without waiting for it).
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A loopback port nothing listens on now (the OS's choice of a free one, released): for a
/// server a test starts itself, or an address that refuses connections.
///
/// # Panics
/// When no loopback port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("because loopback is free")
        .port()
}

/// A plain HTTP/1.1 GET of `path` on `127.0.0.1:port` (5 s read timeout): the whole reply,
/// head and body, or `None` when nothing answers — for polling a service a test started.
#[must_use]
pub fn get(port: u16, path: &str) -> Option<String> {
    use std::io::Read as _;
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    Some(text)
}

/// Reads a request head; returns its target (the path and query, or the CONNECT target)
/// and the whole head as received (request line and headers, up to the blank line).
fn read_head(stream: &mut TcpStream) -> (String, String) {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    let _ = reader.read_line(&mut head);
    let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    (target, head)
}

/// A whole HTTP/1.1 response (`Connection: close`) with `headers` (`Name: value\r\n` lines).
#[must_use]
pub fn reply(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Serves one `CONNECT` client: records the target, connects, and copies both ways until
/// either side closes (at most 30 s).
fn tunnel(mut client: TcpStream, seen: &std::sync::Mutex<Vec<String>>) {
    let (target, _) = read_head(&mut client);
    seen.lock()
        .expect("because the proxy threads do not panic")
        .push(target.clone());
    let Ok(upstream) = TcpStream::connect(&target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    for stream in [&client, &upstream] {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    }
    let (Ok(mut from_client), Ok(mut to_upstream)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_upstream);
        let _ = to_upstream.shutdown(std::net::Shutdown::Write);
    });
    let (mut from_upstream, mut to_client) = (upstream, client);
    let _ = std::io::copy(&mut from_upstream, &mut to_client);
    let _ = to_client.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
}

/// An HTTP `CONNECT` proxy on 127.0.0.1 that records the targets it tunnels to.
pub struct ConnectProxy {
    port: u16,
    targets: Arc<std::sync::Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// Starts the proxy.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    #[must_use]
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("because loopback is free");
        let port = listener.local_addr().expect("bound").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let targets = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&targets);
        std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                client.set_nonblocking(false).expect("blocking");
                // Each client in its own thread, both directions streamed: a kept-alive
                // tunnel must not hold up the next client or the answer.
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || tunnel(client, &seen));
            }
        });
        ConnectProxy { port, targets }
    }

    /// `http://127.0.0.1:<port>`, for `HTTPS_PROXY`/`HTTP_PROXY`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `host:port` targets tunnelled to so far.
    ///
    /// # Panics
    /// When a proxy thread panicked.
    #[must_use]
    pub fn targets(&self) -> Vec<String> {
        self.targets
            .lock()
            .expect("because the proxy threads do not panic")
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_server_refuses_and_a_running_one_counts() {
        let server = Server::for_at_most(Duration::from_secs(60), |path, n| {
            Some(reply("200 OK", "", format!("{path} {n}").as_bytes()))
        });
        let get = |port: u16| -> std::io::Result<String> {
            let mut stream = TcpStream::connect(("127.0.0.1", port))?;
            stream.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")?;
            let mut answer = String::new();
            std::io::Read::read_to_string(&mut stream, &mut answer)?;
            Ok(answer)
        };
        let port = server.port();
        let detached = Server::for_at_most(Duration::from_secs(60), |_, _| {
            Some(reply("200 OK", "", b"still here"))
        });
        let detached_port = detached.port();
        detached.detach();
        assert!(
            get(detached_port)
                .expect("a detached server answers")
                .ends_with("still here")
        );
        let first = get(port).expect("the server answers");
        assert!(
            first.starts_with("HTTP/1.1 200 OK\r\n") && first.ends_with("/a 0"),
            "{first}"
        );
        assert!(get(port).expect("and again").ends_with("/a 1"));
        assert_eq!(server.connections(), 2);
        let heads = server.requests();
        assert_eq!(heads, ["GET /a HTTP/1.1\r\nHost: x\r\n"; 2]);
        server.stop();
        assert!(get(port).is_err(), "a stopped server's port refuses");
        assert!(TcpListener::bind(("127.0.0.1", free_port())).is_ok());
    }
}
