//! Password-reset codes: 60 random bits written as `XXXX-XXXX-XXXX` in Crockford's base32
//! (no I, L, O or U, so nothing reads as another character). Long enough that the SHA-256
//! kept in the database cannot be reversed by trying every code, short enough to type.

use rand::RngCore;

use super::tokens::{constant_time_eq, digest};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_CHARS: usize = 12;
/// Longest input accepted as a code (grouping and spaces included).
pub const MAX_CODE_INPUT: usize = 64;

/// A fresh random code, grouped for reading.
pub fn generate() -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut bits = u64::from_le_bytes(bytes);
    let mut out = String::with_capacity(CODE_CHARS + 2);
    for i in 0..CODE_CHARS {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    out
}

/// The canonical form of what a person typed: upper case, no separators, and the letters
/// that look like digits read as those digits (Crockford: O→0, I/L→1).
pub fn normalize(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// What is stored of a code.
pub fn hash(code: &str) -> String {
    digest(&normalize(code))
}

/// Whether `typed` is the code stored as `stored_hash`, in constant time.
pub fn matches(typed: &str, stored_hash: &str) -> bool {
    typed.len() <= MAX_CODE_INPUT
        && constant_time_eq(hash(typed).as_bytes(), stored_hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_random_and_unambiguous() {
        let a = generate();
        assert_eq!(a.len(), 14);
        assert_eq!(a.matches('-').count(), 2);
        assert!(a.chars().all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
        assert_ne!(a, generate());
    }

    #[test]
    fn typed_variants_match_and_others_do_not() {
        let stored = hash("AB0C-1DEF-2GHJ");
        assert!(matches("AB0C-1DEF-2GHJ", &stored));
        assert!(matches("ab0c 1def 2ghj", &stored));
        assert!(matches("abOc-ldef-2ghj", &stored));
        assert!(!matches("AB0C-1DEF-2GHK", &stored));
        assert!(!matches(&"A".repeat(100), &stored));
    }
}
