//! Files in and out: inputs read through a size cap, outputs written
//! atomically (a temporary file, then a rename or an exclusive link), so a
//! reader never sees half a file and a failure never destroys a good one.

use crate::error::{Error, FileKind, Result};
use std::io::Read;
use std::path::Path;

/// Read `path` as bytes, at most `limit` of them: checked before reading
/// (a regular file's size) and while reading (a FIFO, a device, a growing
/// file), so nothing ever reads more than `limit + 1` bytes.
pub(crate) fn read_bytes_limited(path: &Path, limit: u64, what: FileKind) -> Result<Vec<u8>> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if meta.is_dir() {
        return Err(Error::IsADirectory {
            path: path.to_path_buf(),
        });
    }
    if meta.is_file() && meta.len() > limit {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit,
            what,
        });
    }
    let file = std::fs::File::open(path).map_err(read_err)?;
    read_capped(file, path, meta.len(), limit, what)
}

/// Read `file` (open at `path`, `size` bytes by its metadata) to its end,
/// at most `limit + 1` bytes, refusing more than `limit`.
fn read_capped(
    file: std::fs::File,
    path: &Path,
    size: u64,
    limit: u64,
    what: FileKind,
) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(size.min(limit) as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit,
            what,
        });
    }
    Ok(bytes)
}

/// Open `path` for reading only if it is a regular file (symlinks to one
/// are followed), refusing a FIFO, device, socket or folder without
/// blocking: a FIFO with no writer would block `open(2)` for ever. For
/// files a list names, which nobody named on the command line.
pub(crate) fn open_regular(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: `open` of a FIFO returns at once; it changes nothing
        // for a regular file. O_NOCTTY: a terminal never becomes ours.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let meta = file.metadata().map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        return Err(Error::IsADirectory {
            path: path.to_path_buf(),
        });
    }
    if !meta.is_file() {
        return Err(Error::NotARegularFile {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

/// [`read_bytes_limited`] for a file a list names: a regular file only
/// ([`open_regular`]).
pub(crate) fn read_regular_limited(path: &Path, limit: u64, what: FileKind) -> Result<Vec<u8>> {
    let file = open_regular(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
            what,
        });
    }
    read_capped(file, path, size, limit, what)
}

/// Read `path` as UTF-8 text of at most `limit` bytes.
///
/// The size is checked before reading (so a 2 GiB file is refused at once) and
/// again while reading (so a FIFO or a growing file cannot exceed it either).
pub(crate) fn read_text_limited(path: &Path, limit: u64, what: FileKind) -> Result<String> {
    utf8(path, read_bytes_limited(path, limit, what)?, what)
}

/// [`read_text_limited`] for a file a list names: a regular file only
/// ([`open_regular`]).
pub(crate) fn read_regular_text_limited(path: &Path, limit: u64, what: FileKind) -> Result<String> {
    utf8(path, read_regular_limited(path, limit, what)?, what)
}

fn utf8(path: &Path, bytes: Vec<u8>, what: FileKind) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| Error::Malformed {
        path: path.to_path_buf(),
        what,
        reason: format!(
            "not UTF-8 text (invalid byte at offset {}); expected a JSON document",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// The folder of `path` and its file name, for temporary names next to it.
fn temp_parts(path: &Path) -> (&Path, String) {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, name)
}

/// A random suffix for a temporary name.
fn nonce() -> std::io::Result<String> {
    let mut nonce = [0u8; 8];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| std::io::Error::other("no randomness"))?;
    Ok(crate::digest::hex(&nonce))
}

/// A temporary file next to `path`, created exclusively under a random
/// name (never following a planted symlink), holding `bytes`, synced.
fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    write_temp_with(path, |f| f.write_all(bytes))
}

