//! Reading files and folders of manifests, reports and SBOMs (the only file reading of
//! ingestion: the core parses bytes), and filling an index from them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use stance_core::index::{IndexConfig, PostureIndex};
use stance_core::ingest::document;
use stance_core::model::Report;

use super::{Epss, Kev, KubeObject, Parsed, Reader, Warning, read_bytes};

/// File name endings read when walking a folder. Files named explicitly are always read.
pub const EXTENSIONS: &[&str] = &["json", "yaml", "yml", "sarif", "csv", "gz", "golden", "cdx", "spdx"];

/// Everything read from a set of paths.
#[derive(Debug, Default)]
pub struct Loaded {
    pub reports: Vec<Report>,
    pub objects: Vec<KubeObject>,
    pub kev: Kev,
    pub epss: Epss,
    /// Documents that could not be read, with the file and the problem.
    pub warnings: Vec<Warning>,
    /// Kubernetes kinds Stance does not use, with how many objects of each were skipped.
    pub ignored: BTreeMap<String, usize>,
    /// Number of files read.
    pub files: usize,
    /// How files are read: their channel (a file given to the command line), when they
    /// were observed, and the budget of each.
    pub reader: Reader,
}

impl Loaded {
    /// Sorts parsed documents into their buckets.
    pub fn add(&mut self, parsed: Vec<Parsed>) {
        for p in parsed {
            match p {
                Parsed::Report(r) => self.reports.push(r),
                Parsed::Object(o) => self.objects.push(*o),
                Parsed::Kev(k) => self.kev.merge(k),
                Parsed::Epss(e) => self.epss.merge(e),
                Parsed::Ignored(kind) => *self.ignored.entry(kind).or_default() += 1,
            }
        }
    }

    /// An empty collection whose files are read through `reader`.
    pub fn with_reader(reader: Reader) -> Loaded {
        Loaded { reader, ..Default::default() }
    }

    /// Parses one file's bytes into this collection.
    pub fn add_bytes(&mut self, origin: &str, bytes: &[u8]) {
        let mut parsed = Vec::new();
        read_bytes(&self.reader, origin, bytes, &mut parsed, &mut self.warnings);
        self.add(parsed);
        self.files += 1;
    }
}

impl Loaded {
    /// An index holding everything read, refreshed and ready to query. Reports get the
    /// ids `origin#n` (their position in the load). What the index did not take from a
    /// report is dropped: see [`Loaded::into_index_with_warnings`].
    pub fn into_index(self, config: IndexConfig) -> PostureIndex {
        self.into_index_with_warnings(config).0
    }

    /// [`Loaded::into_index`], with what the index did not take from the reports (a
    /// tenant's VEX statements, attributions to another namespace), each naming its report.
    pub fn into_index_with_warnings(self, config: IndexConfig) -> (PostureIndex, Vec<Warning>) {
        let mut index = PostureIndex::new(config);
        let mut warnings = Vec::new();
        index.set_kev(self.kev);
        index.set_epss(self.epss);
        for (i, r) in self.reports.into_iter().enumerate() {
            let id = format!("{}#{i}", r.source.origin);
            warnings.extend(index.apply_report(&id, r));
        }
        for o in self.objects {
            index.apply_object(o);
        }
        index.refresh();
        (index, warnings)
    }
}

/// [`load_index_with`] the default reader (trusted files, dates as written, default
/// limits): for tests and tools; the commands read with [`load_index_with`].
pub fn load_index<P: AsRef<Path>>(config: IndexConfig, paths: &[P]) -> Result<(PostureIndex, LoadSummary), LoadError> {
    load_index_with(config, paths, &Reader::default())
}

/// Reads files and folders straight into an index, one file at a time (the parsed form of a
/// file is dropped before the next is read, so peak memory is the index plus one file).
/// Returns what the loader saw besides the indexed content.
pub fn load_index_with<P: AsRef<Path>>(
    config: IndexConfig,
    paths: &[P],
    reader: &Reader,
) -> Result<(PostureIndex, LoadSummary), LoadError> {
    let mut index = PostureIndex::new(config);
    let mut summary = LoadSummary::default();
    for_each_file(paths, reader, |_, parsed, warnings| {
        let mut file = Loaded::default();
        file.add(parsed);
        summary.files += 1;
        summary.warnings.extend(warnings);
        for (k, v) in file.ignored {
            *summary.ignored.entry(k).or_default() += v;
        }
        if !file.kev.is_empty() {
            index.merge_kev(file.kev);
        }
        if !file.epss.is_empty() {
            index.merge_epss(file.epss);
        }
        for r in file.reports {
            let notes = index.apply_report(&format!("{}#{}", r.source.origin, summary.reports), r);
            summary.warnings.extend(notes);
            summary.reports += 1;
        }
        for o in file.objects {
            index.apply_object(o);
        }
    })?;
    index.refresh();
    Ok((index, summary))
}

