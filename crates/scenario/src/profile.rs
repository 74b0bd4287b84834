//! Module profiles a scenario applies to, and the groups a file may name.

use std::fmt;

/// A module profile (000 表 1 for the EC2x family, 001 for AG35, 002 for Multi-Tech).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// EC21 series (000 表 1).
    Ec21,
    /// EC25 series (000 表 1).
    Ec25,
    /// EC20 R2.1 (000 表 1).
    Ec20R21,
    /// EC20-CN (000 表 1).
    Ec20Cn,
    /// EG21-G (000 表 1).
    Eg21G,
    /// EG25-G (000 表 1).
    Eg25G,
    /// EG91 series (000 表 1).
    Eg91,
    /// EG95 series (000 表 1).
    Eg95,
    /// EM05 series (000 表 1).
    Em05,
    /// AG35 (001): earlier revision, no `"bodyoriginal"`.
    Ag35,
    /// Multi-Tech `#PUTMAIL` dialect (002).
    Multitech,
}

impl Profile {
    /// Every profile, in a fixed order.
    pub const ALL: [Profile; 11] = [
        Profile::Ec21,
        Profile::Ec25,
        Profile::Ec20R21,
        Profile::Ec20Cn,
        Profile::Eg21G,
        Profile::Eg25G,
        Profile::Eg91,
        Profile::Eg95,
        Profile::Em05,
        Profile::Ag35,
        Profile::Multitech,
    ];

    /// The name used in scenario files and on the command line (`ec25`, `ag35`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Profile::Ec21 => "ec21",
            Profile::Ec25 => "ec25",
            Profile::Ec20R21 => "ec20",
            Profile::Ec20Cn => "ec20-cn",
            Profile::Eg21G => "eg21-g",
            Profile::Eg25G => "eg25-g",
            Profile::Eg91 => "eg91",
            Profile::Eg95 => "eg95",
            Profile::Em05 => "em05",
            Profile::Ag35 => "ag35",
            Profile::Multitech => "multitech",
        }
    }

    /// The profile with this name (case-insensitive; `ec20-r2.1` is accepted for `ec20`).
    /// A catalog profile maps through its `model` (`"EC25"` → `ec25`).
    pub fn from_name(name: &str) -> Option<Profile> {
        if name.eq_ignore_ascii_case("ec20-r2.1") || name.eq_ignore_ascii_case("ec20 r2.1") {
            return Some(Profile::Ec20R21);
        }
        Profile::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of profiles.
///
/// ```
/// use at_scenario::{Profile, ProfileSet};
/// let s = ProfileSet::parse_list("quectel, !ag35").unwrap();
/// assert!(s.contains(Profile::Ec25));
/// assert!(!s.contains(Profile::Ag35));
/// assert_eq!(ProfileSet::parse_list("ec2x").unwrap().len(), 9);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ProfileSet(u16);

/// The groups a file may name besides single profiles.
pub const GROUPS: [(&str, &[Profile]); 4] = [
    (
        "ec2x",
        &[
            Profile::Ec21,
            Profile::Ec25,
            Profile::Ec20R21,
            Profile::Ec20Cn,
            Profile::Eg21G,
            Profile::Eg25G,
            Profile::Eg91,
            Profile::Eg95,
            Profile::Em05,
        ],
    ),
    (
        "quectel",
        &[
            Profile::Ec21,
            Profile::Ec25,
            Profile::Ec20R21,
            Profile::Ec20Cn,
            Profile::Eg21G,
            Profile::Eg25G,
            Profile::Eg91,
            Profile::Eg95,
            Profile::Em05,
            Profile::Ag35,
        ],
    ),
    ("multitech", &[Profile::Multitech]),
    ("all", &Profile::ALL),
];

impl ProfileSet {
    /// The empty set.
    pub const EMPTY: ProfileSet = ProfileSet(0);

    /// Every profile.
    pub fn all() -> ProfileSet {
        Profile::ALL.into_iter().collect()
    }

    /// Whether `p` is in the set.
    pub const fn contains(self, p: Profile) -> bool {
        self.0 & p.bit() != 0
    }

    /// Adds `p`.
    pub fn insert(&mut self, p: Profile) {
        self.0 |= p.bit();
    }

    /// Removes `p`.
    pub fn remove(&mut self, p: Profile) {
        self.0 &= !p.bit();
    }

    /// Number of profiles in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The profiles in the set, in [`Profile::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Profile> {
        Profile::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// The profiles a name stands for: a profile name or a group (`ec2x`, `quectel`, `multitech`, `all`).
    pub fn named(name: &str) -> Option<ProfileSet> {
        if let Some((_, members)) = GROUPS.iter().find(|(g, _)| g.eq_ignore_ascii_case(name)) {
            return Some(members.iter().copied().collect());
        }
        Profile::from_name(name).map(|p| [p].into_iter().collect())
    }

    /// Parses a comma-separated list of names; `!name` removes. A list of only removals starts
    /// from every profile. The error names the offending item.
    pub fn parse_list(list: &str) -> Result<ProfileSet, UnknownProfile> {
        let mut set = ProfileSet::EMPTY;
        let mut first = true;
        for item in list.split(',') {
            let item = item.trim();
            let (neg, name) = match item.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, item),
            };
            let named = ProfileSet::named(name).ok_or_else(|| UnknownProfile(item.to_owned()))?;
            if neg {
                if first {
                    set = ProfileSet::all();
                }
                set.0 &= !named.0;
            } else {
                set.0 |= named.0;
            }
            first = false;
        }
        Ok(set)
    }
}

/// A profile or group name that is not one ([`ProfileSet::parse_list`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile `{0}`")]
pub struct UnknownProfile(pub String);

impl FromIterator<Profile> for ProfileSet {
    fn from_iter<I: IntoIterator<Item = Profile>>(iter: I) -> Self {
        let mut s = ProfileSet::EMPTY;
        for p in iter {
            s.insert(p);
        }
        s
    }
}

impl fmt::Debug for ProfileSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Profile::name))
            .finish()
    }
}

impl fmt::Display for ProfileSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for p in self.iter() {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(p.name())?;
        }
        Ok(())
    }
}
