#!/usr/bin/env bash
# The steps of the project's own release (.github/workflows/release.yml), kept out of the
# workflow's `run:` blocks so they can be read, linted and run on their own (the tests run
# the Linux leg under act). Run from the repository's root.
#
#   release.sh check <tag>                     version=, prerelease=, published= (step outputs)
#   release.sh matrix                          matrix=<the build matrix, from .github/release/targets>
#   release.sh toolchain <target>              add the Rust target (and musl-gcc) when missing
#   release.sh build <target>                  cargo build --release --locked of `hub`, the suite
#   release.sh pack <target> <version>         dist/hub-actions-<version>-<target>.tar.gz: `hub` and
#                                              a `hub-<action>` link to it per action
#   release.sh checksums <version>             dist/hub-actions-<version>-checksums.txt
#   release.sh attach <tag>                    upload dist/ to the tag's GitHub release
#   release.sh release-tree <tag> <version> <owner/repo>
#                                              commit actions/install/release.env on top of the
#                                              tagged commit (marked `Release-Tree-Of: <it>`),
#                                              re-point the tag there, push it
#   release.sh move-major <tag>                point v<major> at the tag's commit (stable only)
#
# Every command is idempotent: run again, it finds its work done and changes nothing.
# Environment: CARGO_TARGET_DIR (default target); for attach GITHUB_TOKEN, GITHUB_REPOSITORY
# and GITHUB_API_URL (default https://api.github.com; GitHub Enterprise works).
set -euo pipefail

say() { printf 'release: %s\n' "$*" >&2; }
die() { printf '::error title=release::%s\n' "$*"; exit 1; }

output() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
  printf '%s=%s\n' "$1" "$2"
}

# Tags and versions arrive from the event: check their shape before they are used anywhere.
version_re='^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'
valid_tag() {
  [[ "${1#v}" =~ $version_re && "$1" == v* ]] || die "not a version tag: '$1'"
}
valid_version() {
  [[ "$1" =~ $version_re ]] || die "not a version: '$1'"
}
valid_target() {
  [[ "$1" =~ ^[a-z0-9_]+(-[a-z0-9_]+){2,3}$ ]] || die "not a Rust target: '$1'"
}

