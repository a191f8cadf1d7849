//! The shop as real containers, for `workflows/deploy-compose.yml`'s end-to-end test: a
//! Compose project of two services on a test's own Docker engine
//! ([`hub_testkit::docker::Engine`]), `web` (stable) and `web-canary`, each running an image
//! `ghcr.io/org/web:<version>` made without a registry from Debian's static busybox.
//!
//! Each container runs `/app/serve PORT TRACK`: busybox `httpd` on `127.0.0.1:PORT`
//! (`network_mode: host`) serving `/health` (`version=<version>`, the image's) and
//! `/metrics`, which a loop in the container rewrites every second (write, then rename) in
//! Prometheus' text format: `http_requests_total{code}` and the
//! `http_request_duration_seconds` histogram, the names canary-gate reads by default. The
//! loop counts [`REQUESTS_PER_SECOND`] requests a second over both tracks, the canary's
//! share read from `/traffic/canary-weight` (a volume both services mount: the stand-in for
//! a proxy's weights, written by the user's `deploy/set-weight`), and answers
//! [`Image::error_permille`] of them with a 500. The service's health check asks `/health`
//! with busybox `wget`.

use std::path::{Path, PathBuf};

use hub_testkit::docker::Engine;

/// Requests the two services serve together every second.
pub const REQUESTS_PER_SECOND: u64 = 4000;

/// The image repository of the shop.
pub const IMAGE: &str = "ghcr.io/org/web";

/// One version of the shop's image.
pub struct Image<'a> {
    /// The tag (`1.0.0`).
    pub version: &'a str,
    /// Requests per thousand answered with a 500.
    pub error_permille: u32,
}

/// What `/app/serve` runs: the traffic loop in the background, `httpd` in the foreground.
const SERVE: &str = r#"#!/bin/sh
# serve PORT TRACK: /health and /metrics on 127.0.0.1:PORT; TRACK (stable or canary) takes
# its share of the traffic by /traffic/canary-weight.
port=$1 track=$2
permille=$(cat /app/error-permille)
rate=$(cat /app/requests-per-second)
requests=0 errors=0 owed=0
count() {
  while :; do
    weight=$(cat /traffic/canary-weight 2>/dev/null) || weight=0
    case $weight in ''|*[!0-9]*) weight=0 ;; esac
    if [ "$track" = canary ]; then share=$weight; else share=$((100 - weight)); fi
    n=$((rate * share / 100))
    requests=$((requests + n))
    owed=$((owed + n * permille))
    errors=$((errors + owed / 1000))
    owed=$((owed % 1000))
    {
      echo '# TYPE http_requests_total counter'
      echo "http_requests_total{code=\"200\"} $((requests - errors))"
      echo "http_requests_total{code=\"500\"} $errors"
      echo '# TYPE http_request_duration_seconds histogram'
      echo "http_request_duration_seconds_bucket{le=\"0.1\"} $((requests * 900 / 1000))"
      echo "http_request_duration_seconds_bucket{le=\"0.25\"} $((requests * 970 / 1000))"
      echo "http_request_duration_seconds_bucket{le=\"0.5\"} $((requests * 995 / 1000))"
      echo "http_request_duration_seconds_bucket{le=\"+Inf\"} $requests"
      echo "http_request_duration_seconds_sum $((requests * 8 / 100))"
      echo "http_request_duration_seconds_count $requests"
    } > /www/.metrics.tmp
    mv /www/.metrics.tmp /www/metrics
    sleep 1
  done
}
count &
exec httpd -f -p "127.0.0.1:$port" -h /www
"#;

