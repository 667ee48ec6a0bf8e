//! License keys: `NFR-` and four groups of five characters, easy to read
//! aloud and to copy, with 100 bits from the operating system's generator.

use rand::{Rng, rngs::OsRng};

/// 32 symbols, so each carries 5 bits; no 0/O or 1/I to confuse.
pub const KEY_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
pub const KEY_PREFIX: &str = "NFR";
const GROUPS: usize = 4;
const GROUP_LEN: usize = 5;

/// A new key like `NFR-7QK2M-XH9PA-3WZRT-C8NDE`.
pub fn generate_key() -> String {
    let mut rng = OsRng;
    let mut key = String::with_capacity(KEY_PREFIX.len() + GROUPS * (GROUP_LEN + 1));
    key.push_str(KEY_PREFIX);
    for _ in 0..GROUPS {
        key.push('-');
        for _ in 0..GROUP_LEN {
            key.push(char::from(
                KEY_ALPHABET[rng.gen_range(0..KEY_ALPHABET.len())],
            ));
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn keys_have_the_documented_shape() {
        let key = generate_key();
        let groups: Vec<&str> = key.split('-').collect();
        assert_eq!(groups.len(), 5, "{key}");
        assert_eq!(groups[0], "NFR");
        for group in &groups[1..] {
            assert_eq!(group.len(), 5, "{key}");
            assert!(group.bytes().all(|b| KEY_ALPHABET.contains(&b)), "{key}");
        }
    }

    #[test]
    fn the_alphabet_has_no_look_alikes_and_no_repeats() {
        for confusing in [b'0', b'O', b'1', b'I'] {
            assert!(!KEY_ALPHABET.contains(&confusing));
        }
        let distinct: HashSet<u8> = KEY_ALPHABET.iter().copied().collect();
        assert_eq!(distinct.len(), 32);
    }

    #[test]
    fn keys_differ_and_use_the_whole_alphabet() {
        let keys: Vec<String> = (0..1000).map(|_| generate_key()).collect();
        let distinct: HashSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len());
        let used: HashSet<u8> = keys.iter().flat_map(|k| k.bytes().skip(4)).collect();
        // 20,000 draws from 32 symbols: missing one has odds below 1e-270.
        assert_eq!(used.len(), 33, "32 symbols and the dash");
    }
}
