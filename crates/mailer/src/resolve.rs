//! `--resolve host:port=ip:port` overrides, like curl's.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::Failure;

/// A `--resolve` entry that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid resolve entry {entry:?}: {reason} (expected HOST:PORT=IP:PORT)")]
pub struct ResolveParseError {
    /// The entry as given.
    pub entry: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Maps `(host, port)` to a socket address, overriding DNS.
///
/// ```
/// use at_mailer::ResolveMap;
/// let mut map = ResolveMap::new();
/// map.add("smtp.163.com:25=127.0.0.1:2525").unwrap();
/// assert_eq!(map.lookup("SMTP.163.com", 25), Some("127.0.0.1:2525".parse().unwrap()));
/// assert_eq!(map.lookup("smtp.163.com", 465), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolveMap {
    entries: BTreeMap<(String, u16), SocketAddr>,
    deny_unmapped: bool,
}

impl ResolveMap {
    /// An empty map: every name goes to the system resolver.
    pub fn new() -> Self {
        Self::default()
    }

    /// Delivers only to mapped `host:port`s: any other name, IP literals included, fails as
    /// [`Failure::Dns`] without a lookup or a connection. For running untrusted scenarios,
    /// which may name any server.
    ///
    /// ```
    /// use at_mailer::{Failure, ResolveMap};
    /// let mut map = ResolveMap::new().deny_unmapped();
    /// map.add("smtp.163.com:25=127.0.0.1:2525").unwrap();
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// assert!(rt.block_on(map.resolve("smtp.163.com", 25)).is_ok());
    /// assert_eq!(rt.block_on(map.resolve("127.0.0.1", 25)), Err(Failure::Dns));
    /// assert_eq!(rt.block_on(map.resolve("smtp.163.com", 465)), Err(Failure::Dns));
    /// ```
    pub fn deny_unmapped(mut self) -> Self {
        self.deny_unmapped = true;
        self
    }

    /// Whether names outside the map are refused ([`ResolveMap::deny_unmapped`]).
    pub fn denies_unmapped(&self) -> bool {
        self.deny_unmapped
    }

    /// Adds `host:port=ip:port` (IPv6 as `[::1]:2525`); a later entry for the same
    /// `host:port` replaces the earlier one.
    pub fn add(&mut self, entry: &str) -> Result<(), ResolveParseError> {
        let err = |reason| ResolveParseError {
            entry: entry.to_owned(),
            reason,
        };
        let (from, to) = entry.split_once('=').ok_or_else(|| err("missing '='"))?;
        let (host, port) = from
            .rsplit_once(':')
            .ok_or_else(|| err("missing ':' in HOST:PORT"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(err("empty host"));
        }
        let port: u16 = port.parse().map_err(|_| err("bad port"))?;
        let to: SocketAddr = to.parse().map_err(|_| err("bad IP:PORT target"))?;
        self.insert(host, port, to);
        Ok(())
    }

    /// Maps `host:port` to `to`.
    pub fn insert(&mut self, host: &str, port: u16, to: SocketAddr) {
        self.entries.insert((host.to_ascii_lowercase(), port), to);
    }

    /// The override for `host:port`, if any (host names compare case-insensitively).
    pub fn lookup(&self, host: &str, port: u16) -> Option<SocketAddr> {
        self.entries
            .get(&(host.to_ascii_lowercase(), port))
            .copied()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Resolves `host:port`: the override, else (unless [`ResolveMap::deny_unmapped`]) an IP
    /// literal, else the system resolver.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Failure> {
        if let Some(addr) = self.lookup(host, port) {
            return Ok(vec![addr]);
        }
        if self.deny_unmapped {
            return Err(Failure::Dns);
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = IpAddr::from_str(bare) {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if host.is_empty() {
            return Err(Failure::Dns);
        }
        match tokio::net::lookup_host((host, port)).await {
            Ok(addrs) => {
                let addrs: Vec<SocketAddr> = addrs.collect();
                if addrs.is_empty() {
                    Err(Failure::Dns)
                } else {
                    Ok(addrs)
                }
            }
            Err(_) => Err(Failure::Dns),
        }
    }
}

impl FromStr for ResolveMap {
    type Err = ResolveParseError;

    /// Parses one entry into a new map.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut map = ResolveMap::new();
        map.add(s)?;
        Ok(map)
    }
}
