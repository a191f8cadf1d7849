#!/usr/bin/env bash
# The one installer behind every hub-actions action (and the root action).
#
# Finds or makes the suite's binary for the action's own source tree and prints
# `bin-dir=<dir>` and `version=<version>` to $GITHUB_OUTPUT (or stdout outside Actions).
# The suite is one multi-call binary, `hub`; `bin-dir` holds it and a `hub-<action>` link to
# it per action (actions/install/packages), the names the actions and users call.
#
#   1. Release trees (a tag made by the release workflow carries actions/install/release.env):
#      the runner's tool cache, $RUNNER_TOOL_CACHE/hub-actions/<version>/<arch>;
#      else the release archive hub-actions-<version>-<target>.tar.gz downloaded from the
#      action's own repository on $GITHUB_SERVER_URL (GitHub Enterprise works), verified
#      against the release's SHA-256 checksum file before it is extracted.
#   2. Anything else (a branch or SHA ref), or a platform without a prebuilt archive:
#      `cargo build --release --locked -p hub` from the action's own source, and the links.
#
# The version is learned from files next to this script, never from `github.action_ref`,
# which is empty inside composite actions (actions/runner#2473).
#
#   3. The WebAssembly build (actions/wasm/hub.wasm, committed into release tags next to
#      actions/wasm/run.mjs), run by the runner's Node (>= 20) through one small `hub-<action>`
#      script per action: when asked (HUB_ACTIONS_ENGINE=wasm, the actions' `engine: wasm`),
#      or with `auto` when no archive fits the runner, the download fails, or there is no
#      cargo to build with. rollback and canary-gate's Prometheus mode are native-only and say
#      so.
#
# Knobs (environment): HUB_ACTIONS_INSTALL=auto|download|source (default auto);
# HUB_ACTIONS_ENGINE=auto|native|wasm (default auto); HUB_ACTIONS_NODE (default `node`).
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$here/../.." && pwd)
mode=${HUB_ACTIONS_INSTALL:-auto}

say() { printf 'hub-actions install: %s\n' "$*" >&2; }
die() { printf '::error title=hub-actions install::%s\n' "$*"; say "error: $*"; exit 1; }

output() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  else
    printf '%s=%s\n' "$1" "$2"
  fi
}

# --- platform -----------------------------------------------------------------------------
os=${RUNNER_OS:-$(uname -s)}
arch=${RUNNER_ARCH:-$(uname -m)}
case "$os" in
  Linux|linux) os=linux ;;
  macOS|Darwin|darwin) os=macos ;;
  Windows|MINGW*|MSYS*|CYGWIN*) os=windows ;;
  *) os=unknown ;;
esac
case "$arch" in
  X64|x86_64|amd64) arch=x64 ;;
  ARM64|aarch64|arm64) arch=arm64 ;;
  *) arch=unknown ;;
esac
case "$os-$arch" in
  linux-x64) target=x86_64-unknown-linux-musl ;;
  linux-arm64) target=aarch64-unknown-linux-musl ;;
  macos-x64) target=x86_64-apple-darwin ;;
  macos-arm64) target=aarch64-apple-darwin ;;
  windows-x64) target=x86_64-pc-windows-msvc ;;
  *) target= ;;
esac
exe=""; [[ "$os" == windows ]] && exe=".exe"

