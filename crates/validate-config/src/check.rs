//! The run: each worker reads a file, parses it, chooses its schema (each compiled once and
//! shared, the catalog loaded once and only if a file needs it), checks it and drops the parse
//! before taking the next file, so memory follows the largest file, not the sum.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use hub_config::{
    Catalog, Code, Diagnostic, FileReport, Format, Limits, Parsed, Position, Report, RuleSet,
    RuleVars, Schema, SchemaChoice, SchemaMap, SchemaOptions, Span, choose_schema, parse,
};
use serde_json::Value;

use crate::fetch::{Fetcher, Retriever, file_uri, parse_document, read_capped, uri_path};
use crate::files::Found;
use crate::policy::{self, Policy, Trust};

/// Everything a run needs besides the files.
pub struct Settings {
    /// Working directory: globs, the schema map and `--schema` are relative to it.
    pub root: PathBuf,
    /// `--schema`: one schema for every file.
    pub schema: Option<String>,
    /// `glob: schema` lines.
    pub map: SchemaMap,
    /// Who wrote the schema map: the workflow (inline) or the repository (a file in it).
    pub map_trust: Trust,
    /// Extra rules (origin, list) added to every schema.
    pub rules: Option<(String, Value)>,
    /// Catalog URL or path.
    pub catalog: String,
    /// Who wrote the catalog's entries: the repository when it is a file in it.
    pub catalog_trust: Trust,
    /// Schema compilation options.
    pub options: SchemaOptions,
    /// Parse limits.
    pub limits: Limits,
    /// The constants rules read as `vars`.
    pub vars: RuleVars,
    /// Worker threads.
    pub jobs: usize,
}

/// A compiled schema, or why there is none.
type Compiled = Result<Arc<Schema>, String>;

/// A schema being compiled or compiled, which workers needing it wait for.
type Slot = Arc<OnceLock<Compiled>>;

/// Loads and compiles schemas, each once, for every worker.
pub struct Loader {
    fetcher: Arc<Fetcher>,
    policy: Arc<Policy>,
    /// By who named it and where it is; a worker needing a schema another is compiling waits
    /// for it.
    compiled: Mutex<HashMap<(Trust, String), Slot>>,
    catalog: OnceLock<Result<Catalog, String>>,
}

impl Loader {
    /// A loader over `fetcher`, reading what `policy` allows.
    pub fn new(fetcher: Fetcher, policy: Arc<Policy>) -> Self {
        Self {
            fetcher: Arc::new(fetcher),
            policy,
            compiled: Mutex::new(HashMap::new()),
            catalog: OnceLock::new(),
        }
    }

    /// The bytes of a schema or catalog reference: a URL, a `file://` URI or a path
    /// relative to `base`, if `trust` allows it ([`Policy`]). Returns the canonical key (URL or
    /// `file://` URI) too. Errors name the reference, never what was read.
    fn read(
        &self,
        reference: &str,
        base: &Path,
        trust: Trust,
    ) -> Result<(String, Vec<u8>), String> {
        if reference.starts_with("http://") || reference.starts_with("https://") {
            if trust == Trust::Repository {
                self.policy.remote(reference)?;
            }
            let bytes = self
                .fetcher
                .get(reference, trust)
                .map_err(|e| e.to_string())?;
            return Ok((reference.to_owned(), bytes));
        }
        let path = match uri_path(reference) {
            Some(path) => path,
            None if trust == Trust::Repository && Path::new(reference).is_absolute() => {
                return Err(format!(
                    "`{reference}` is an absolute path; a reference from the repository must be relative (or an allowed URL)"
                ));
            }
            None => base.join(reference),
        };
        let path = match trust {
            Trust::Workflow => path,
            Trust::Repository => self.policy.local(reference, &path)?,
        };
        let bytes = read_capped(&path).map_err(|e| e.to_string())?;
        Ok((file_uri(&path), bytes))
    }

    /// The compiled schema `reference` names (relative to `base`), with the extra rules.
    fn schema(&self, reference: &str, base: &Path, trust: Trust, settings: &Settings) -> Compiled {
        let location = if reference.contains("://") {
            reference.to_owned()
        } else {
            file_uri(&base.join(reference))
        };
        let slot = {
            let mut compiled = self
                .compiled
                .lock()
                .expect("because no worker panics holding the lock");
            Arc::clone(compiled.entry((trust, location)).or_default())
        };
        slot.get_or_init(|| self.compile(reference, base, trust, settings))
            .clone()
    }

