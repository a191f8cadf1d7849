//! A real OpenSSH server on 127.0.0.1 for one test: its own host key, one authorized client
//! key, no PAM, the current user allowed. Stopped and its directory removed when dropped.
//! [`Sshd::options`] are the client's `ssh` arguments for it (this key, this host key,
//! nothing from `~/.ssh`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running `sshd`.
pub struct Sshd {
    child: Child,
    dir: PathBuf,
    port: u16,
    user: String,
}

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

impl Sshd {
    const BIN: &'static str = "/usr/sbin/sshd";

    /// [`Sshd::start_with`] and no extra configuration.
    #[track_caller]
    #[must_use]
    pub fn start() -> Option<Sshd> {
        Self::start_with("")
    }

    /// Starts a server with `extra` appended to its `sshd_config` (e.g. `SetEnv NAME=value`
    /// for every session) and waits until it listens. `None` after [`skip`](crate::skip)
    /// when this machine cannot run one.
    ///
    /// # Panics
    ///
    /// When the server exits or does not listen within 15 s, or a key cannot be made.
    #[track_caller]
    #[must_use]
    pub fn start_with(extra: &str) -> Option<Sshd> {
        if !Path::new(Self::BIN).exists() {
            crate::skip("sshd not installed (apt-get install openssh-server)");
            return None;
        }
        // sshd insists on its privilege separation directory.
        if !Path::new("/run/sshd").is_dir() && std::fs::create_dir_all("/run/sshd").is_err() {
            crate::skip("sshd needs /run/sshd, which cannot be created");
            return None;
        }
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hub-sshd-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory for sshd");
        let keygen = |name: &str| {
            let st = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.join(name))
                .status()
                .expect("ssh-keygen runs");
            assert!(st.success(), "ssh-keygen {name}");
        };
        keygen("host_key");
        keygen("client_key");
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys"))
            .expect("authorized_keys");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let host_pub = std::fs::read_to_string(dir.join("host_key.pub")).expect("host key");
        std::fs::write(
            dir.join("known_hosts"),
            format!("[127.0.0.1]:{port} {host_pub}"),
        )
        .expect("known_hosts");
        let user = String::from_utf8(
            Command::new("id")
                .arg("-un")
                .output()
                .expect("id runs")
                .stdout,
        )
        .expect("a UTF-8 user name")
        .trim()
        .to_string();
        let d = dir.display();
        std::fs::write(
            dir.join("sshd_config"),
            format!(
                "ListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\nAllowUsers {user}\n{extra}\n"
            ),
        )
        .expect("sshd_config");
        let log = std::fs::File::create(dir.join("sshd.log")).expect("sshd.log");
        let child = Command::new(Self::BIN)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .args(["-p", &port.to_string()])
            .stderr(log)
            .spawn()
            .expect("sshd starts");
        let mut sshd = Sshd {
            child,
            dir,
            port,
            user,
        };
        let until = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(st)) = sshd.child.try_wait() {
                panic!("sshd exited ({st}): {}", sshd.log());
            }
            assert!(
                Instant::now() < until,
                "sshd did not listen: {}",
                sshd.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(sshd)
    }

    /// The server's directory (keys, `known_hosts`, configuration, log).
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the server wrote on stderr.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }

    /// `ssh://user@127.0.0.1:port`.
    #[must_use]
    pub fn host(&self) -> String {
        format!("ssh://{}@127.0.0.1:{}", self.user, self.port)
    }

    /// The client side: this key, this server's host key and nothing from `~/.ssh`.
    #[must_use]
    pub fn options(&self) -> String {
        let d = self.dir.display();
        format!(
            "-F none -i {d}/client_key -o IdentitiesOnly=yes -o UserKnownHostsFile={d}/known_hosts -o StrictHostKeyChecking=yes -o ConnectTimeout=10"
        )
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