/// What a load saw, once its reports and objects have moved into an index.
#[derive(Clone, Debug, Default)]
pub struct LoadSummary {
    pub files: usize,
    pub reports: usize,
    pub warnings: Vec<Warning>,
    pub ignored: BTreeMap<String, usize>,
}

impl LoadSummary {
    pub fn of(loaded: &Loaded) -> LoadSummary {
        LoadSummary {
            files: loaded.files,
            reports: loaded.reports.len(),
            warnings: loaded.warnings.clone(),
            ignored: loaded.ignored.clone(),
        }
    }
}

/// A path given on the command line that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source} (check the path and its permissions)")]
    Unreadable { path: PathBuf, source: std::io::Error },
}

/// [`load_paths_with`] the default reader (trusted files, dates as written, default
/// limits): for tests and tools; the commands read with [`load_paths_with`].
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Loaded, LoadError> {
    load_paths_with(paths, &Reader::default())
}

/// Reads every file under the given files and folders (folders recursively, in name
/// order, skipping hidden entries and files without a known ending) through `reader`. A
/// path that does not exist is an error; a file that cannot be parsed is a warning.
pub fn load_paths_with<P: AsRef<Path>>(paths: &[P], reader: &Reader) -> Result<Loaded, LoadError> {
    let mut loaded = Loaded::with_reader(reader.clone());
    for_each_file(paths, reader, |_, parsed, warnings| {
        loaded.add(parsed);
        loaded.warnings.extend(warnings);
        loaded.files += 1;
    })?;
    Ok(loaded)
}

/// Reads the files under `paths` one at a time through `reader` (a fresh budget per file)
/// and hands each file's documents and warnings to `visit` (with the file's path), so a
/// caller can index them and drop the parsed form before the next file is read. Errors as
/// [`load_paths`].
pub fn for_each_file<P, F>(paths: &[P], reader: &Reader, mut visit: F) -> Result<(), LoadError>
where
    P: AsRef<Path>,
    F: FnMut(&str, Vec<Parsed>, Vec<Warning>),
{
    for_each_raw_file(paths, reader, |origin, raw, mut warnings| {
        let mut parsed = Vec::new();
        super::convert(raw, &mut parsed, &mut warnings);
        visit(origin, parsed, warnings);
    })
}

/// [`for_each_file`] with the Kubernetes objects that are not reports left as read (the
/// core's [`document::Parsed`]), for a caller that looks at them before converting them
/// (`stance check` asks whether a manifest states its namespace).
pub fn for_each_raw_file<P, F>(paths: &[P], reader: &Reader, mut visit: F) -> Result<(), LoadError>
where
    P: AsRef<Path>,
    F: FnMut(&str, Vec<document::Parsed>, Vec<Warning>),
{
    let mut files = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let meta = std::fs::metadata(p).map_err(|source| LoadError::Unreadable { path: p.to_path_buf(), source })?;
        if meta.is_dir() {
            walk(p, &mut files).map_err(|source| LoadError::Unreadable { path: p.to_path_buf(), source })?;
        } else {
            files.push(p.to_path_buf());
        }
    }
    for f in files {
        let origin = f.display().to_string();
        let mut parsed = Vec::new();
        let mut warnings = Vec::new();
        match std::fs::read(&f) {
            Ok(bytes) => reader.read_bytes(&origin, &bytes, &mut parsed, &mut warnings),
            Err(e) => warnings.push(Warning::new(origin.clone(), format!("cannot read: {e}"))),
        }
        visit(&origin, parsed, warnings);
    }
    Ok(())
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        if e.file_type()?.is_dir() {
            walk(&path, files)?;
        } else if name.rsplit_once('.').is_some_and(|(_, ext)| EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}
