use super::*;

fn fields(frames: Frames) -> Fields {
    Fields::parse(frames.into_bytes()).expect("whole fields")
}

#[test]
fn git_request_lists_cwd_stdin_env_then_argv() {
    let bytes = git_request(
        Path::new("/w/repo"),
        &["log".into(), "-z".into()],
        &[("LC_ALL", "C")],
        b"in",
    );
    let got: Vec<String> = Fields::parse(bytes)
        .expect("whole fields")
        .map(|f| String::from_utf8(f).expect("utf-8"))
        .collect();
    assert_eq!(got, ["/w/repo", "in", "1", "LC_ALL=C", "log", "-z"]);
}

#[test]
fn git_output_reads_code_or_signal() {
    let mut frames = Frames::default();
    frames.push(b"128");
    frames.push(b"");
    frames.push(b"fatal: not a git repository\n");
    let out = git_output(fields(frames)).expect("decodes");
    assert_eq!(out.code, Some(128));
    assert!(!out.success());
    assert_eq!(out.stderr, b"fatal: not a git repository\n");

    let mut frames = Frames::default();
    frames.push(b"signal");
    frames.push(b"x");
    frames.push(b"");
    assert_eq!(git_output(fields(frames)).expect("decodes").code, None);
}

#[test]
fn a_truncated_answer_is_malformed_not_a_panic() {
    let mut bytes = Frames::default();
    bytes.push(b"0");
    bytes.push(b"stdout");
    let mut bytes = bytes.into_bytes();
    bytes.truncate(bytes.len() - 2);
    assert!(Fields::parse(bytes).is_none());

    let mut frames = Frames::default();
    frames.push(b"zero");
    frames.push(b"");
    frames.push(b"");
    assert!(matches!(
        git_output(fields(frames)),
        Err(HostError::Malformed(_))
    ));
}

#[test]
fn http_round_trip_keeps_binary_bodies_and_repeated_headers() {
    let request = HttpRequest {
        method: "POST".into(),
        url: "https://api.example/x".into(),
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        body: vec![0, 255, 10],
        timeout: Duration::from_millis(1500),
        max_body: 10,
        address: Some("192.0.2.1".parse().expect("address")),
        proxy: None,
    };
    let sent: Vec<Vec<u8>> = Fields::parse(request.encode()).expect("whole").collect();
    assert_eq!(sent[2], b"1500");
    assert_eq!(sent[4], b"192.0.2.1");
    assert_eq!(sent[5], b"");
    assert_eq!(sent[6], [0, 255, 10]);
    assert_eq!(
        sent[7..],
        [b"content-type".to_vec(), b"application/json".to_vec()]
    );

    let mut frames = Frames::default();
    frames.push(b"201");
    frames.push(&[1, 2, 3]);
    for (n, v) in [("set-cookie", "a"), ("set-cookie", "b")] {
        frames.push(n.as_bytes());
        frames.push(v.as_bytes());
    }
    let response = HttpResponse::decode(fields(frames)).expect("decodes");
    assert_eq!(response.status, 201);
    assert_eq!(response.body, [1, 2, 3]);
    assert_eq!(response.headers.len(), 2);
}

#[test]
fn outside_webassembly_every_call_says_there_is_no_host() {
    assert!(matches!(
        git(Path::new("."), &[], &[], b""),
        Err(HostError::NoHost)
    ));
    assert!(matches!(resolve("localhost"), Err(HostError::NoHost)));
    // and entering the working directory changes nothing
    let before = std::env::current_dir().expect("cwd");
    enter_working_directory();
    assert_eq!(std::env::current_dir().expect("cwd"), before);
}