/// [`write_temp`] with the contents written by `write`.
fn write_temp_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<std::path::PathBuf> {
    let mut write = Some(write);
    let (dir, name) = temp_parts(path);
    let mut last_err = None;
    for _ in 0..8 {
        let tmp = dir.join(format!(".{name}.{}.tmp", nonce()?));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(mut f) => {
                let write = write.take().expect("written once: the loop returns after");
                let written = write(&mut f).and_then(|()| f.sync_all());
                if let Err(e) = written {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
                return Ok(tmp);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// Write `bytes` to `path` atomically: a temporary file in the same
/// directory, then a rename, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_all_atomic(&[(path, bytes)])
}

/// [`write_atomic`] for contents too large to hold in memory: `write`
/// writes them into the temporary file, which then replaces `path`; if
/// `write` fails, `path` is left as it was.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = write_temp_with(path, write)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Write several files as one unit, replacing any that exist: every
/// temporary file is written first, then each existing output is kept
/// aside (a hard link under a temporary name) and the new one renamed over
/// it. If any step fails, the temporary files are removed, the new outputs
/// already in place are removed and the kept ones put back, so a failure
/// leaves the previous set of outputs exactly as it was. The kept copies
/// are removed only once the whole new set is in place.
pub fn write_all_atomic(files: &[(&Path, &[u8])]) -> std::io::Result<()> {
    write_set(files, true)
}

/// Write several files as one unit, none of which may exist: like
/// [`write_all_atomic`], but each output is created exclusively (a hard
/// link from its temporary file, which fails if the name is taken), so of
/// two runs writing the same output at once exactly one succeeds; the
/// other gets [`std::io::ErrorKind::AlreadyExists`] and leaves what is there
/// untouched (and none of its own outputs behind).
pub fn create_all_atomic(files: &[(&Path, &[u8])]) -> std::io::Result<()> {
    write_set(files, false)
}

fn write_set(files: &[(&Path, &[u8])], replace: bool) -> std::io::Result<()> {
    let mut temps = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        match write_temp(path, bytes) {
            Ok(t) => temps.push(t),
            Err(e) => {
                for t in &temps {
                    let _ = std::fs::remove_file(t);
                }
                return Err(e);
            }
        }
    }
    // The outputs this call put in place, each with where its previous
    // version was kept, if there was one.
    let mut placed: Vec<(&Path, Option<std::path::PathBuf>)> = Vec::with_capacity(files.len());
    let mut result = Ok(());
    for ((path, _), tmp) in files.iter().zip(&temps) {
        let step = if replace {
            keep_aside(path).and_then(|kept| match std::fs::rename(tmp, path) {
                Ok(()) => {
                    placed.push((path, kept));
                    Ok(())
                }
                Err(e) => {
                    if let Some(k) = kept {
                        // A second link goes; a file moved aside goes back.
                        if path.symlink_metadata().is_ok() {
                            let _ = std::fs::remove_file(k);
                        } else {
                            let _ = std::fs::rename(k, path);
                        }
                    }
                    Err(e)
                }
            })
        } else {
            create_from(tmp, path).map(|()| placed.push((path, None)))
        };
        if let Err(e) = step {
            result = Err(e);
            break;
        }
    }
    for t in &temps {
        // Renamed temporary names are gone; linked ones are removed here.
        let _ = std::fs::remove_file(t);
    }
    match result {
        Ok(()) => {
            for (_, kept) in &placed {
                if let Some(k) = kept {
                    let _ = std::fs::remove_file(k);
                }
            }
            Ok(())
        }
        Err(e) => {
            for (path, kept) in placed.iter().rev() {
                match kept {
                    // Atomically back: the name never goes missing.
                    Some(k) => {
                        let _ = std::fs::rename(k, path);
                    }
                    None => {
                        let _ = std::fs::remove_file(path);
                    }
                }
            }
            Err(e)
        }
    }
}

/// Put the temporary file `tmp` in place as `path`, which must not exist:
/// a hard link (which fails with `AlreadyExists` if the name is taken,
/// atomically). On a file system without hard links, a check then a rename:
/// exclusive only against runs that are not writing at the same moment.
fn create_from(tmp: &Path, path: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(tmp, path) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::Unsupported | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            match std::fs::symlink_metadata(path) {
                Ok(_) => Err(std::io::ErrorKind::AlreadyExists.into()),
                Err(n) if n.kind() == std::io::ErrorKind::NotFound => std::fs::rename(tmp, path),
                Err(other) => Err(other),
            }
        }
        linked => linked,
    }
}

