//! The module's virtual file system: `RAM:`, `UFS:` (the default drive) and `SD:` (000 §2.2.5,
//! FILE note \[4\]; ERRATA E18).

use std::collections::BTreeMap;

/// Capacity of the UFS: and SD: drives (ERRATA E18), bounding the emulator's memory.
pub(crate) const FLASH_DRIVE_BYTES: usize = 16 * 1024 * 1024;

/// A drive of the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Drive {
    Ufs,
    Ram,
    Sd,
}

impl Drive {
    fn prefix(self) -> &'static str {
        match self {
            Drive::Ufs => "",
            Drive::Ram => "RAM:",
            Drive::Sd => "SD:",
        }
    }
}

/// A file name split into drive and name; `None` if malformed (empty, `/`, `"`, control bytes).
pub(crate) fn split_name(full: &[u8]) -> Option<(Drive, String)> {
    let s = std::str::from_utf8(full).ok()?;
    let (drive, rest) = if let Some(r) = strip_prefix_ci(s, "RAM:") {
        (Drive::Ram, r)
    } else if let Some(r) = strip_prefix_ci(s, "UFS:") {
        (Drive::Ufs, r)
    } else if let Some(r) = strip_prefix_ci(s, "SD:") {
        (Drive::Sd, r)
    } else {
        (Drive::Ufs, s)
    };
    if rest.is_empty()
        || rest
            .bytes()
            .any(|b| b < 0x20 || b == b'"' || b == b'/' || b == b'\\' || b == b':')
    {
        return None;
    }
    Some((drive, rest.to_owned()))
}

fn strip_prefix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    let head = s.get(..p.len())?;
    head.eq_ignore_ascii_case(p).then(|| &s[p.len()..])
}

/// `*` and `?` glob match, iterative (O(pattern × name), no backtracking blow-up).
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == name.get(n) => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&c| c == b'*')
}

/// The files.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fs {
    files: BTreeMap<(Drive, String), Vec<u8>>,
}

impl Fs {
    /// What survives a restart: the flash drives (UFS, SD), not RAM.
    pub(crate) fn after_restart(&self) -> Fs {
        Fs {
            files: self
                .files
                .iter()
                .filter(|((drive, _), _)| *drive != Drive::Ram)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    pub(crate) fn get(&self, drive: Drive, name: &str) -> Option<&Vec<u8>> {
        self.files.get(&(drive, name.to_owned()))
    }

    pub(crate) fn exists(&self, drive: Drive, name: &str) -> bool {
        self.get(drive, name).is_some()
    }

    pub(crate) fn used(&self, drive: Drive) -> usize {
        self.files
            .iter()
            .filter(|((d, _), _)| *d == drive)
            .map(|(_, v)| v.len())
            .sum()
    }

    pub(crate) fn put(&mut self, drive: Drive, name: String, data: Vec<u8>) {
        self.files.insert((drive, name), data);
    }

    /// Files matching a pattern (`*`, `RAM:*`, `RAM:a?.txt`, `SD:x`), as (display name, size).
    pub(crate) fn list(&self, pattern: &[u8]) -> Option<Vec<(String, usize)>> {
        let (drive, pat) = split_pattern(pattern)?;
        Some(
            self.files
                .iter()
                .filter(|((d, n), _)| *d == drive && glob(pat.as_bytes(), n.as_bytes()))
                .map(|((d, n), v)| (format!("{}{}", d.prefix(), n), v.len()))
                .collect(),
        )
    }

    /// Deletes the files matching a name or pattern; how many were deleted.
    pub(crate) fn delete(&mut self, pattern: &[u8]) -> Option<usize> {
        let (drive, pat) = split_pattern(pattern)?;
        let before = self.files.len();
        self.files
            .retain(|(d, n), _| !(*d == drive && glob(pat.as_bytes(), n.as_bytes())));
        Some(before - self.files.len())
    }
}

fn split_pattern(pattern: &[u8]) -> Option<(Drive, String)> {
    // A pattern is a name whose last part may hold `*`/`?`; reuse the name rules.
    split_name(pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_patterns() {
        assert_eq!(
            split_name(b"RAM:test.txt"),
            Some((Drive::Ram, "test.txt".into()))
        );
        assert_eq!(split_name(b"ram:a"), Some((Drive::Ram, "a".into())));
        assert_eq!(split_name(b"x.bin"), Some((Drive::Ufs, "x.bin".into())));
        assert_eq!(split_name(b"UFS:x.bin"), Some((Drive::Ufs, "x.bin".into())));
        assert_eq!(split_name(b"RAM:"), None);
        assert_eq!(split_name(b"RAM: \"*"), None);
        let mut fs = Fs::default();
        fs.put(Drive::Ram, "a.txt".into(), vec![1; 3]);
        fs.put(Drive::Ram, "b.bin".into(), vec![]);
        fs.put(Drive::Ufs, "c.txt".into(), vec![0; 7]);
        assert_eq!(
            fs.list(b"RAM:*").unwrap(),
            [("RAM:a.txt".to_owned(), 3), ("RAM:b.bin".to_owned(), 0)]
        );
        assert_eq!(fs.list(b"*").unwrap(), [("c.txt".to_owned(), 7)]);
        assert_eq!(fs.list(b"RAM:?.txt").unwrap().len(), 1);
        assert!(glob(b"a*b*c", b"aXbYc") && !glob(b"a*b*c", b"aXbY"));
        assert!(glob(b"*", b"") && glob(b"**", b"x") && !glob(b"?", b""));
        let hard = [b'*', b'a'].repeat(30);
        assert!(!glob(&hard, &[b'a'; 29])); // linear, not exponential
        assert_eq!(fs.delete(b"RAM:*.txt"), Some(1));
        assert_eq!(fs.used(Drive::Ram), 0);
    }
}
