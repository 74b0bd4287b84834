//! The `+QFUPL: <upload_size>,<checksum>` checksum (000 §3.1). The manuals do not give the
//! algorithm (ERRATA E12): [`Algorithm::WordXor`] is E12's choice, [`Algorithm::Sum16`] another
//! one a conforming module may use (the emulator's `checksum-sum16` liberty). Only that the
//! same bytes give the same value is judged.
//!
//! ```
//! use at_catalog::checksum::{Algorithm, qfupl};
//! assert_eq!(qfupl(&[0x12, 0x34, 0x56]), 0x1234 ^ 0x5600);
//! assert_eq!(Algorithm::Sum16.of(&[0xff, 0x01, 0x02]), 0x102);
//! ```

/// A `+QFUPL` checksum algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// XOR of the data as big-endian 16-bit words, an odd last byte padded with 0 (ERRATA E12).
    WordXor,
    /// The 16-bit wrapping sum of the bytes.
    Sum16,
}

impl Algorithm {
    /// The checksum of `data`.
    pub fn of(self, data: &[u8]) -> u16 {
        match self {
            Algorithm::WordXor => data.chunks(2).fold(0u16, |acc, c| {
                let hi = u16::from(c.first().copied().unwrap_or(0));
                let lo = u16::from(c.get(1).copied().unwrap_or(0));
                acc ^ (hi << 8 | lo)
            }),
            Algorithm::Sum16 => data
                .iter()
                .fold(0u16, |acc, &b| acc.wrapping_add(u16::from(b))),
        }
    }
}

/// The checksum ERRATA E12 chooses ([`Algorithm::WordXor`]).
pub fn qfupl(data: &[u8]) -> u16 {
    Algorithm::WordXor.of(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_xor() {
        assert_eq!(qfupl(b""), 0);
        assert_eq!(qfupl(&[0x12, 0x34]), 0x1234);
        assert_eq!(qfupl(&[0x12, 0x34, 0x56]), 0x1234 ^ 0x5600);
        assert_eq!(qfupl(&[0xAB, 0xCD, 0xAB, 0xCD]), 0);
    }

    #[test]
    fn sum16() {
        assert_eq!(Algorithm::Sum16.of(b""), 0);
        assert_eq!(Algorithm::Sum16.of(&[0xff, 0x01, 0x02]), 0x102);
        assert_eq!(Algorithm::Sum16.of(&[0xff; 0x102]), 0x00fe); // wraps
    }

    #[test]
    fn both_change_with_any_one_byte() {
        let data = b"0123456789abcdef".repeat(8);
        for alg in [Algorithm::WordXor, Algorithm::Sum16] {
            for i in 0..data.len() {
                let mut d = data.clone();
                d[i] ^= 1;
                assert_ne!(alg.of(&d), alg.of(&data), "{alg:?} byte {i}");
            }
        }
    }
}
