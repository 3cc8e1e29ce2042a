//! User and group id mappings of a user namespace: validation and the text written to
//! `/proc/<pid>/uid_map` and `gid_map`.

use std::fmt::Write;

/// One line of an id map: `count` ids starting at `container` map to ids starting at `host`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    pub container: u32,
    pub host: u32,
    pub count: u32,
}

/// A validated set of mappings (non-empty, no zero counts, no overlap on either side, no
/// overflow), as the kernel would accept it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdMappings(Vec<IdMap>);

/// Why a set of mappings is invalid; `index` is the entry's position in the config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdMapError {
    #[error("[{index}]: size must be greater than 0")]
    ZeroCount { index: usize },
    #[error("[{index}]: range overflows 32-bit ids")]
    Overflow { index: usize },
    #[error("[{index}]: overlaps entry [{other}]")]
    Overlap { index: usize, other: usize },
    #[error("more than 340 entries")]
    TooMany,
}

impl IdMappings {
    pub fn new(maps: Vec<IdMap>) -> Result<Self, IdMapError> {
        if maps.len() > 340 {
            return Err(IdMapError::TooMany);
        }
        for (i, m) in maps.iter().enumerate() {
            if m.count == 0 {
                return Err(IdMapError::ZeroCount { index: i });
            }
            if m.container.checked_add(m.count - 1).is_none() || m.host.checked_add(m.count - 1).is_none() {
                return Err(IdMapError::Overflow { index: i });
            }
            for (j, o) in maps.iter().enumerate().take(i) {
                let overlap = |a: u32, b: u32| a < b.saturating_add(o.count) && b < a.saturating_add(m.count);
                if overlap(m.container, o.container) || overlap(m.host, o.host) {
                    return Err(IdMapError::Overlap { index: i, other: j });
                }
            }
        }
        Ok(IdMappings(maps))
    }

    /// Validate the config's `uidMappings`/`gidMappings` entries.
    pub fn from_spec(v: &[oci_spec::runtime::LinuxIdMapping]) -> Result<Self, IdMapError> {
        Self::new(
            v.iter()
                .map(|e| IdMap {
                    container: e.container_id(),
                    host: e.host_id(),
                    count: e.size(),
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn entries(&self) -> &[IdMap] {
        &self.0
    }

    /// The text for `/proc/<pid>/uid_map` (one `container host count` line per entry).
    pub fn to_proc_format(&self) -> String {
        let mut s = String::new();
        for m in &self.0 {
            let _ = writeln!(s, "{} {} {}", m.container, m.host, m.count);
        }
        s
    }

    /// The host id that container id `id` maps to, if any.
    pub fn to_host(&self, id: u32) -> Option<u32> {
        self.0
            .iter()
            .find(|m| id >= m.container && id - m.container < m.count)
            .map(|m| m.host + (id - m.container))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(c: u32, h: u32, n: u32) -> IdMap {
        IdMap {
            container: c,
            host: h,
            count: n,
        }
    }

    #[test]
    fn formats_and_maps() {
        let maps = IdMappings::new(vec![m(0, 100000, 65536), m(65536, 5000, 1)]).unwrap();
        assert_eq!(maps.to_proc_format(), "0 100000 65536\n65536 5000 1\n");
        assert_eq!(maps.to_host(0), Some(100000));
        assert_eq!(maps.to_host(1000), Some(101000));
        assert_eq!(maps.to_host(65536), Some(5000));
        assert_eq!(maps.to_host(70000), None);
    }

    #[test]
    fn rejects_invalid() {
        assert_eq!(
            IdMappings::new(vec![m(0, 0, 0)]),
            Err(IdMapError::ZeroCount { index: 0 })
        );
        assert_eq!(
            IdMappings::new(vec![m(u32::MAX, 0, 2)]),
            Err(IdMapError::Overflow { index: 0 })
        );
        assert_eq!(
            IdMappings::new(vec![m(0, 1000, 10), m(5, 2000, 10)]),
            Err(IdMapError::Overlap { index: 1, other: 0 })
        );
        assert_eq!(
            IdMappings::new(vec![m(0, 1000, 10), m(100, 1005, 10)]),
            Err(IdMapError::Overlap { index: 1, other: 0 })
        );
        assert!(IdMappings::new(vec![m(0, 1000, 10), m(10, 1010, 10)]).is_ok());
    }
}
