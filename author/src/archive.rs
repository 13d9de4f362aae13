//! Deterministic bundle archives: entries sorted by name (bytewise), regular files only, mode 0644
//! (0755 for an artifact file with any executable bit, so a packed binary runs after
//! `airlock extract`), uid/gid 0, empty owner names, one fixed mtime; GNU long names where needed; gzip with a zero
//! header mtime; zstd (level 19, content checksum) and xz (preset 6, CRC-64) single-threaded, so
//! the same inputs give the same bytes.

use super::fsutil;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Where an entry's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// In memory (metadata files).
    Bytes(Vec<u8>),
    /// A file on disk (artifacts, streamed).
    File(PathBuf),
}

/// One archive entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Canonical name in the bundle.
    pub name: String,
    /// Its content.
    pub source: Source,
}

/// `.tar`, `.tar.gz`, `.tar.zst` or `.tar.xz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// A single gzip member.
    Gzip,
    /// A single zstd frame.
    Zstd,
    /// A single xz stream.
    Xz,
}

impl Compression {
    /// From the output file name: `.tar`, `.tar.gz` or `.tgz`, `.tar.zst`, `.tar.xz`.
    pub fn for_path(path: &Path) -> Result<Self, String> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Ok(Self::Gzip)
        } else if name.ends_with(".tar.zst") {
            Ok(Self::Zstd)
        } else if name.ends_with(".tar.xz") {
            Ok(Self::Xz)
        } else if name.ends_with(".tar") {
            Ok(Self::None)
        } else {
            Err(format!(
                "{}: a bundle is named *.tar, *.tar.gz, *.tgz, *.tar.zst or *.tar.xz (the appliance looks for those in inbox/)",
                path.display()
            ))
        }
    }

    /// From `--compress`: `gzip`, `zstd`, `xz` or `none`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "gzip" => Ok(Self::Gzip),
            "zstd" => Ok(Self::Zstd),
            "xz" => Ok(Self::Xz),
            "none" => Ok(Self::None),
            _ => Err(format!("--compress {s:?}: expected gzip, zstd, xz or none")),
        }
    }

    /// `airlock-bundle pack`'s output file: `out` when given (its extension must be that of
    /// `compress` when both are given), else `<stem>` with the extension of `compress` (gzip by
    /// default).
    pub fn output_path(
        out: Option<PathBuf>,
        compress: Option<&str>,
        stem: &str,
    ) -> Result<PathBuf, String> {
        let compress = compress.map(Self::parse).transpose()?;
        match (out, compress) {
            (Some(out), Some(c)) => {
                if Self::for_path(&out)? != c {
                    return Err(format!(
                        "--out {} does not end in {} as --compress asks",
                        out.display(),
                        c.extension()
                    ));
                }
                Ok(out)
            }
            (Some(out), None) => Self::for_path(&out).map(|_| out),
            (None, c) => Ok(PathBuf::from(format!(
                "{stem}{}",
                c.unwrap_or(Self::Gzip).extension()
            ))),
        }
    }

    /// The file name extension a bundle of this kind gets.
    pub fn extension(self) -> &'static str {
        match self {
            Self::None => ".tar",
            Self::Gzip => ".tar.gz",
            Self::Zstd => ".tar.zst",
            Self::Xz => ".tar.xz",
        }
    }
}

struct Counting<'a, R> {
    inner: R,
    n: u64,
    /// Told every chunk read (progress).
    report: &'a dyn Fn(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        (self.report)(k as u64);
        Ok(k)
    }
}

/// Whether any of the file's executable bits is set (never on non-Unix systems).
fn is_executable(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

fn append<W: Write>(
    b: &mut tar::Builder<W>,
    e: &Entry,
    mtime: u64,
    report: &dyn Fn(u64),
) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    match &e.source {
        Source::Bytes(bytes) => {
            h.set_size(bytes.len() as u64);
            b.append_data(&mut h, &e.name, bytes.as_slice())
        }
        Source::File(path) => {
            let f = File::open(path)?;
            let meta = f.metadata()?;
            let size = meta.len();
            h.set_size(size);
            if is_executable(&meta) {
                h.set_mode(0o755);
            }
            let mut r = Counting {
                inner: f.take(size),
                n: 0,
                report,
            };
            b.append_data(&mut h, &e.name, &mut r)?;
            if r.n != size {
                return Err(io::Error::other(format!(
                    "{} changed size while it was being packed",
                    path.display()
                )));
            }
            Ok(())
        }
    }
}

fn write_tar<W: Write>(w: W, entries: &[Entry], mtime: u64, report: &dyn Fn(u64)) -> io::Result<W> {
    let mut b = tar::Builder::new(w);
    b.mode(tar::HeaderMode::Deterministic);
    for e in entries {
        append(&mut b, e, mtime, report)?;
    }
    b.into_inner()
}

/// Writes `entries` (sorted here) to `out` atomically.
pub fn write(
    out: &Path,
    entries: Vec<Entry>,
    mtime: u64,
    compression: Compression,
) -> Result<(), String> {
    write_with(out, entries, mtime, compression, &|_| {})
}

/// [`write`], telling `report` the bytes of each file entry as they are read.
pub fn write_with(
    out: &Path,
    mut entries: Vec<Entry>,
    mtime: u64,
    compression: Compression,
    report: &dyn Fn(u64),
) -> Result<(), String> {
    entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    if let Some(w) = entries.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!("{} would be in the archive twice", w[0].name));
    }
    fsutil::write_atomic_with(out, |f| {
        let w = io::BufWriter::new(f);
        match compression {
            Compression::None => write_tar(w, &entries, mtime, report)?.flush(),
            Compression::Gzip => {
                let gz = flate2::GzBuilder::new()
                    .mtime(0)
                    .operating_system(255)
                    .write(w, flate2::Compression::best());
                write_tar(gz, &entries, mtime, report)?.finish()?.flush()
            }
            Compression::Zstd => {
                let mut z = zstd::stream::write::Encoder::new(w, 19)?;
                z.include_checksum(true)?;
                write_tar(z, &entries, mtime, report)?.finish()?.flush()
            }
            Compression::Xz => {
                let xz = liblzma::write::XzEncoder::new(w, 6);
                write_tar(xz, &entries, mtime, report)?.finish()?.flush()
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_output_follows_compress_and_refuses_a_mismatch() {
        let p = |out: Option<&str>, c: Option<&str>| {
            Compression::output_path(out.map(PathBuf::from), c, "cavra-v1.0.0")
        };
        assert_eq!(p(None, None).unwrap(), PathBuf::from("cavra-v1.0.0.tar.gz"));
        assert_eq!(
            p(None, Some("zstd")).unwrap(),
            PathBuf::from("cavra-v1.0.0.tar.zst")
        );
        assert_eq!(
            p(None, Some("xz")).unwrap(),
            PathBuf::from("cavra-v1.0.0.tar.xz")
        );
        assert_eq!(
            p(None, Some("none")).unwrap(),
            PathBuf::from("cavra-v1.0.0.tar")
        );
        assert_eq!(
            p(Some("b.tar.zst"), Some("zstd")).unwrap(),
            PathBuf::from("b.tar.zst")
        );
        assert_eq!(
            p(Some("b.tar.xz"), None).unwrap(),
            PathBuf::from("b.tar.xz")
        );
        assert!(p(Some("b.tar.gz"), Some("zstd")).is_err());
        assert!(p(Some("b.zip"), None).is_err());
        assert!(p(None, Some("bzip2")).is_err());
    }
}