/// Keep the file at `path` (if any) under a fresh temporary name next to
/// it, as a second hard link, so `path` itself stays in place until it is
/// replaced. A directory is left alone: renaming a file over it fails.
fn keep_aside(path: &Path) -> std::io::Result<Option<std::path::PathBuf>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
        Ok(meta) if meta.is_dir() => return Ok(None),
        Ok(_) => {}
    }
    let (dir, name) = temp_parts(path);
    let mut last_err = None;
    for _ in 0..8 {
        let kept = dir.join(format!(".{name}.{}.old.tmp", nonce()?));
        match std::fs::hard_link(path, &kept) {
            Ok(()) => return Ok(Some(kept)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
            // No hard link here (a file system without them, or a file
            // another user owns under protected_hardlinks): move it aside
            // instead; it is put back if the new set cannot be completed.
            Err(_) => {
                std::fs::rename(path, &kept)?;
                return Ok(Some(kept));
            }
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// How old a temporary file must be before a later run removes it as a
/// leftover: far longer than any run's write of its outputs takes, so a run
/// writing next to the same outputs right now never loses its own.
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Remove the temporary files that runs killed mid-write (`kill -9`, an
/// out-of-memory kill, a cancelled CI job: no cleanup of theirs ran) left
/// next to `outputs`, and return them. Only keyless's own: a regular file
/// (never a symlink, a directory or a FIFO) named as [`write_temp`] or
/// [`keep_aside`] name one for one of these outputs, `.<output>.<16 hex
/// digits>.tmp` or `.<output>.<16 hex digits>.old.tmp`, last modified at
/// least `max_age` before `now` (a younger one may be a run's that is
/// writing right now). Another tool's file, or a temporary file of another
/// output, is never touched. A kept copy is the previous version of an
/// output the caller is about to replace, so nothing is lost with it. Each
/// folder is read once; best effort: what cannot be read or removed stays.
pub fn remove_stale_temps<'a>(
    outputs: impl IntoIterator<Item = &'a Path>,
    now: std::time::SystemTime,
    max_age: std::time::Duration,
) -> Vec<std::path::PathBuf> {
    let mut by_dir: std::collections::BTreeMap<&Path, std::collections::HashSet<String>> =
        std::collections::BTreeMap::new();
    for path in outputs {
        let (dir, name) = temp_parts(path);
        if !name.is_empty() {
            by_dir.entry(dir).or_default().insert(name);
        }
    }
    let mut removed = Vec::new();
    for (dir, names) in by_dir {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !temp_of(name).any(|output| names.contains(output)) {
                continue;
            }
            let path = entry.path();
            // The entry itself, not what a symlink points to.
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            // A kept copy (`.old.tmp`) is a hard link to (or a rename of)
            // the output, so it carries the output's old mtime while being
            // made a moment ago by a run still going: it is aged by the
            // later of mtime and ctime (`link` and `rename` set ctime, which
            // no one can set back). A temporary file is written, so its
            // mtime is when it was.
            let changed = if name.ends_with(".old.tmp") {
                last_change(&meta)
            } else {
                meta.modified().ok()
            };
            let old = changed
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age >= max_age);
            if meta.file_type().is_file() && old && std::fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    removed
}

/// When `meta`'s file last changed: the later of its mtime and (on Unix)
/// its ctime.
fn last_change(meta: &std::fs::Metadata) -> Option<std::time::SystemTime> {
    let modified = meta.modified().ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let ctime = std::time::UNIX_EPOCH.checked_add(std::time::Duration::new(
            u64::try_from(meta.ctime()).ok()?,
            u32::try_from(meta.ctime_nsec()).ok()?,
        ))?;
        return Some(modified.max(ctime));
    }
    #[allow(unreachable_code)]
    Some(modified)
}

/// The outputs whose temporary file `name` could be (see
/// [`remove_stale_temps`]): none for a name keyless never gives one.
fn temp_of(name: &str) -> impl Iterator<Item = &str> {
    let base = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .unwrap_or_default();
    // `.<output>.<nonce>.old.tmp` is a kept copy, unless the output's own
    // name ends in `.<16 hex digits>`; both readings are tried.
    [Some(base), base.strip_suffix(".old")]
        .into_iter()
        .flatten()
        .filter_map(|b| b.rsplit_once('.'))
        .filter(|(output, nonce)| {
            !output.is_empty()
                && nonce.len() == 16
                && nonce
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
        .map(|(output, _)| output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_multi_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("a.sigstore.json");
        let bad = dir.path().join("missing-dir/a.sig");
        assert!(write_all_atomic(&[(&ok, b"bundle"), (&bad, b"sig")]).is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        write_all_atomic(&[(&ok, b"bundle")]).unwrap();
        assert_eq!(std::fs::read(&ok).unwrap(), b"bundle");
    }

    #[test]
    fn a_failed_replacement_keeps_the_previous_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("a.sigstore.json");
        let sig = dir.path().join("a.sig");
        let crt = dir.path().join("a.crt");
        write_all_atomic(&[(&bundle, b"old bundle"), (&sig, b"old sig")]).unwrap();
        std::fs::create_dir(&crt).unwrap();
        std::fs::write(crt.join("x"), "x").unwrap();
        let r = write_all_atomic(&[(&bundle, b"new"), (&sig, b"new"), (&crt, b"new")]);
        assert!(r.is_err());
        assert_eq!(std::fs::read(&bundle).unwrap(), b"old bundle");
        assert_eq!(std::fs::read(&sig).unwrap(), b"old sig");
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["a.crt", "a.sig", "a.sigstore.json"]);
    }

    #[test]
    fn an_exclusive_write_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("a.sigstore.json");
        let sig = dir.path().join("a.sig");
        std::fs::write(&sig, "theirs").unwrap();
        let e = create_all_atomic(&[(&bundle, b"mine"), (&sig, b"mine")]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert!(!bundle.exists());
        assert_eq!(std::fs::read(&sig).unwrap(), b"theirs");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        std::fs::remove_file(&sig).unwrap();
        create_all_atomic(&[(&bundle, b"mine"), (&sig, b"mine")]).unwrap();
        assert_eq!(std::fs::read(&bundle).unwrap(), b"mine");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn only_old_temporary_files_of_the_outputs_are_removed() {
        use std::time::{Duration, SystemTime};
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let bundle = d.join("a.tar.gz.sigstore.json");
        let sig = d.join("a.tar.gz.sig");
        // "Now" is two hours ahead: a file written during the test is two
        // hours old then; one dated to that "now" is fresh.
        let now = SystemTime::now() + Duration::from_secs(7200);
        let file = |name: &str| {
            let path = d.join(name);
            std::fs::write(&path, name).unwrap();
            path
        };
        let stale = [
            file(".a.tar.gz.sigstore.json.0123456789abcdef.tmp"),
            file(".a.tar.gz.sig.fedcba9876543210.old.tmp"),
        ];
        let fresh = file(".a.tar.gz.sigstore.json.00112233445566ff.tmp");
        std::fs::File::options()
            .write(true)
            .open(&fresh)
            .unwrap()
            .set_modified(now)
            .unwrap();
        let kept = [
            fresh,
            // Another output's, another tool's, not keyless's pattern.
            file(".b.tar.gz.sigstore.json.0123456789abcdef.tmp"),
            file(".a.tar.gz.sigstore.json.swp"),
            file(".a.tar.gz.sigstore.json.0123456789ABCDEF.tmp"),
            file(".a.tar.gz.sigstore.json.0123456789abcde.tmp"),
            file("a.tar.gz.sigstore.json.0123456789abcdef.tmp"),
            file(".a.tar.gz.sigstore.json.0123456789abcdef"),
        ];
        // A symlink under a temporary name is not removed, nor what it
        // points to.
        let victim = file("victim");
        let link = d.join(".a.tar.gz.sig.0123456789abcdef.tmp");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let folder = d.join(".a.tar.gz.sig.aaaaaaaaaaaaaaaa.tmp");
        std::fs::create_dir(&folder).unwrap();

        let mut removed =
            remove_stale_temps([bundle.as_path(), sig.as_path()], now, STALE_TEMP_AGE);
        removed.sort();
        let mut want = stale.to_vec();
        want.sort();
        assert_eq!(removed, want);
        for path in stale {
            assert!(path.symlink_metadata().is_err(), "{}", path.display());
        }
        for path in kept.iter().chain([&victim, &link, &folder]) {
            assert!(path.symlink_metadata().is_ok(), "{}", path.display());
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim");
    }

    /// A run keeping an old output aside links it under a temporary name:
    /// the link has the output's old mtime but was made just now, by a run
    /// that may still need it to roll back. Another run must keep it.
    #[test]
    fn a_kept_copy_made_just_now_of_an_old_output_is_kept() {
        use std::time::{Duration, SystemTime};
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a.tar.gz.sigstore.json");
        std::fs::write(&out, "old").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&out)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(3 * 3600))
            .unwrap();
        let kept = dir
            .path()
            .join(".a.tar.gz.sigstore.json.0123456789abcdef.old.tmp");
        std::fs::hard_link(&out, &kept).unwrap();
        let removed = remove_stale_temps([out.as_path()], SystemTime::now(), STALE_TEMP_AGE);
        assert!(removed.is_empty(), "{removed:?}");
        assert!(kept.exists());
    }
}
