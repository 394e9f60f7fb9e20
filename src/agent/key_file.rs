//! The license key file and its renewal: a new key is verified, written atomically
//! (`license.key.new`, fsync, rename over), and the old one is kept as
//! `license.key.previous` until the new one, read back from disk, verifies too.

use super::files::{sibling, write_atomic};
use std::path::{Path, PathBuf};

/// Why a key could not be read or installed.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("license key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the new license key does not verify: {0}")]
    Unverified(String),
    #[error("the license key written to {path} does not read back as the verified key")]
    ReadBack { path: PathBuf },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads the key (surrounding white space removed).
pub fn read(path: &Path) -> Result<String, KeyFileError> {
    Ok(std::fs::read_to_string(path)
        .map_err(io(path))?
        .trim()
        .to_owned())
}

/// The file the old key is kept in while a new one is installed.
pub fn previous_path(path: &Path) -> PathBuf {
    sibling(path, ".previous")
}

/// Installs `new_key` at `path` when `verify` accepts it: the current key is copied to
/// `<path>.previous`, the new one written atomically and read back; once the copy on
/// disk verifies, `.previous` is removed. A key `verify` refuses changes nothing.
pub fn install(
    path: &Path,
    new_key: &str,
    verify: impl Fn(&str) -> Result<(), String>,
) -> Result<(), KeyFileError> {
    let new_key = new_key.trim();
    verify(new_key).map_err(KeyFileError::Unverified)?;
    let previous = previous_path(path);
    if path.exists() {
        let old = std::fs::read(path).map_err(io(path))?;
        write_atomic(&previous, &old, 0o600).map_err(io(&previous))?;
    }
    write_atomic(path, format!("{new_key}\n").as_bytes(), 0o600).map_err(io(path))?;
    let back = read(path)?;
    if back != new_key || verify(&back).is_err() {
        return Err(KeyFileError::ReadBack {
            path: path.to_owned(),
        });
    }
    match std::fs::remove_file(&previous) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(&previous)(e)),
    }
}

/// At start: when the key file is missing or does not verify but a `.previous` copy
/// (left by an interrupted renewal) does, the previous key is put back. Returns the key
/// in force.
pub fn recover(
    path: &Path,
    verify: impl Fn(&str) -> Result<(), String>,
) -> Result<String, KeyFileError> {
    let previous = previous_path(path);
    let current = read(path);
    if let Ok(key) = &current
        && verify(key).is_ok()
    {
        let _ = std::fs::remove_file(&previous);
        return current;
    }
    if let Ok(old) = read(&previous)
        && verify(&old).is_ok()
    {
        write_atomic(path, format!("{old}\n").as_bytes(), 0o600).map_err(io(path))?;
        let _ = std::fs::remove_file(&previous);
        return Ok(old);
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_good(k: &str) -> Result<(), String> {
        if k.starts_with("good") {
            Ok(())
        } else {
            Err(format!("{k} is bad"))
        }
    }

    #[test]
    fn a_verified_key_replaces_the_old_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("license.key");
        std::fs::write(&path, "good-old\n").expect("write");
        install(&path, "good-new", only_good).expect("install");
        assert_eq!(read(&path).expect("read"), "good-new");
        assert!(!previous_path(&path).exists());
    }

    #[test]
    fn a_key_that_does_not_verify_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("license.key");
        std::fs::write(&path, "good-old\n").expect("write");
        let e = install(&path, "evil", only_good).expect_err("refused");
        assert!(e.to_string().contains("evil is bad"), "{e}");
        assert_eq!(read(&path).expect("read"), "good-old");
    }

    #[test]
    fn an_interrupted_renewal_falls_back_to_the_previous_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("license.key");
        std::fs::write(previous_path(&path), "good-old\n").expect("write");
        std::fs::write(&path, "garbage").expect("write");
        assert_eq!(recover(&path, only_good).expect("recover"), "good-old");
        assert_eq!(read(&path).expect("read"), "good-old");
        assert!(!previous_path(&path).exists());
    }
}