    fn compile(&self, reference: &str, base: &Path, trust: Trust, settings: &Settings) -> Compiled {
        let (uri, value) = match hub_config::meta_schema(reference) {
            // A schema file naming its draft: the meta-schema ships with the validator.
            Some(meta) => (reference.to_owned(), meta.clone()),
            None => {
                let (uri, bytes) = self.read(reference, base, trust)?;
                let value = parse_document(reference, &bytes)
                    .map_err(|e| format!("schema `{reference}` does not parse: {e}"))?;
                (uri, value)
            }
        };
        let retriever = Arc::new(Retriever {
            fetcher: Arc::clone(&self.fetcher),
            policy: Arc::clone(&self.policy),
            trusted_origin: match trust {
                Trust::Workflow => policy::origin(&uri),
                Trust::Repository => None,
            },
        });
        let mut schema = Schema::compile(&value, &uri, retriever, &settings.options)
            .map_err(|e| e.to_string())?;
        if let Some((origin, rules)) = &settings.rules {
            schema.add_rules(RuleSet::from_json(origin, rules).map_err(|e| e.to_string())?);
        }
        Ok(Arc::new(schema))
    }

    /// The schema catalog, read the first time a file needs it.
    fn catalog(&self, settings: &Settings) -> Option<&Catalog> {
        self.catalog
            .get_or_init(|| {
                let reference = &settings.catalog;
                let (_, bytes) = self.read(reference, &settings.root, Trust::Workflow)?;
                let value = parse_document(reference, &bytes)
                    .map_err(|e| format!("catalog `{reference}` does not parse: {e}"))?;
                Catalog::from_json(&value).map_err(|e| e.to_string())
            })
            .as_ref()
            .ok()
    }

    /// Why the catalog could not be loaded, if a file needed it and it could not.
    fn catalog_error(&self) -> Option<&str> {
        self.catalog.get()?.as_ref().err().map(String::as_str)
    }
}

/// Whether worker threads can be started: not in the WebAssembly build (WASI preview 1 has
/// no threads), which checks the files one after another on the one thread it has.
const THREADS: bool = !cfg!(target_os = "wasi");

/// Maps `f` over the files `feed` hands over (the walk) on `jobs` threads, which take each file
/// as soon as it is found, so checking overlaps the walk. Each worker runs `start` first (a
/// schema compiles there while the walk goes on). Returns the files with their results
/// sorted by path, or `feed`'s error once every file handed over is done.
pub fn par_map_found<R: Send, E>(
    jobs: usize,
    feed: impl FnOnce(&mut dyn FnMut(Found)) -> Result<(), E>,
    start: impl Fn() + Sync,
    f: impl Fn(&Found) -> R + Sync,
) -> Result<Vec<(Found, R)>, E> {
    if jobs <= 1 || !THREADS {
        let mut files = Vec::new();
        feed(&mut |file| files.push(file))?;
        files.sort();
        start();
        return Ok(files
            .into_iter()
            .map(|file| {
                let result = f(&file);
                (file, result)
            })
            .collect());
    }
    let (sender, receiver) = std::sync::mpsc::channel::<Found>();
    let receiver = Mutex::new(receiver);
    let (fed, mut results) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                std::thread::Builder::new()
                    // Validation recurses with the document's depth; give it room.
                    .stack_size(16 * 1024 * 1024)
                    .spawn_scoped(scope, || {
                        start();
                        let mut done = Vec::new();
                        loop {
                            let next = receiver
                                .lock()
                                .expect("because workers do not panic")
                                .recv();
                            // Closed: the walk is over and every file is taken.
                            let Ok(file) = next else { break };
                            let result = f(&file);
                            done.push((file, result));
                        }
                        done
                    })
                    .expect("because the OS can start a worker thread")
            })
            .collect();
        // A send fails only once every worker is gone, which a panic would have aborted.
        let fed = feed(&mut |file| drop(sender.send(file)));
        drop(sender);
        let results: Vec<(Found, R)> = workers
            .into_iter()
            .flat_map(|w| w.join().expect("because workers do not panic"))
            .collect();
        (fed, results)
    });
    fed?;
    results.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(results)
}