# --- what tree is this? ---------------------------------------------------------------------
release_version="" release_repository=""
if [[ -f "$here/release.env" ]]; then
  # Plain KEY=value lines written by the release workflow; read, never sourced.
  while IFS='=' read -r key value; do
    case "$key" in
      HUB_RELEASE_VERSION) release_version=$value ;;
      HUB_RELEASE_REPOSITORY) release_repository=$value ;;
    esac
  done <"$here/release.env"
  [[ "$release_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "actions/install/release.env has an invalid version '$release_version'"
  [[ "$release_repository" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || die "actions/install/release.env has an invalid repository '$release_repository'"
fi

cache_root=${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/hub-actions

# --- the engine: native binaries, or the WebAssembly build under Node ------------------------
# The action's `engine` input first; its default, `auto`, leaves the job's variable in charge.
engine=${INPUT_ENGINE:-auto}
[[ "$engine" == auto ]] && engine=${HUB_ACTIONS_ENGINE:-auto}
[[ -z "$engine" ]] && engine=auto
case "$engine" in
  auto|native|wasm) ;;
  *) die "engine must be auto, native or wasm, got '$engine'" ;;
esac
wasm_module="$root/actions/wasm/hub.wasm"

# Why the WebAssembly build cannot run here (empty when it can).
wasm_unusable() {
  local node=${HUB_ACTIONS_NODE:-node} major
  [[ -f "$wasm_module" ]] || { echo "this tree has no actions/wasm/hub.wasm (release tags carry it)"; return; }
  command -v "$node" >/dev/null 2>&1 || { echo "Node.js is not installed (the WebAssembly build runs on Node >= 20)"; return; }
  major=$("$node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  ((major >= 20)) || echo "Node.js $major is too old (the WebAssembly build needs Node >= 20)"
}

# Installs one `hub-<action>` script per action that runs the module through run.mjs, and
# finishes. The module is checked against its recorded SHA-256 when the tree has one.
use_wasm() { # reason
  local why; why=$(wasm_unusable)
  [[ -z "$why" ]] || die "cannot use the WebAssembly build: $why"
  if [[ -f "$wasm_module.sha256" ]]; then
    local want got; want=$(cut -d' ' -f1 <"$wasm_module.sha256"); got=$(sha256 "$wasm_module")
    [[ "$want" == "$got" ]] || die "checksum mismatch for actions/wasm/hub.wasm (expected $want, got $got): refusing to run it"
  fi
  local node; node=$(command -v "${HUB_ACTIONS_NODE:-node}")
  local version=${release_version:-$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)}
  local key; key=$(printf '%s' "$root" | (sha256sum 2>/dev/null || shasum -a 256) | cut -c1-16)
  local dir="$cache_root/wasm/$key" p
  mkdir -p "$dir"
  while read -r p; do
    [[ -n "$p" && "$p" != \#* ]] || continue
    if [[ "$p" == rollback ]]; then # processes, signals, flock, ssh: native only
      printf '#!/usr/bin/env bash\necho "::error title=rollback::rollback runs only natively: use engine: native (HUB_ACTIONS_ENGINE=native) on a runner with a release archive or cargo"\nexit 1\n' >"$dir/hub-$p.tmp"
      chmod +x "$dir/hub-$p.tmp" && mv -f "$dir/hub-$p.tmp" "$dir/hub-$p"
      continue
    fi
    printf '#!/usr/bin/env bash\nexec %q %q %q "$@"\n' "$node" "$root/actions/wasm/run.mjs" "$p" >"$dir/hub-$p.tmp"
    chmod +x "$dir/hub-$p.tmp" && mv -f "$dir/hub-$p.tmp" "$dir/hub-$p"
  done <"$here/packages"
  say "using the WebAssembly build under $("$node" --version) ($1)"
  engine_used=wasm
  finish "$dir" "$version"
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

finish() { # bin_dir version
  "$1/hub-semver-bump$exe" --version >/dev/null 2>&1 || die "installed binaries in $1 do not run on $os/$arch"
  output bin-dir "$1"
  output version "$2"
  output engine "${engine_used:-native}"
  say "using $2 from $1"
  exit 0
}

[[ "$engine" == wasm ]] && use_wasm "engine: wasm"

# --- 1. release: tool cache, then download --------------------------------------------------
try_download() {
  local version=$1 repository=$2 dest=$3
  local server=${GITHUB_SERVER_URL:-https://github.com}
  local base="$server/$repository/releases/download/v$version"
  local archive="hub-actions-$version-$target.tar.gz"
  local sums="hub-actions-$version-checksums.txt"
  local tmp; tmp=$(mktemp -d "${RUNNER_TEMP:-/tmp}/hub-actions.XXXXXX")
  local curl=(curl --fail --silent --show-error --location --retry 3 --connect-timeout 10 --max-time 300)
  say "downloading $base/$archive"
  if ! "${curl[@]}" -o "$tmp/$archive" "$base/$archive"; then
    rm -rf "$tmp"; return 1
  fi
  "${curl[@]}" -o "$tmp/$sums" "$base/$sums" || { rm -rf "$tmp"; die "release v$version has $archive but no $sums: refusing an unverified download"; }
  local want; want=$(awk -v f="$archive" '$2 == f || $2 == "*"f {print $1}' "$tmp/$sums")
  [[ -n "$want" ]] || { rm -rf "$tmp"; die "$sums does not list $archive: refusing an unverified download"; }
  local got; got=$(sha256 "$tmp/$archive")
  if [[ "$got" != "$want" ]]; then
    rm -rf "$tmp"
    die "checksum mismatch for $archive (expected $want, got $got): refusing to install"
  fi
  # Unpack next to the destination, then move it into place under a lock: jobs that share a
  # tool cache (a self-hosted runner, act) may install the same version at the same time.
  # The first one puts it in place; the others find it complete and drop their copy of the
  # same verified archive. (`mkdir` is atomic everywhere, GNU or BSD.)
  mkdir -p "$(dirname "$dest")"
  local partial lock="$dest.lock" waited=0
  partial=$(mktemp -d "$dest.partial.XXXXXX")
  tar -xzf "$tmp/$archive" -C "$partial"
  rm -rf "$tmp"
  until mkdir "$lock" 2>/dev/null; do
    if ((waited >= 240)); then
      rm -rf "$lock" # left by an install that was killed: 2 minutes is far past any unpack
      waited=0
      continue
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  if [[ -f "$dest.complete" && -x "$dest/hub-semver-bump$exe" ]]; then
    rm -rf "$partial"
  else
    rm -rf "$dest" && mv "$partial" "$dest" && touch "$dest.complete"
  fi
  rmdir "$lock"
  return 0
}

if [[ -n "$release_version" && "$mode" != source && -n "$target" ]]; then
  dest="$cache_root/$release_version/$arch"
  if [[ -f "$dest.complete" && -x "$dest/hub-semver-bump$exe" ]]; then
    finish "$dest" "$release_version"
  fi
  if try_download "$release_version" "$release_repository" "$dest"; then
    finish "$dest" "$release_version"
  fi
  [[ "$mode" == download ]] && die "no release archive for $os/$arch ($target) at v$release_version"
  if [[ "$engine" == auto && -z "$(wasm_unusable)" ]]; then
    use_wasm "the download of the $target archive failed"
  fi
  say "no release archive for $target; building from source"
elif [[ "$mode" == download ]]; then
  [[ -n "$target" ]] || die "no prebuilt archive exists for $os/$arch; use a runner on Linux, macOS or Windows (x64/arm64)"
  die "this is not a release tree (no actions/install/release.env): download needs a version tag such as @v1"
fi

if [[ -n "$release_version" && -z "$target" && "$engine" == auto && -z "$(wasm_unusable)" ]]; then
  use_wasm "no release archive fits $os/$arch"
fi

# --- 2. build from source ---------------------------------------------------------------------
if [[ "$engine" == auto ]] && ! command -v cargo >/dev/null 2>&1 && [[ -z "$(wasm_unusable)" ]]; then
  use_wasm "no archive and no cargo to build one"
fi
command -v cargo >/dev/null 2>&1 || die "cannot build hub-actions from source on $os/$arch: cargo is not installed (use a version tag such as @v1 on a runner with a prebuilt archive, or install Rust first, e.g. with dtolnay/rust-toolchain)"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)
[[ -n "$version" ]] || die "cannot read the workspace version from $root/Cargo.toml"
# The build directory is keyed by the action tree's location, so every action of a job
# (they share one checkout of this repository) reuses the first one's build.
key=$(printf '%s' "$root" | (sha256sum 2>/dev/null || shasum -a 256) | cut -c1-16)
target_dir=${HUB_ACTIONS_TARGET_DIR:-$cache_root/source/$key}
actions=()
while read -r p; do [[ -n "$p" && "$p" != \#* ]] && actions+=("$p"); done <"$here/packages"
# A fingerprint of the source: every action of a job shares one build, and a changed tree
# at the same path (a self-hosted runner's next job) is built again.
fingerprint=$(cd "$root" && find Cargo.toml Cargo.lock crates actions/install/packages -type f -print0 2>/dev/null \
  | LC_ALL=C sort -z | xargs -0 cat | (sha256sum 2>/dev/null || shasum -a 256) | cut -c1-32)
marker="$target_dir/release/.hub-actions-source-$fingerprint"
bin_dir="$target_dir/release/hub-actions"
if [[ -f "$marker" ]]; then
  say "reusing the build of this source tree in $target_dir"
  finish "$bin_dir" "$version"
fi
say "building $version from source in $root (cargo build --release --locked -p hub)"
(cd "$root" && CARGO_TARGET_DIR="$target_dir" cargo build --release --locked --quiet -p hub) >&2 \
  || die "cargo build failed for hub-actions $version from $root"
# The links, in a directory of their own (Cargo's output directory may hold the per-action
# test binaries of the same names): as in the release archive, a symbolic link to `hub`, a
# hard link on Windows (see .github/release/release.sh).
mkdir -p "$bin_dir"
for p in "${actions[@]}"; do
  if [[ -n "$exe" ]]; then
    ln -f "$target_dir/release/hub$exe" "$bin_dir/hub-$p$exe"
  else
    ln -sfn ../hub "$bin_dir/hub-$p"
  fi
done
touch "$marker"
finish "$bin_dir" "$version"
