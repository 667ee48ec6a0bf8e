//! The key of a local run without `PORTAL_SECRET_KEY`: a file under `./var`,
//! readable by its owner only, made once and kept.

use std::{
    fs,
    io::Write,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::Path,
};

use super::KeyBytes;

/// Where a local run keeps its key.
pub const KEY_FILE: &str = "./var/secret-key";

/// Reads the key file, or makes it (mode 0600) if there is none. Two
/// instances starting at once end up with the same key: the file is
/// written aside and linked into place, which only one of them can do.
pub fn read_or_create(path: &Path) -> Result<KeyBytes, String> {
    match fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            return KeyBytes::from_base64(&text).map_err(|problem| {
                format!(
                    "the key file {} {problem}; set PORTAL_SECRET_KEY, or move the file away if nothing was sealed with it",
                    path.display()
                )
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read the key file {}: {e}", path.display())),
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let key = KeyBytes::generate();
    let aside = dir.join(format!(".secret-key.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&aside)?;
        file.write_all(key.to_base64().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    };
    let written = write().and_then(|()| fs::hard_link(&aside, path));
    let _ = fs::remove_file(&aside);
    match written {
        Ok(()) => {
            tracing::warn!(
                file = %path.display(),
                "PORTAL_SECRET_KEY is not set: created a key for secrets at rest in this file (mode 0600). \
                 Keep it with the database; in production set PORTAL_SECRET_KEY instead"
            );
            Ok(key)
        }
        // Another instance made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_or_create(path),
        Err(e) => Err(format!("cannot write the key file {}: {e}", path.display())),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %path.display(),
            "the key file for secrets at rest is readable by others; chmod 600 it"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_made_once_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("var/secret-key");
        let made = read_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = read_or_create(&path).unwrap();
        assert_eq!(made.id(), again.id());
        // Nothing left aside.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn a_damaged_key_file_stops_the_start_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret-key");
        fs::write(&path, "short").unwrap();
        let err = read_or_create(&path).err().unwrap();
        assert!(err.contains("secret-key"), "{err}");
    }
}