/// Maps `f` over `items` on `jobs` threads, keeping the order.
pub fn par_map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let jobs = jobs.clamp(1, items.len().max(1));
    if jobs == 1 || !THREADS {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                std::thread::Builder::new()
                    // Validation recurses with the document's depth; give it room.
                    .stack_size(16 * 1024 * 1024)
                    .spawn_scoped(scope, || {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(item) = items.get(i) else { break };
                            done.push((i, f(item)));
                        }
                        done
                    })
                    .expect("because the OS can start a worker thread")
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("because workers do not panic"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn read_and_parse(file: &Found, settings: &Settings) -> Parsed {
    let limits = &settings.limits;
    let format = Format::from_path(&file.path).unwrap_or(Format::Yaml);
    let refuse = |diagnostic: Diagnostic| Parsed {
        format,
        documents: Vec::new(),
        diagnostics: vec![diagnostic],
        schema_hint: None,
        json_extensions: Vec::new(),
    };
    let start = Span::at(Position::START);
    let unreadable = |e: std::io::Error| {
        refuse(Diagnostic::error(
            Code::Unreadable,
            format!("cannot read the file: {e}"),
            start,
        ))
    };
    // The root is the working directory: opening the path relative to it, the kernel looks up
    // the few components below it, not every one from `/`, for each of the 2,000 files.
    let open = file.full.strip_prefix(&settings.root).unwrap_or(&file.full);
    let mut handle = match std::fs::File::open(open) {
        Ok(handle) => handle,
        Err(e) => return unreadable(e),
    };
    // Refuse an oversized file from its size alone, before reading a byte of it.
    let size = match handle.metadata() {
        Ok(meta) if meta.is_file() => meta.len(),
        Ok(_) => {
            // A pipe or device has no size to trust: read up to one byte over the limit.
            let mut bytes = Vec::new();
            let cap = u64::try_from(limits.max_bytes)
                .unwrap_or(u64::MAX)
                .saturating_add(1);
            return match std::io::Read::read_to_end(
                &mut std::io::Read::take(&mut handle, cap),
                &mut bytes,
            ) {
                Ok(_) => parse(&bytes, format, limits),
                Err(e) => unreadable(e),
            };
        }
        Err(e) => return unreadable(e),
    };
    if size > limits.max_bytes as u64 {
        return refuse(Diagnostic::error(
            Code::FileTooLarge,
            format!(
                "file is {size} bytes, over the limit of {} bytes",
                limits.max_bytes
            ),
            start,
        ));
    }
    // The size is known: read that much in (usually) one call, without `read_to_end`'s extra
    // stat, seek and end-of-file reads (2,000 files are 8,000 fewer system calls), into a
    // buffer each worker keeps for all its files. A file that grows meanwhile is read as it
    // was when measured.
    let size = usize::try_from(size).unwrap_or(0);
    BUFFER.with_borrow_mut(|bytes| {
        bytes.clear();
        bytes.resize(size, 0);
        let mut filled = 0;
        while filled < size {
            match std::io::Read::read(&mut handle, &mut bytes[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return unreadable(e),
            }
        }
        let parsed = parse(&bytes[..filled], format, limits);
        if bytes.capacity() > KEPT_BUFFER {
            *bytes = Vec::new(); // do not keep a large file's buffer for small ones
        }
        parsed
    })
}

/// Largest read buffer a worker keeps between files.
const KEPT_BUFFER: usize = 1 << 20;

thread_local! {
    /// Each worker's read buffer.
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What one file is checked against.
enum Target {
    None,
    Schema(SchemaChoice, Arc<Schema>),
    Unavailable(SchemaChoice, String),
}

/// The schema for one file, chosen by precedence ([`choose_schema`]), compiled once per run.
fn target(file: &Found, parsed: &Parsed, settings: &Settings, loader: &Loader) -> Target {
    let needs_catalog = settings.schema.is_none()
        && settings.map.lookup(&file.path).is_none()
        && parsed.schema_hint.is_none()
        && !parsed.documents.is_empty();
    let catalog = if needs_catalog {
        loader.catalog(settings)
    } else {
        None
    };
    let Some(choice) = choose_schema(
        &file.path,
        settings.schema.as_deref(),
        &settings.map,
        parsed.schema_hint.as_ref(),
        catalog,
    ) else {
        return Target::None;
    };
    let (base, trust) = match &choice {
        SchemaChoice::Explicit { .. } => (settings.root.clone(), Trust::Workflow),
        SchemaChoice::Mapping { .. } => (settings.root.clone(), settings.map_trust),
        SchemaChoice::Catalog { .. } => (settings.root.clone(), settings.catalog_trust),
        // A document names its own schema, relative to itself: the repository's reference.
        SchemaChoice::Inline { .. } => (
            file.full.parent().map(Path::to_owned).unwrap_or_default(),
            Trust::Repository,
        ),
    };
    match loader.schema(choice.reference(), &base, trust, settings) {
        Ok(schema) => Target::Schema(choice, schema),
        Err(message) => Target::Unavailable(choice, message),
    }
}

/// Checks every file `feed` finds (see [`par_map_found`]), each read, parsed, checked and
/// dropped on a worker; also returns run-level notes (e.g. the catalog could not be loaded).
/// Files are reported sorted by path.
pub fn check_all<E>(
    feed: impl FnOnce(&mut dyn FnMut(Found)) -> Result<(), E>,
    settings: &Settings,
    loader: &Loader,
) -> Result<(Report, Vec<String>), E> {
    let checked = par_map_found(
        settings.jobs,
        feed,
        || {
            // One schema for every file: the first worker compiles it while the walk goes on.
            if let Some(reference) = &settings.schema {
                let _ = loader.schema(reference, &settings.root, Trust::Workflow, settings);
            }
        },
        |file| {
            let parsed = read_and_parse(file, settings);
            let target = target(file, &parsed, settings, loader);
            check_one(file, &parsed, &target, &settings.vars)
        },
    )?;
    let files: Vec<FileReport> = checked.into_iter().map(|(_, report)| report).collect();
    let mut notes: Vec<String> = loader
        .catalog_error()
        .map(|e| {
            format!(
                "schema catalog unavailable ({e}): files without a schema were only checked for syntax"
            )
        })
        .into_iter()
        .collect();
    // A glob that chose no file's schema (`*.yml` for `.yaml` files) left those files to
    // weaker checks, which pass; `--schema` overrides the whole map.
    if settings.schema.is_none() {
        for glob in settings.map.globs() {
            let used = files.iter().any(
                |f| matches!(&f.schema, Some(SchemaChoice::Mapping { glob: g, .. }) if g == glob),
            );
            if !used {
                notes.push(format!(
                    "schema map glob `{glob}` chose no file's schema (no file checked matches it, or an earlier glob took them): files it was meant for were checked against their own `$schema`, the catalog's schema or, with neither, only for syntax"
                ));
            }
        }
    }
    Ok((Report { files }, notes))
}

fn check_one(file: &Found, parsed: &Parsed, target: &Target, vars: &RuleVars) -> FileReport {
    let jsonc = file.path.to_ascii_lowercase().ends_with(".jsonc");
    let allows = match target {
        Target::Schema(_, schema) => schema.allows_json_extensions(),
        _ => false,
    };
    let mut diagnostics = parsed.diagnostics.clone();
    if !jsonc && !allows {
        diagnostics.extend(parsed.json_extension_errors());
    }
    let schema = match target {
        Target::None => None,
        Target::Schema(choice, schema) => {
            for document in &parsed.documents {
                diagnostics.extend(schema.check(document, vars));
            }
            Some(choice.clone())
        }
        Target::Unavailable(choice, message) => {
            // At the file's `$schema`/modeline only when that is what chose the schema.
            let span = match choice {
                SchemaChoice::Inline { .. } => parsed
                    .schema_hint
                    .as_ref()
                    .map_or(Span::at(Position::START), |hint| hint.span),
                _ => Span::at(Position::START),
            };
            diagnostics.push(Diagnostic::error(
                Code::SchemaUnavailable,
                message.clone(),
                span,
            ));
            Some(choice.clone())
        }
    };
    diagnostics.sort_by_key(|d| (d.span.start, d.document));
    FileReport {
        path: file.path.clone(),
        format: parsed.format,
        schema,
        documents: parsed.documents.len(),
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_order_on_many_threads() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = par_map(&items, 4, |n| n * 2);
        assert_eq!(doubled, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert!(par_map(&Vec::<u32>::new(), 4, |n| *n).is_empty());
    }

    fn found(n: u32) -> Found {
        let path = format!("f{n:04}.json");
        Found {
            full: PathBuf::from(&path),
            path,
        }
    }

    #[test]
    fn par_map_found_sorts_by_path_and_passes_the_feeds_error_on() {
        for jobs in [1, 2, 4] {
            let started = AtomicUsize::new(0);
            let mapped = par_map_found(
                jobs,
                |emit| {
                    for n in (0..500).rev() {
                        emit(found(n));
                    }
                    Ok::<_, String>(())
                },
                || {
                    started.fetch_add(1, Ordering::Relaxed);
                },
                |file| file.path.len(),
            )
            .expect("because the feed succeeds");
            let paths: Vec<String> = mapped.into_iter().map(|(f, _)| f.path).collect();
            assert_eq!(paths, (0..500).map(|n| found(n).path).collect::<Vec<_>>());
            assert_eq!(started.load(Ordering::Relaxed), jobs);
            let failed = par_map_found(
                jobs,
                |emit| {
                    emit(found(1));
                    Err("no file matches `x`".to_owned())
                },
                || {},
                |_| (),
            );
            assert_eq!(failed, Err("no file matches `x`".to_owned()));
        }
    }
}
