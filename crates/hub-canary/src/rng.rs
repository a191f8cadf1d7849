//! A small seeded random number generator and the distributions the simulator needs.
//!
//! `xoshiro256++` (Blackman & Vigna) seeded through `splitmix64`: fast, 256 bits of state,
//! and deterministic across platforms, so a seed names a simulation forever.

use crate::math::ln_gamma;

/// Deterministic pseudo-random generator (`xoshiro256++`).
///
/// ```
/// use hub_canary::Rng;
/// let mut a = Rng::seed(42);
/// let mut b = Rng::seed(42);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let u = a.uniform();
/// assert!((0.0..1.0).contains(&u));
/// ```
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
    spare_normal: Option<f64>,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole stream is determined by `seed`.
    #[must_use]
    pub fn seed(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Self {
            s,
            spare_normal: None,
        }
    }

    /// An independent stream derived from this seed and a label (for per-arm streams).
    #[must_use]
    pub fn fork(&mut self, label: u64) -> Self {
        Self::seed(self.next_u64() ^ label.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform on `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Marsaglia's polar method).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = (-2.0 * s.ln() / s).sqrt();
                self.spare_normal = Some(v * m);
                return u * m;
            }
        }
    }

    /// Gamma with shape `k > 0` and scale 1 (Marsaglia & Tsang 2000).
    pub fn gamma(&mut self, k: f64) -> f64 {
        if k < 1.0 {
            // Boost: Gamma(k) = Gamma(k + 1) · U^(1/k).
            let u = self.uniform().max(f64::MIN_POSITIVE);
            return self.gamma(k + 1.0) * u.powf(1.0 / k);
        }
        let d = k - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            if u < 1.0 - 0.0331 * x * x * x * x {
                return d * v;
            }
            if u.max(f64::MIN_POSITIVE).ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
    }

    /// Poisson with mean `lambda >= 0`: inversion below 10, Hörmann's PTRS above.
    pub fn poisson(&mut self, lambda: f64) -> f64 {
        if lambda <= 0.0 || lambda.is_nan() {
            return 0.0;
        }
        if lambda < 10.0 {
            let limit = (-lambda).exp();
            let mut k = 0.0;
            let mut p = self.uniform();
            while p > limit {
                k += 1.0;
                p *= self.uniform();
            }
            return k;
        }
        // Hörmann (1993), "The transformed rejection method for generating Poisson
        // random variables", algorithm PTRS.
        let slam = lambda.sqrt();
        let loglam = lambda.ln();
        let b = 0.931 + 2.53 * slam;
        let a = -0.059 + 0.02483 * b;
        let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
        let vr = 0.9277 - 3.6224 / (b - 2.0);
        loop {
            let u = self.uniform() - 0.5;
            let v = self.uniform();
            let us = 0.5 - u.abs();
            let k = ((2.0 * a / us + b) * u + lambda + 0.43).floor();
            if us >= 0.07 && v <= vr {
                return k;
            }
            if k < 0.0 || (us < 0.013 && v > us) {
                continue;
            }
            if v.ln() + inv_alpha.ln() - (a / (us * us) + b).ln()
                <= -lambda + k * loglam - ln_gamma(k + 1.0)
            {
                return k;
            }
        }
    }

    /// Binomial(`n`, `p`) by inversion when the mean is small, otherwise by the Poisson
    /// (`p <= 0.1`) or normal approximation clamped to `[0, n]`. The simulator only needs
    /// small means (bad events among requests).
    pub fn binomial(&mut self, n: f64, p: f64) -> f64 {
        if n <= 0.0 || p <= 0.0 {
            return 0.0;
        }
        if p >= 1.0 {
            return n;
        }
        let n = n.round();
        if p > 0.5 {
            return n - self.binomial(n, 1.0 - p);
        }
        let mean = n * p;
        if mean < 30.0 {
            let q = 1.0 - p;
            let s = p / q;
            let a = (n + 1.0) * s;
            let mut r = q.powf(n);
            let mut u = self.uniform();
            let mut x = 0.0;
            while u > r {
                u -= r;
                x += 1.0;
                if x > n {
                    return n;
                }
                r *= a / x - s;
                if r <= 0.0 {
                    break;
                }
            }
            return x;
        }
        if p <= 0.1 {
            return self.poisson(mean).min(n);
        }
        (mean + (mean * (1.0 - p)).sqrt() * self.normal())
            .round()
            .clamp(0.0, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(draw: impl FnMut(&mut Rng) -> f64) -> String {
        let mut rng = Rng::seed(1);
        let mut draw = draw;
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| draw(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        format!("mean {m:.2} var {v:.2}")
    }

    #[test]
    fn distributions_have_their_moments() {
        insta::assert_snapshot!(check(|r| r.normal()), @"mean 0.00 var 1.00");
        insta::assert_snapshot!(check(|r| r.gamma(4.0)), @"mean 4.01 var 3.99");
        insta::assert_snapshot!(check(|r| r.gamma(0.5)), @"mean 0.51 var 0.51");
        insta::assert_snapshot!(check(|r| r.poisson(3.0)), @"mean 3.00 var 2.99");
        insta::assert_snapshot!(check(|r| r.poisson(600.0)), @"mean 600.18 var 606.33");
        insta::assert_snapshot!(check(|r| r.binomial(600.0, 0.002)), @"mean 1.20 var 1.19");
        insta::assert_snapshot!(check(|r| r.binomial(600.0, 0.3)), @"mean 180.03 var 125.63");
    }

    #[test]
    fn seeds_reproduce_and_differ() {
        let a: Vec<u64> = (0..3).map(|_| Rng::seed(9).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::seed(9).next_u64(), Rng::seed(10).next_u64());
    }
}
