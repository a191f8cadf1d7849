//! The walk against `git log` itself: generated histories with merges, side branches,
//! equal and skewed dates, read loose, packed, deltified, through a whole or a windowed
//! index, in SHA-1 and SHA-256 repositories; every range must print the same bytes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::log;
use crate::log::FORMAT;
use crate::odb::Odb;

fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
    git_fed(dir, args, &[])
}

/// Runs git with `input` on its standard input; its standard output.
fn git_fed(dir: &Path, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("git")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A tiny deterministic generator (no dependency for one test).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// A history of `n` commits written with `git fast-import`: several branches forking from
/// anywhere and merging (sometimes three parents), dates that repeat and that go back in
/// time, messages with bodies, trailers, look-alike header lines, unicode, none at all.
/// Returns the commit ids, oldest first.
fn generated(dir: &Path, n: usize, seed: u64, object_format: &str) -> Vec<String> {
    git(
        dir,
        &[
            "init",
            "-q",
            &format!("--object-format={object_format}"),
            "-b",
            "main",
        ],
    );
    let mut rng = Lcg(seed);
    let mut stream = Vec::new();
    let mut heads: Vec<usize> = Vec::new();
    let mut date: i64 = 1_700_000_000;
    for i in 1..=n {
        date += match rng.next(10) {
            0 | 1 => 0,                     // same second as the last one
            2 => -(rng.next(5_000) as i64), // a skewed clock
            _ => 1 + rng.next(3_600) as i64,
        };
        let mut parents: Vec<usize> = Vec::new();
        if !heads.is_empty() {
            match rng.next(12) {
                0 if heads.len() < 6 => parents.push(1 + rng.next(i as u64 - 1) as usize),
                1 | 2 if heads.len() >= 2 => {
                    let a = rng.next(heads.len() as u64) as usize;
                    let b = (a + 1 + rng.next(heads.len() as u64 - 1) as usize) % heads.len();
                    parents.push(heads[a]);
                    parents.push(heads[b]);
                    if rng.next(4) == 0 && heads.len() >= 3 {
                        let c = (b + 1) % heads.len();
                        if c != a {
                            parents.push(heads[c]);
                        }
                    }
                    heads.retain(|h| !parents[1..].contains(h));
                }
                _ => parents.push(heads[rng.next(heads.len() as u64) as usize]),
            }
        }
        heads.retain(|h| !parents.contains(h));
        heads.push(i);
        let message = match rng.next(7) {
            0 => format!("feat(core): commit {i}\n\nA body.\n\nBREAKING CHANGE: yes\n"),
            1 => format!("fix: {i} without a trailing newline"),
            2 => String::new(),
            3 => format!("docs: {i} \u{1F600} ünïcödé\n\nauthor Fake <fake@example.com> 1 +0000\n"),
            4 => format!("Merge stuff {i}\n\n\n\ntrailing blank lines\n\n"),
            _ => format!("chore: {i}\n"),
        };
        let author = match rng.next(5) {
            0 => "Ada  Lovelace   <ada@example.com>".to_string(),
            1 => "<nobody@example.com>".to_string(),
            _ => format!("Dev {} <dev{}@example.com>", i % 4, i % 4),
        };
        writeln!(stream, "commit refs/heads/gen").unwrap();
        writeln!(stream, "mark :{i}").unwrap();
        writeln!(stream, "author {author} {} +0100", date - 7).unwrap();
        writeln!(stream, "committer C <c@example.com> {date} -0230").unwrap();
        writeln!(stream, "data {}", message.len()).unwrap();
        stream.extend_from_slice(message.as_bytes());
        writeln!(stream).unwrap();
        if let Some((first, rest)) = parents.split_first() {
            writeln!(stream, "from :{first}").unwrap();
            for p in rest {
                writeln!(stream, "merge :{p}").unwrap();
            }
        }
        writeln!(stream).unwrap();
        if i < n && rng.next(9) == 0 {
            // The next commit starts from nothing (another root).
            writeln!(stream, "reset refs/heads/gen\n").unwrap();
            heads.clear();
        }
    }
    let marks = dir.join(".git").join("marks");
    let marks_arg = format!("--export-marks={}", marks.display());
    git_fed(dir, &["fast-import", "--quiet", &marks_arg], &stream);
    let mut ids = vec![String::new(); n];
    for line in std::fs::read_to_string(marks).unwrap().lines() {
        let (mark, id) = line.split_once(' ').unwrap();
        ids[mark[1..].parse::<usize>().unwrap() - 1] = id.to_string();
    }
    // A ref on every commit, so that repacking keeps them all.
    let refs: String = ids
        .iter()
        .enumerate()
        .map(|(i, id)| format!("create refs/gen/{i} {id}\n"))
        .collect();
    git_fed(dir, &["update-ref", "--stdin"], refs.as_bytes());
    ids
}

/// Every range of `picks` prints what `git log` prints; returns how many were read by hand.
fn agree(dir: &Path, ids: &[String], picks: &[(usize, Vec<usize>)], tuned: Option<(u64, u64)>) {
    let objects = dir.join(".git").join("objects");
    let hash_len = ids[0].len() / 2;
    for (to, exclude) in picks {
        let mut odb = match tuned {
            Some((whole, window)) => Odb::open_tuned(&objects, hash_len, whole, window),
            None => Odb::open(&objects, hash_len),
        }
        .expect("open the object database");
        let exclude: Vec<String> = exclude.iter().map(|&e| ids[e].clone()).collect();
        let ours = log(&mut odb, &ids[*to], &exclude)
            .unwrap_or_else(|| panic!("walked {to} ^{exclude:?} by hand"));
        let mut args = vec![
            "log".to_string(),
            "-z".into(),
            format!("--format={FORMAT}"),
            ids[*to].clone(),
        ];
        args.extend(exclude.iter().map(|e| format!("^{e}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let theirs = git(dir, &args);
        assert!(
            ours == theirs,
            "{to} ^{exclude:?}:\nours:   {}\ntheirs: {}",
            String::from_utf8_lossy(&ours).replace('\0', "|"),
            String::from_utf8_lossy(&theirs).replace('\0', "|"),
        );
    }
}

fn picks(n: usize, seed: u64, count: usize) -> Vec<(usize, Vec<usize>)> {
    let mut rng = Lcg(seed);
    let mut picks = vec![(n - 1, vec![]), (n - 1, vec![n - 1]), (0, vec![n - 1])];
    for _ in 0..count {
        let to = rng.next(n as u64) as usize;
        let k = rng.next(4) as usize;
        let exclude = (0..k).map(|_| rng.next(n as u64) as usize).collect();
        picks.push((to, exclude));
    }
    picks
}

#[test]
fn walks_print_what_git_log_prints_loose_packed_and_deltified() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let n = 240;
    let ids = generated(d, n, 7, "sha1");
    let ranges = picks(n, 11, 120);
    // fast-import's own pack.
    agree(d, &ids, &ranges, None);
    // One pack with deltas between commits, searched by windows of one name.
    git(d, &["repack", "-adfq", "--window=250", "--depth=50"]);
    let pack_dir = d.join(".git").join("objects").join("pack");
    let idx = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .unwrap();
    let listing = String::from_utf8(git(d, &["verify-pack", "-v", idx.to_str().unwrap()])).unwrap();
    let deltified = listing
        .lines()
        .filter(|l| {
            l.split_whitespace().nth(1) == Some("commit") && l.split_whitespace().count() == 7
        })
        .count();
    assert!(
        deltified > 10,
        "the repack stores commits as deltas:\n{listing}"
    );
    agree(d, &ids, &ranges, None);
    agree(d, &ids, &ranges, Some((0, 1)));
    // Every object loose.
    let pack = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .unwrap();
    let bytes = std::fs::read(&pack).unwrap();
    std::fs::remove_dir_all(&pack_dir).unwrap();
    std::fs::create_dir(&pack_dir).unwrap();
    git_fed(d, &["unpack-objects", "-q"], &bytes);
    agree(d, &ids, &ranges, None);
}

#[test]
fn walks_agree_in_sha256_repositories() {
    let dir = tempfile::tempdir().unwrap();
    let n = 120;
    let ids = generated(dir.path(), n, 3, "sha256");
    assert_eq!(ids[0].len(), 64);
    let ranges = picks(n, 5, 40);
    agree(dir.path(), &ids, &ranges, None);
    git(dir.path(), &["repack", "-adfq", "--window=250"]);
    agree(dir.path(), &ids, &ranges, Some((0, 2)));
}

#[test]
fn what_git_would_read_differently_is_left_to_git() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ids = generated(d, 3, 1, "sha1");
    let objects = d.join(".git").join("objects");
    let mut odb = Odb::open(&objects, 20).unwrap();
    // Not a commit id, not an object here.
    assert_eq!(log(&mut odb, "HEAD", &[]), None);
    assert_eq!(log(&mut odb, &"0".repeat(40), &[]), None);
    assert!(log(&mut odb, &ids[2], &[]).is_some());
    // A commit in another encoding: git re-encodes its message.
    let tree = String::from_utf8(git(d, &["rev-parse", &format!("{}^{{tree}}", ids[2])])).unwrap();
    let raw = format!(
        "tree {}\nparent {}\nauthor A <a@example.com> 1 +0000\ncommitter A <a@example.com> 1 +0000\nencoding ISO-8859-1\n\ncaf\u{e9}\n",
        tree.trim(),
        ids[2]
    );
    let out = git_fed(
        d,
        &["hash-object", "-t", "commit", "-w", "--stdin"],
        raw.as_bytes(),
    );
    let latin = String::from_utf8(out).unwrap().trim().to_string();
    let mut odb = Odb::open(&objects, 20).unwrap();
    assert_eq!(log(&mut odb, &latin, &[ids[1].clone()]), None);
}

#[test]
fn every_object_of_a_pack_is_found_through_a_whole_or_windowed_index() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    let mut stream = Vec::new();
    for i in 0..4000 {
        let body = format!("blob number {i}\n");
        write!(
            stream,
            "blob\nmark :{}\ndata {}\n{body}\n",
            i + 1,
            body.len()
        )
        .unwrap();
    }
    writeln!(
        stream,
        "commit refs/heads/main\ncommitter C <c@example.com> 1 +0000\ndata 2\nx\nM 100644 :1 a\n"
    )
    .unwrap();
    git_fed(d, &["fast-import", "--quiet"], &stream);
    let listing = String::from_utf8(git(
        d,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectname) %(objecttype) %(objectsize)",
        ],
    ))
    .unwrap();
    let objects = d.join(".git").join("objects");
    for tuned in [None, Some((0, 1)), Some((0, 3)), Some((0, 64))] {
        let mut odb = match tuned {
            Some((whole, window)) => Odb::open_tuned(&objects, 20, whole, window),
            None => Odb::open(&objects, 20),
        }
        .unwrap();
        let mut seen = 0;
        for line in listing.lines() {
            let mut f = line.split(' ');
            let (id, kind, size) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            let raw = crate::odb::decode_hex(id).unwrap();
            let (k, data) = odb
                .read(&raw)
                .unwrap_or_else(|| panic!("{id} with {tuned:?}"));
            assert_eq!(format!("{k:?}").to_lowercase(), kind, "{id}");
            assert_eq!(data.len().to_string(), size, "{id}");
            seen += 1;
            // A name next to it that is no object.
            let mut near = raw.clone();
            near[19] ^= 1;
            if !listing.contains(&crate::odb::encode_hex(&near)) {
                assert!(odb.read(&near).is_none(), "{id} ^ 1 with {tuned:?}");
            }
        }
        assert_eq!(seen, 4002);
    }
}