# `<target> <runner>` lines of .github/release/targets.
targets() {
  local target runner rest
  while read -r target runner rest; do
    [[ -z "$target" || "$target" == \#* ]] && continue
    valid_target "$target"
    [[ "$runner" =~ ^[A-Za-z0-9._-]+$ && -z "$rest" ]] || die ".github/release/targets: bad line for $target"
    printf '%s %s\n' "$target" "$runner"
  done <.github/release/targets
}

# The actions: each is `hub <action>`, and `hub-<action>` through a link to `hub`.
actions() {
  local p
  while read -r p; do
    [[ -z "$p" || "$p" == \#* ]] && continue
    printf '%s\n' "$p"
  done <actions/install/packages
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

archive_name() { printf 'hub-actions-%s-%s.tar.gz' "$1" "$2"; }
checksums_name() { printf 'hub-actions-%s-checksums.txt' "$1"; }

cmd_check() {
  local tag=$1
  valid_tag "$tag"
  local version=${tag#v} workspace
  workspace=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
  # The archives are named after the tag, which is what the installer looks for. The release
  # chain's pull request bumps Cargo.toml's workspace version with the tag's, so the two
  # differ only for a tag made by hand.
  if [[ "$version" != "$workspace" && "$version" != "$workspace"-* ]]; then
    printf '::warning::tag %s differs from the workspace version %s in Cargo.toml (hub-* --version reports the latter)\n' "$tag" "$workspace"
  fi
  output version "$version"
  if [[ "$version" == *-* ]]; then output prerelease true; else output prerelease false; fi
  # Moving the tag onto the release-tree commit re-triggers the workflow when it is pushed
  # with a token that starts workflows (and a re-run finds the same): nothing to do then.
  if [[ -f actions/install/release.env ]]; then output published true; else output published false; fi
}

cmd_matrix() {
  local json="" target runner
  while read -r target runner; do
    json+="${json:+,}{\"target\":\"$target\",\"os\":\"$runner\"}"
  done < <(targets)
  [[ -n "$json" ]] || die ".github/release/targets lists no target"
  output matrix "{\"include\":[$json]}"
}

cmd_toolchain() {
  local target=$1
  valid_target "$target"
  command -v cargo >/dev/null 2>&1 || die "no Rust toolchain on this runner"
  if rustup target list --installed | grep -qx "$target"; then
    say "the Rust target $target is installed"
  else
    rustup target add "$target"
  fi
  # ring (rustls) compiles C for the target.
  if [[ "$target" == *-linux-musl ]] && ! command -v musl-gcc >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo apt-get install -y -qq --no-install-recommends musl-tools
  fi
}

cmd_build() {
  local target=$1
  valid_target "$target"
  # One multi-call binary carries every action (crates/hub): one static binary instead of
  # one per action, which carried the shared code (clap, tokio, hyper, rustls) each time.
  # On Linux (static musl) it is a fixed-address executable, not position-independent: no
  # start-up relocation of its 30,000 pointers (a run starts in 0.50 ms instead of 0.74 ms,
  # 66 page faults instead of 180; bench/README.md, "Size"). The price is a fixed load
  # address for the program image (the stack, heap and mmap regions stay randomised).
  if [[ "$target" == *-linux-musl ]]; then
    RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C relocation-model=static" \
      cargo build --release --locked --target "$target" -p hub
  else
    cargo build --release --locked --target "$target" -p hub
  fi
}

cmd_pack() {
  local target=$1 version=$2
  valid_target "$target"
  valid_version "$version"
  local exe="" bins stage names=() p
  [[ "$target" == *windows* ]] && exe=".exe"
  bins=${CARGO_TARGET_DIR:-target}/$target/release
  stage=$(mktemp -d)
  cp "$bins/hub$exe" "$stage/"
  chmod 0755 "$stage/hub$exe"
  names+=("hub$exe")
  # `hub-<action>` runs the action (hub dispatches on the name it is called by): a symbolic
  # link to `hub` on Unix; on Windows a hard link, because a symbolic link needs Developer
  # Mode or an administrator there (Git Bash's tar and ln would make copies instead), while
  # NTFS hard links need no privilege. In the archive both are entries without data.
  while read -r p; do
    if [[ -n "$exe" ]]; then
      ln "$stage/hub$exe" "$stage/hub-$p$exe"
    else
      ln -s "hub" "$stage/hub-$p"
    fi
    names+=("hub-$p$exe")
  done < <(actions)
  # Reproducible: fixed order, times, owners; gzip without a name or time stamp. So a re-run
  # of the same build makes the same bytes, which attach then finds already uploaded.
  (cd "$stage" && touch -h -t 198001010000.00 "${names[@]}")
  local owner=(--owner=0 --group=0 --numeric-owner)
  tar --version 2>/dev/null | grep -q 'GNU tar' || owner=(--uid 0 --gid 0 --numeric-owner)
  mkdir -p dist
  local archive
  archive=dist/$(archive_name "$version" "$target")
  tar -cf - "${owner[@]}" -C "$stage" "${names[@]}" | gzip -9 -n >"$archive.partial"
  mv "$archive.partial" "$archive"
  rm -rf "$stage"
  say "packed $archive"
}

# The WebAssembly build as a release asset; in the release tree it is actions/wasm/hub.wasm.
wasm_name() { printf 'hub-actions-%s.wasm' "$1"; }

cmd_checksums() {
  local version=$1 files=() target runner
  valid_version "$version"
  while read -r target runner; do
    local archive
    archive=$(archive_name "$version" "$target")
    [[ -f "dist/$archive" ]] || die "dist/$archive is missing: every target of .github/release/targets needs its archive"
    files+=("$archive")
  done < <(targets)
  # The WebAssembly build (release.yml's wasm job), when there is one.
  [[ -f "dist/$(wasm_name "$version")" ]] && files+=("$(wasm_name "$version")")
  local sums
  sums=$(checksums_name "$version")
  (cd dist && sha256 "${files[@]}" >"$sums.partial" && mv "$sums.partial" "$sums")
  cat "dist/$sums"
}

# --- GitHub REST API ------------------------------------------------------------------------
api() { # method url [curl args...]: prints the body, fails on an HTTP error
  local method=$1 url=$2
  shift 2
  # The token goes to curl on stdin (a config line), never on a command line.
  printf 'header = "Authorization: Bearer %s"\n' "$GITHUB_TOKEN" |
    curl --config - --fail-with-body --silent --show-error --location --retry 3 \
      --connect-timeout 10 --max-time 600 -X "$method" \
      -H 'Accept: application/vnd.github+json' -H 'X-GitHub-Api-Version: 2022-11-28' \
      "$@" "$url"
}

cmd_attach() {
  local tag=$1
  valid_tag "$tag"
  local version=${tag#v}
  : "${GITHUB_TOKEN:?attach needs GITHUB_TOKEN}" "${GITHUB_REPOSITORY:?attach needs GITHUB_REPOSITORY}"
  local base=${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY
  local release
  release=$(api GET "$base/releases/tags/$tag") ||
    die "no GitHub release for $tag: it is created by the release chain (release-pr, when the release pull request is merged)"
  local id upload assets
  id=$(jq -er '.id' <<<"$release")
  upload=$(jq -er '.upload_url' <<<"$release")
  upload=${upload%%\{*}
  assets=$(api GET "$base/releases/$id/assets?per_page=100")
  local files=(dist/"$(checksums_name "$version")") f
  for f in dist/hub-actions-"$version"-*.tar.gz; do files+=("$f"); done
  [[ -f "dist/$(wasm_name "$version")" ]] && files+=("dist/$(wasm_name "$version")")
  for f in "${files[@]}"; do
    [[ -f "$f" ]] || die "$f is missing"
    local name want found asset_id digest type=application/gzip
    name=${f##*/}
    [[ "$name" == *.txt ]] && type=text/plain
    [[ "$name" == *.wasm ]] && type=application/wasm
    want="sha256:$(sha256 "$f" | cut -d' ' -f1)"
    found=$(jq -r --arg n "$name" '.[] | select(.name == $n) | "\(.id) \(.digest // "")"' <<<"$assets")
    if [[ -n "$found" ]]; then
      read -r asset_id digest <<<"$found"
      if [[ "$digest" == "$want" ]]; then
        say "$name: already attached"
        continue
      fi
      say "$name: replacing the attached one (different bytes)"
      api DELETE "$base/releases/assets/$asset_id" >/dev/null
    fi
    api POST "$upload?name=$name" -H "Content-Type: $type" --data-binary "@$f" >/dev/null
    say "$name: attached"
  done
}

# --- tags -------------------------------------------------------------------------------------
git_bot() {
  git -c user.name='github-actions[bot]' \
    -c user.email='41898282+github-actions[bot]@users.noreply.github.com' "$@"
}

cmd_release_tree() {
  local tag=$1 version=$2 repository=$3
  valid_tag "$tag"
  valid_version "$version"
  [[ "$repository" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || die "not a repository: '$repository'"
  local env_text commit
  env_text=$(printf 'HUB_RELEASE_VERSION=%s\nHUB_RELEASE_REPOSITORY=%s' "$version" "$repository")
  commit=$(git rev-parse --verify "refs/tags/$tag^{commit}")
  if git cat-file -e "$commit:actions/install/release.env" 2>/dev/null; then
    [[ "$(git show "$commit:actions/install/release.env")" == "$env_text" ]] ||
      die "$tag is a release tree of something else: $(git show "$commit:actions/install/release.env" | tr '\n' ' ')"
    say "$tag is already a release tree ($commit)"
    return 0
  fi
  # The commit is made with plumbing (a scratch index), so the work tree is left alone.
  local old message blob tree index new
  old=$(git rev-parse --verify "refs/tags/$tag")
  message=$(git tag -l --format='%(contents)' "$tag")
  blob=$(printf '%s\n' "$env_text" | git hash-object -w --stdin)
  index=$(mktemp)
  GIT_INDEX_FILE=$index git read-tree "$commit"
  GIT_INDEX_FILE=$index git update-index --add --cacheinfo "100644,$blob,actions/install/release.env"
  # The WebAssembly build next to actions/wasm/run.mjs, with its SHA-256 (the installer checks
  # it): what runners without an archive, or without github.com, run.
  local wasm; wasm="dist/$(wasm_name "$version")"
  if [[ -f "$wasm" ]]; then
    local module_blob sum_blob
    module_blob=$(git hash-object -w "$wasm")
    sum_blob=$(printf '%s  hub.wasm\n' "$(sha256 "$wasm" | cut -d' ' -f1)" | git hash-object -w --stdin)
    GIT_INDEX_FILE=$index git update-index --add --cacheinfo "100644,$module_blob,actions/wasm/hub.wasm"
    GIT_INDEX_FILE=$index git update-index --add --cacheinfo "100644,$sum_blob,actions/wasm/hub.wasm.sha256"
  fi
  tree=$(GIT_INDEX_FILE=$index git write-tree)
  rm -f "$index"
  # The trailer names the released commit: semver-bump, release-pr and conventional-changelog
  # count a tag on a commit off the branch as released at its first parent when the commit
  # carries it (hub_git::RELEASE_TREE_TRAILER), so the next release starts after this one.
  new=$(git_bot commit-tree "$tree" -p "$commit" -m "chore(release): release tree for $tag" \
    -m "Release-Tree-Of: $commit")
  git_bot tag -f -a "$tag" -m "${message:-$tag}" "$new" >/dev/null
  # Only over the tag as this run saw it: a tag moved meanwhile is not overwritten.
  git push --force-with-lease="refs/tags/$tag:$old" origin "refs/tags/$tag:refs/tags/$tag"
  say "$tag now names the release tree $new"
}

cmd_move_major() {
  local tag=$1
  valid_tag "$tag"
  local version=${tag#v} major=${tag%%.*}
  if [[ "$version" == *-* ]]; then
    say "$version is a pre-release: $major stays where it is"
    return 0
  fi
  local commit current current_version
  commit=$(git rev-parse --verify "refs/tags/$tag^{commit}")
  current=$(git ls-remote origin "refs/tags/$major" | cut -f1)
  if [[ -n "$current" ]]; then
    git fetch --quiet origin "+refs/tags/$major:refs/tags/$major"
    if [[ "$(git rev-parse "refs/tags/$major^{commit}")" == "$commit" ]]; then
      say "$major already names $tag's release tree"
      return 0
    fi
    # Never backwards: a fix release of an older line does not take v1 from a newer one.
    current_version=$(git show "refs/tags/$major^{commit}:actions/install/release.env" 2>/dev/null |
      sed -n 's/^HUB_RELEASE_VERSION=//p')
    if [[ -n "$current_version" && "$(printf '%s\n%s\n' "$current_version" "$version" | sort -V | tail -n1)" != "$version" ]]; then
      say "$major stays at the newer $current_version"
      return 0
    fi
  fi
  git tag -f "$major" "$commit" >/dev/null
  git push --force-with-lease="refs/tags/$major:$current" origin "refs/tags/$major:refs/tags/$major"
  say "$major now names $tag's release tree $commit"
}

command=${1:-}
shift || true
case "$command" in
  check) (($# == 1)) || die "usage: release.sh check <tag>"; cmd_check "$@" ;;
  matrix) (($# == 0)) || die "usage: release.sh matrix"; cmd_matrix ;;
  toolchain) (($# == 1)) || die "usage: release.sh toolchain <target>"; cmd_toolchain "$@" ;;
  build) (($# == 1)) || die "usage: release.sh build <target>"; cmd_build "$@" ;;
  pack) (($# == 2)) || die "usage: release.sh pack <target> <version>"; cmd_pack "$@" ;;
  checksums) (($# == 1)) || die "usage: release.sh checksums <version>"; cmd_checksums "$@" ;;
  attach) (($# == 1)) || die "usage: release.sh attach <tag>"; cmd_attach "$@" ;;
  release-tree) (($# == 3)) || die "usage: release.sh release-tree <tag> <version> <owner/repo>"; cmd_release_tree "$@" ;;
  move-major) (($# == 1)) || die "usage: release.sh move-major <tag>"; cmd_move_major "$@" ;;
  *) die "usage: release.sh check|matrix|toolchain|build|pack|checksums|attach|release-tree|move-major …" ;;
esac
