//! Against hub-testkit's servers on 127.0.0.1, which stop by themselves: a plain HTTP server
//! that answers from a closure and counts connections, and an HTTP `CONNECT` proxy.

use std::time::Instant;

use hub_testkit::http::{ConnectProxy as Proxy, Server, reply};

use super::*;

fn http(settings: Settings) -> Http {
    Http::new(&settings, "hub-http-test").expect("because the client builds")
}

fn quick() -> Request {
    Request {
        timeout: Duration::from_secs(5),
        ..Request::default()
    }
}

#[test]
fn gets_a_body_follows_redirects_and_caps_it() {
    let server = Server::start(|path, _| match path {
        "/a" => Some(reply("302 Found", "Location: /b\r\n", b"")),
        "/b" => Some(reply("200 OK", "", b"hello")),
        "/big" => Some(reply("200 OK", "", &vec![b'x'; 300_000])),
        _ => Some(reply("404 Not Found", "", b"no")),
    });
    let client = http(Settings::default());
    let response = client.get(&server.url("/a"), &quick()).expect("answers");
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(&response.body[..], b"hello");
    assert_eq!(response.url, server.url("/b"));
    let small = Request {
        max_body: 100_000,
        ..quick()
    };
    let error = client
        .get(&server.url("/big"), &small)
        .expect_err("too large");
    assert!(
        matches!(error, Error::TooLarge { limit: 100_000, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("/big"), "{error}");
    let missing = client
        .get(&server.url("/c"), &quick())
        .expect("a 404 is a response");
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[test]
fn a_hanging_server_times_out_on_the_wall_clock() {
    let server = Server::start(|_, _| None);
    let client = http(Settings::default());
    let started = Instant::now();
    let request = Request {
        timeout: Duration::from_millis(500),
        retries: 3,
        ..Request::default()
    };
    let error = client.get(&server.url("/"), &request).expect_err("hangs");
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    // The timeout covers retries too (a correctness bound, generous for a loaded machine).
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn idempotent_requests_are_retried_on_503_and_connection_errors() {
    let server = Server::start(|_, n| {
        Some(if n == 0 {
            reply("503 Service Unavailable", "", b"busy")
        } else {
            reply("200 OK", "", b"ok")
        })
    });
    let client = http(Settings::default());
    let response = client.get(&server.url("/"), &quick()).expect("answers");
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(server.connections(), 2);
    let once = Server::start(|_, _| Some(reply("503 Service Unavailable", "", b"busy")));
    let no_retry = Request {
        retries: 0,
        ..quick()
    };
    let response = client.get(&once.url("/"), &no_retry).expect("answers");
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(once.connections(), 1);
}

#[test]
fn public_only_refuses_loopback_by_address_and_by_name_before_connecting() {
    let server = Server::start(|_, _| Some(reply("200 OK", "", b"secret")));
    let client = http(Settings::default().with_policy(AddressPolicy::PublicOnly));
    for url in [
        server.url("/"),
        format!("http://localhost:{}/", server.port()),
        format!("http://[::1]:{}/", server.port()),
        format!("http://[::ffff:127.0.0.1]:{}/", server.port()),
    ] {
        let error = client.get(&url, &quick()).expect_err("loopback");
        assert!(matches!(error, Error::Refused { .. }), "{url}: {error}");
        assert!(!error.to_string().contains("secret"));
    }
    assert_eq!(server.connections(), 0, "no byte reached the server");
    for ip in [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        // IETF protocol assignments (192.0.0.0/24), refused by validate-config's own check
        // before it moved to hub-http.
        "192.0.0.192",
        "::ffff:192.0.0.8",
        "fd00::1",
        "fe80::1",
    ] {
        let ip: IpAddr = ip.parse().expect("an address");
        assert!(non_public(ip).is_some(), "{ip}");
    }
    for ip in ["140.82.112.3", "185.199.108.133", "2606:50c0:8000::153"] {
        let ip: IpAddr = ip.parse().expect("an address");
        assert_eq!(non_public(ip), None, "{ip}");
    }
}

#[test]
fn a_redirect_is_checked_like_the_first_url() {
    let inner = Server::start(|_, _| Some(reply("200 OK", "", b"secret")));
    let target = inner.url("/");
    let outer = Server::start(move |_, _| {
        Some(reply("302 Found", &format!("Location: {target}\r\n"), b""))
    });
    let client = http(Settings::default());
    let strict = Request {
        https_only: true,
        ..quick()
    };
    let error = client
        .get(&outer.url("/"), &strict)
        .expect_err("plain http");
    assert!(matches!(error, Error::Refused { .. }), "{error}");
    assert_eq!(outer.connections(), 0);
    // Followed under the default policy (the workflow named the URL).
    let response = client.get(&outer.url("/"), &quick()).expect("follows");
    assert_eq!(&response.body[..], b"secret");
}

#[test]
fn proxies_come_from_the_environment_and_no_proxy_goes_direct() {
    let server = Server::start(|_, _| Some(reply("200 OK", "", b"through")));
    let proxy = Proxy::start();
    let proxy_url = proxy.url();
    let vars = |no: Option<&'static str>| {
        let proxy_url = proxy_url.clone();
        move |name: &str| match name {
            "http_proxy" => Some(proxy_url.clone()),
            "NO_PROXY" => no.map(str::to_owned),
            _ => None,
        }
    };
    let settings = Settings::from_vars(vars(None));
    assert_eq!(settings.proxies.http.as_deref(), Some(proxy_url.as_str()));
    let response = http(settings)
        .get(&server.url("/x"), &quick())
        .expect("tunnels");
    assert_eq!(&response.body[..], b"through");
    assert_eq!(proxy.targets(), [format!("127.0.0.1:{}", server.port())]);
    let direct = http(Settings::from_vars(vars(Some("127.0.0.1"))));
    let response = direct.get(&server.url("/y"), &quick()).expect("direct");
    assert_eq!(&response.body[..], b"through");
    assert_eq!(proxy.targets().len(), 1);
}

#[test]
fn relative_redirects_resolve_against_the_url() {
    let base: Uri = "https://example.com/a/b.json".parse().expect("a URI");
    assert_eq!(
        resolve(&base, "c.json").as_deref(),
        Some("https://example.com/a/c.json")
    );
    assert_eq!(
        resolve(&base, "/d").as_deref(),
        Some("https://example.com/d")
    );
    assert_eq!(
        resolve(&base, "//cdn.example/e").as_deref(),
        Some("https://cdn.example/e")
    );
    assert_eq!(
        resolve(&base, "http://x.example/").as_deref(),
        Some("http://x.example/")
    );
}

#[test]
fn public_only_still_reaches_a_proxy_named_by_a_private_name() {
    // The proxy is the environment's (a corporate proxy on 10.x, named `proxy.corp`): the
    // policy is for where requests go, not for the hop to the proxy. Here `localhost`.
    let proxy = Proxy::start();
    let proxy_url = proxy.url().replace("127.0.0.1", "localhost");
    let settings = Settings::from_vars(|name| (name == "HTTPS_PROXY").then(|| proxy_url.clone()))
        .with_policy(AddressPolicy::PublicOnly);
    // A name the runner cannot resolve is left to the proxy (it fails upstream: 502).
    let error = http(settings)
        .get(
            "https://hub-http-test.invalid/x",
            &Request {
                retries: 0,
                ..quick()
            },
        )
        .expect_err("because the proxy cannot reach it");
    assert!(!matches!(error, Error::Refused { .. }), "{error}");
    assert_eq!(proxy.targets(), ["hub-http-test.invalid:443"]);
}
