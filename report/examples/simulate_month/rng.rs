//! A small deterministic generator written by hand (splitmix64), so the simulation needs no
//! dependency and a seed gives the same district on every machine and toolchain.

/// splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, passes BigCrush, and any seed —
/// including 0 — is a good one, which matters when seeds are derived from ids.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for one part of the simulation (a unit, an item), derived from the run's
    /// seed and the part's number: each item draws from its own stream, so changing one
    /// rate changes that rate's outcomes without reshuffling every other item.
    pub fn derive(seed: u64, stream: u64, index: u64) -> Rng {
        let mut mixer = Rng(seed ^ stream.wrapping_mul(0xA24B_AED4_963E_E407));
        let first = mixer.next_u64();
        Rng(first ^ index.wrapping_mul(0x9FB2_1C65_1E98_DF25))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `low..=high` (`low` when the range is empty).
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        let span = (high - low + 1) as u64;
        low + (self.next_u64() % span) as i64
    }

    /// A standard normal draw (Box–Muller), for the units' spread of diligence.
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A Poisson draw (Knuth's method; the means here are a few items a day at most).
    pub fn poisson(&mut self, mean: f64) -> u32 {
        let limit = (-mean).exp();
        let mut product = self.unit();
        let mut count = 0;
        while product > limit && count < 1_000 {
            product *= self.unit();
            count += 1;
        }
        count
    }

    /// An index drawn with the given weights (the last one when all are zero).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if target < *w {
                return i;
            }
            target -= w;
        }
        weights.len().saturating_sub(1)
    }
}
