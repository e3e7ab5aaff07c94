//! SplitMix64: a tiny, seedable, portable generator. The corpus is reproducible from a seed only
//! if the random stream is the same on every machine and every Rust version, which rules out
//! std's randomized hashers and any dependency whose algorithm may change.

#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    /// Another stream for attempt `attempt` of the program this stream started: a program whose
    /// whole analysis fails is generated again from it (see `gen::program`).
    pub fn for_retry(&self, attempt: u64) -> Rng {
        let mut mix = Rng(self.0 ^ attempt.wrapping_mul(0xE703_7ED1_A0B4_28DB));
        Rng(mix.next_u64())
    }

    /// The stream of program `index` of the run seeded `seed`: each program has its own, so
    /// leaving one program out (`--skip`) changes no other.
    pub fn for_program(seed: u64, index: usize) -> Rng {
        let mut mix = Rng(seed ^ (index as u64).wrapping_mul(0xA076_1D64_78BD_642F));
        Rng(mix.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index into `weights`, chosen with probability proportional to its weight.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut r = self.below(total as usize) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if r < w {
                return i;
            }
            r -= w;
        }
        unreachable!("weights sum to {total}")
    }

    /// A literal for generated code: two decimals, never 0 or ±1 (which make degenerate
    /// arithmetic), magnitude in `[0.05, max]`.
    pub fn literal(&mut self, max: f64) -> f64 {
        loop {
            let v = (self.unit() * max * 100.0).round() / 100.0;
            if v >= 0.05 && v != 1.0 {
                return if self.chance(0.3) { -v } else { v };
            }
        }
    }
}
