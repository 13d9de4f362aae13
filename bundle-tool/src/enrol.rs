//! `airlock-bundle appliance-key`: makes an appliance's receipt key on the connected side, so the
//! site knows the appliance out of band before it ever boots (issue 13, trust gap 1). The files
//! and the key id are the appliance's own (`airlock_verifier::appliance_key`, the code the
//! appliance runs on first boot); `image/build --appliance-key DIR` installs them into the state
//! partition, and `--enrol FILE` appends the public entry to the site's `appliances.json`.

use airlock_author::fsutil;
use airlock_formats::document::dsse::to_pretty_json;
use airlock_formats::keys::KeyEntry;
use airlock_verifier::appliance_key::{ApplianceKey, PUBLIC_FILE, SECRET_FILE};
use airlock_verifier::atomic::RealStorage;
use airlock_verifier::{out, outln};
use clap::Args;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

/// Largest appliances file read (thousands of entries; a site's list is far smaller).
const MAX_APPLIANCES_FILE: u64 = 4 * 1024 * 1024;

#[derive(Args)]
pub(crate) struct ApplianceKeyArgs {
    /// Directory to write appliance-key.pem (the secret, mode 0600) and appliance-key.json (its
    /// public key entry) into: created with mode 0700 if absent, refused if it already holds an
    /// appliance key. Use it as `image/build --appliance-key DIR` (or as an `airlock --state`).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Append the key entry to this site appliances.json (a JSON array of appliance key
    /// entries; created if absent; a key id already enrolled is refused).
    #[arg(long, value_name = "FILE")]
    enrol: Option<PathBuf>,
}

pub(crate) fn appliance_key(a: ApplianceKeyArgs) -> Result<(), String> {
    // The site list is checked before any key exists, so a bad list leaves nothing behind.
    let enrolled = a.enrol.as_deref().map(read_enrolled).transpose()?;
    for name in [SECRET_FILE, PUBLIC_FILE] {
        let p = a.out.join(name);
        if std::fs::symlink_metadata(&p).is_ok() {
            return Err(format!(
                "{} already exists; an appliance key is never replaced (choose another --out)",
                p.display()
            ));
        }
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&a.out)
        .map_err(|e| format!("{}: {e}", a.out.display()))?;
    let key = ApplianceKey::load_or_create(&RealStorage, &a.out).map_err(|e| e.to_string())?;
    outln!("appliance key {} ({})", key.key_id(), key.fingerprint());
    outln!("secret (0600):    {}", a.out.join(SECRET_FILE).display());
    outln!("public key entry: {}", a.out.join(PUBLIC_FILE).display());
    if let (Some(path), Some(mut list)) = (a.enrol.as_deref(), enrolled) {
        let entry = key.entry();
        if list.iter().any(|e| e.key_id == entry.key_id) {
            return Err(format!(
                "{}: key id {} is already enrolled",
                path.display(),
                entry.key_id
            ));
        }
        let fresh = list.is_empty();
        list.push(entry);
        let bytes = to_pretty_json(&list);
        if fresh {
            fsutil::write_new(path, &bytes)?;
        } else {
            fsutil::write_atomic(path, &bytes)?;
        }
        outln!("enrolled in {}: {} entries", path.display(), list.len());
    }
    outln!("enrol this appliance (its entry in the site's appliances.json):");
    out!("{}", String::from_utf8_lossy(&key.entry_json()));
    Ok(())
}

/// The site's enrolled appliances, or none when the file does not exist yet.
fn read_enrolled(path: &Path) -> Result<Vec<KeyEntry>, String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if !meta.file_type().is_file() {
        return Err(format!("{}: not a regular file", path.display()));
    }
    if meta.len() > MAX_APPLIANCES_FILE {
        return Err(format!(
            "{}: larger than {MAX_APPLIANCES_FILE} bytes; not an appliances file",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    airlock_verifier::appliances::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}
