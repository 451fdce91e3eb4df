//! Run keys: the name of one run (a configuration and a seed) that stays
//! the same in every sweep, so a stored result can be found and reused.

use sha2::{Digest, Sha256};

/// Names a run: hex SHA-256 of the text `"{config_hash}:{seed}"` (the seed
/// in decimal). Equal configurations with equal seeds share a key in every
/// sweep, so a stored result can be reused.
pub fn run_key(config_hash: &str, seed: u64) -> String {
    hex::encode(run_key_digest(config_hash, seed))
}

pub(crate) fn run_key_digest(config_hash: &str, seed: u64) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(config_hash.as_bytes());
    hasher.update(b":");
    hasher.update(seed.to_string().as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_key_matches_sha256sum() {
        // Expected values from `printf 'abc:7' | sha256sum` and the same for
        // the hash of "x" with the largest seed.
        let cases = [
            (
                "abc",
                7,
                "b490d822e84fb6f8c0b3027be75007ecd25ff3e52cf3eb27e376a499516a063e",
            ),
            (
                "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
                u64::MAX,
                "8e312a24d2a36091ec9c70f25595036f2311d14d4ac3465fbb877e751afc4453",
            ),
        ];

        for (config_hash, seed, expected) in cases {
            assert_eq!(run_key(config_hash, seed), expected);
        }
    }
}