/// Imports each image into `engine` (busybox, `/app/serve`, the version's `/www/health`).
///
/// # Panics
///
/// When a file cannot be written or the import fails.
pub fn import_images(engine: &Engine, dir: &Path, images: &[Image<'_>]) {
    for image in images {
        let rootfs = dir.join(format!("rootfs-{}", image.version));
        for sub in ["bin", "app", "www", "tmp", "traffic"] {
            std::fs::create_dir_all(rootfs.join(sub)).expect("mkdir rootfs");
        }
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox"))
            .expect("Debian's busybox-static at /bin/busybox");
        for applet in ["sh", "httpd", "wget", "cat", "mv", "sleep"] {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet))
                .expect("symlink");
        }
        let write = |rel: &str, text: &str| {
            std::fs::write(rootfs.join(rel), text).expect("write rootfs file");
        };
        write("app/serve", SERVE);
        write("app/error-permille", &format!("{}\n", image.error_permille));
        write(
            "app/requests-per-second",
            &format!("{REQUESTS_PER_SECOND}\n"),
        );
        write("www/health", &format!("version={}\n", image.version));
        write("www/metrics", "");
        let status = std::process::Command::new("chmod")
            .arg("+x")
            .arg(rootfs.join("app/serve"))
            .status()
            .expect("chmod");
        assert!(status.success());
        engine.import(&rootfs, &format!("{IMAGE}:{}", image.version));
        std::fs::remove_dir_all(&rootfs).expect("remove rootfs");
    }
}

/// The user's `deploy/compose.yaml`: project `shop`, `web` on `stable_port` and
/// `web-canary` on `canary_port`, both first on `first` (a tag of [`IMAGE`]).
/// `pull_policy: never` because the images are imported (there is no registry here).
#[must_use]
pub fn compose_file(first: &str, stable_port: u16, canary_port: u16) -> String {
    let service = |name: &str, port: u16, track: &str| {
        format!(
            r#"  {name}:
    image: {IMAGE}:{first}
    pull_policy: never
    network_mode: host
    init: true
    command: ["/app/serve", "{port}", "{track}"]
    volumes: ["traffic:/traffic"]
    healthcheck:
      test: ["CMD", "/bin/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:{port}/health"]
      interval: 1s
      timeout: 1s
      retries: 2
"#
        )
    };
    format!(
        "name: shop\nservices:\n{}{}volumes:\n  traffic: {{}}\n",
        service("web", stable_port, "stable"),
        service("web-canary", canary_port, "canary")
    )
}

/// The user's `deploy/set-weight`: writes `$HUB_CANARY_WEIGHT` into the shared volume
/// through the stable service (the proxy's weights, here) and appends
/// `weight <percent> <unix time>` to `$SHOP_EVENTS`.
pub const SET_WEIGHT: &str = r#"#!/bin/sh
set -eu
docker compose -f "$COMPOSE_FILE_PATH" exec -T "$SERVICE" \
  sh -c 'echo "$1" > /traffic/.weight && mv /traffic/.weight /traffic/canary-weight' - "$HUB_CANARY_WEIGHT"
echo "weight $HUB_CANARY_WEIGHT $(date +%s.%N)" >> "$SHOP_EVENTS"
"#;

/// `(id, image, health)` of each container of `service` in the engine, running or not.
#[must_use]
pub fn containers(engine: &Engine, service: &str) -> Vec<(String, String, String)> {
    engine
        .run(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
            "--format",
            "{{.ID}} {{.Image}} {{.Status}}",
        ])
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ' ');
            Some((
                parts.next()?.to_string(),
                parts.next()?.to_string(),
                parts.next()?.to_string(),
            ))
        })
        .collect()
}

/// The version `/health` on `port` reports (`None` when nothing healthy answers).
#[must_use]
pub fn serving(port: u16) -> Option<String> {
    let reply = crate::shop::http_get(port, "/health")?;
    let (head, body) = reply.split_once("\r\n\r\n")?;
    if head.split(' ').nth(1) != Some("200") {
        return None;
    }
    body.trim().strip_prefix("version=").map(String::from)
}

/// A `docker compose -f <file>` command bound to `engine`.
#[must_use]
pub fn compose(engine: &Engine, file: &Path) -> std::process::Command {
    let mut cmd = engine.docker();
    cmd.arg("compose").arg("-f").arg(file);
    cmd
}

/// Where the user's repository keeps the Compose file.
#[must_use]
pub fn compose_path(repo: &Path) -> PathBuf {
    repo.join("deploy/compose.yaml")
}
