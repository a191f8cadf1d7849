//! Compose over SSH, as the design documents deploy: the `docker` CLI (and its Compose
//! plug-in) reaches a remote engine itself when `DOCKER_HOST` is `ssh://[user@]host[:port]`,
//! running `ssh … docker system dial-stdio` on the host. The CLI takes no `ssh` options,
//! so the `ssh` it finds first on `PATH` is a two-line script written here that runs the
//! real `ssh` with `-o BatchMode=yes` and the `ssh-options` input (key, known-hosts file),
//! every word single-quoted, then the CLI's own arguments. Nothing else changes: the
//! Compose file and the override stay on the runner, the engine is the host's.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use crate::releases::{Remote, sh_quote};

/// The folder the `ssh` script goes in: next to the Compose override (in `RUNNER_TEMP`
/// inside Actions).
fn script_dir(override_path: &Path) -> PathBuf {
    let name = override_path
        .file_name()
        .map(|n| n.to_string_lossy().replace(".compose.json", ".ssh"))
        .unwrap_or_else(|| ".hub-rollback.ssh".into());
    override_path.with_file_name(name)
}

/// `DOCKER_HOST` for `host` (`[user@]host` or `ssh://[user@]host[:port]`).
fn docker_host(host: &str) -> String {
    if host.starts_with("ssh://") {
        host.to_string()
    } else {
        format!("ssh://{host}")
    }
}

/// The variables the Compose commands run with: `DOCKER_HOST` and a `PATH` that starts
/// with the script's folder (`path`: the environment's `PATH`).
pub fn env(
    remote: &Remote,
    override_path: &Path,
    path: Option<&str>,
) -> Vec<(&'static str, String)> {
    let dir = script_dir(override_path).display().to_string();
    let path = match path.filter(|p| !p.is_empty()) {
        Some(p) => format!("{dir}:{p}"),
        None => dir,
    };
    vec![("DOCKER_HOST", docker_host(&remote.host)), ("PATH", path)]
}

/// The script's text: the real `ssh` (an absolute path), `BatchMode`, the options, then
/// the arguments the docker CLI passes.
fn script(ssh: &Path, remote: &Remote) -> String {
    let mut line = format!(
        "exec {} -o BatchMode=yes",
        sh_quote(&ssh.display().to_string())
    );
    for option in &remote.options {
        line.push(' ');
        line.push_str(&sh_quote(option));
    }
    format!(
        "#!/bin/sh\n# Written by hub-rollback: the docker CLI's ssh, with the step's ssh-options.\n{line} \"$@\"\n"
    )
}

/// The real `ssh` on `path` (the script's own folder skipped).
fn real_ssh(path: Option<&str>, skip: &Path) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|d| d != skip)
        .map(|d| d.join("ssh"))
        .find(|p| p.is_file())
}

/// Writes the `ssh` script (atomically, mode 0755) before the first Compose command.
pub fn install(remote: &Remote, override_path: &Path, path: Option<&str>) -> Result<()> {
    let dir = script_dir(override_path);
    let ssh = real_ssh(path, &dir).ok_or_else(|| {
        anyhow!(
            "`host` is set, but no `ssh` is on PATH: the docker CLI reaches `{}` with ssh (install openssh-client)",
            remote.host
        )
    })?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let file = dir.join("ssh");
    hub_kit::files::write_atomically(&file, script(&ssh, remote).as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make `{}` executable", file.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_quotes_every_option_and_passes_the_cli_arguments_on() {
        let remote = Remote {
            host: "deploy@web1".into(),
            options: vec!["-i".into(), "/keys/it's".into(), "-p".into(), "2222".into()],
        };
        assert_eq!(
            script(Path::new("/usr/bin/ssh"), &remote),
            "#!/bin/sh\n# Written by hub-rollback: the docker CLI's ssh, with the step's ssh-options.\nexec '/usr/bin/ssh' -o BatchMode=yes '-i' '/keys/it'\\''s' '-p' '2222' \"$@\"\n"
        );
        let env = env(
            &remote,
            Path::new("/tmp/rt/.hub-rollback.web.compose.json"),
            Some("/usr/bin:/bin"),
        );
        assert_eq!(
            env,
            [
                ("DOCKER_HOST", "ssh://deploy@web1".to_string()),
                (
                    "PATH",
                    "/tmp/rt/.hub-rollback.web.ssh:/usr/bin:/bin".to_string()
                )
            ]
        );
        assert_eq!(docker_host("ssh://u@h:22"), "ssh://u@h:22");
    }
}
