//! A small deterministic generator (xorshift64*), so a failure found with a seed reproduces.
//! Shared by the `.env` property tests (`src/dotenv/tests.rs`) and the Compose differential
//! (`tests/dotenv_compose.rs`), which include this file with `#[path]`.

/// xorshift64*; the state must not be 0 (`Rng(seed | 1)`).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n as u64)).unwrap_or(0)
    }
}
