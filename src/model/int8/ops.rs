//! The f32 work around the int8 matrix multiplies: residual + LayerNorm, GELU, attention over
//! packed tokens and pooling. Written as plain loops over independent lanes so the compiler
//! vectorises them; each entry point is compiled twice, for AVX512 and for the baseline, and
//! picks one at run time.

use std::f32::consts::{FRAC_1_SQRT_2, LOG2_E};

/// Lanes of the partial sums: independent accumulators let the compiler use whole vectors
/// (a single running f32 sum cannot be reordered, so it would stay scalar).
const LANES: usize = 16;

fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines `pub fn $name(args)` that runs `$body` compiled for AVX512 where the CPU has it.
macro_rules! dispatch {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn imp($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512vl,fma")]
            unsafe fn fast($($arg: $ty),*) $(-> $ret)? { imp($($arg),*) }
            #[cfg(target_arch = "x86_64")]
            if avx512() {
                // SAFETY: the CPU was just checked for the features `fast` is compiled with.
                return unsafe { fast($($arg),*) };
            }
            imp($($arg),*)
        }
    };
}

/// Sum of `a[i] * b[i]`.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ac, bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ac.zip(bc) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn sum(a: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = a.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for x in chunks {
        for l in 0..LANES {
            acc[l] += x[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// e^x for x ≤ 0 (relative error below 3e-7): 2^n by the exponent bits, 2^f by a polynomial.
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    let t = x.max(-87.0) * LOG2_E;
    let n = (t + 0.5).floor();
    let f = (t - n) * std::f32::consts::LN_2; // |f| ≤ ln2 / 2
    let p = 1.0
        + f * (1.0
            + f * (0.5
                + f * (1.0 / 6.0 + f * (1.0 / 24.0 + f * (1.0 / 120.0 + f * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// erf(x), Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
#[inline(always)]
fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    let a = x.abs();
    let t = 1.0 / (1.0 + P * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp_nonpositive(-a * a);
    y.copysign(x)
}

dispatch! {
    /// GELU (erf form) in place.
    pub fn gelu(x: &mut [f32]) {
        for v in x.iter_mut() {
            *v = 0.5 * *v * (1.0 + erf(*v * FRAC_1_SQRT_2));
        }
    }
}

dispatch! {
    /// Smallest and largest value of `x` (0, 0 when empty).
    pub fn min_max(x: &[f32]) -> (f32, f32) {
        let mut lo = [f32::MAX; LANES];
        let mut hi = [f32::MIN; LANES];
        let chunks = x.chunks_exact(LANES);
        let (mut tlo, mut thi) = (f32::MAX, f32::MIN);
        for &v in chunks.remainder() {
            tlo = tlo.min(v);
            thi = thi.max(v);
        }
        for c in chunks {
            for l in 0..LANES {
                lo[l] = if c[l] < lo[l] { c[l] } else { lo[l] };
                hi[l] = if c[l] > hi[l] { c[l] } else { hi[l] };
            }
        }
        let lo = lo.iter().fold(tlo, |m, &v| m.min(v));
        let hi = hi.iter().fold(thi, |m, &v| m.max(v));
        if lo > hi { (0.0, 0.0) } else { (lo, hi) }
    }
}

dispatch! {
    /// `x[r] = LayerNorm(x[r] + residual[r])` for every row of width `h`; no residual when
    /// `residual` is empty.
    pub fn add_layer_norm(x: &mut [f32], residual: &[f32], gamma: &[f32], beta: &[f32], h: usize, eps: f32) {
        for (r, row) in x.chunks_exact_mut(h).enumerate() {
            if !residual.is_empty() {
                for (v, &res) in row.iter_mut().zip(&residual[r * h..(r + 1) * h]) {
                    *v += res;
                }
            }
            let mean = sum(row) / h as f32;
            for v in row.iter_mut() {
                *v -= mean;
            }
            let var = dot(row, row) / h as f32;
            let inv = 1.0 / (var + eps).sqrt();
            for ((v, &g), &b) in row.iter_mut().zip(gamma).zip(beta) {
                *v = *v * inv * g + b;
            }
        }
    }
}

dispatch! {
    /// Self-attention of packed items: `qkv` holds one row of `3h` per token (queries, keys,
    /// values), items back to back with the given lengths; writes `ctx` (`tokens × h`). Every
    /// item attends over its own tokens only, so nothing is padded or masked.
    pub fn attention(qkv: &[f32], lens: &[usize], heads: usize, ctx: &mut [f32], scores: &mut Vec<f32>) {
        let h = ctx.len() / lens.iter().sum::<usize>().max(1);
        let hd = h / heads;
        #[cfg(target_arch = "x86_64")]
        if hd == 32 && avx512() {
            // SAFETY: AVX512F checked; every row is 3h floats, every ctx row h.
            unsafe { attention32(qkv, lens, heads, ctx, scores) };
            return;
        }
        let scale = 1.0 / (hd as f32).sqrt();
        let mut start = 0;
        for &len in lens {
            scores.clear();
            scores.resize(len, 0.0);
            for head in 0..heads {
                let (qo, ko, vo) = (head * hd, h + head * hd, 2 * h + head * hd);
                for i in 0..len {
                    let qrow = &qkv[(start + i) * 3 * h..];
                    let q = &qrow[qo..qo + hd];
                    let mut max = f32::MIN;
                    for (j, s) in scores.iter_mut().enumerate() {
                        let krow = &qkv[(start + j) * 3 * h..];
                        *s = dot(q, &krow[ko..ko + hd]) * scale;
                        max = max.max(*s);
                    }
                    let mut total = 0.0;
                    for s in scores.iter_mut() {
                        *s = exp_nonpositive(*s - max);
                        total += *s;
                    }
                    let inv = 1.0 / total;
                    let out = &mut ctx[(start + i) * h + head * hd..(start + i) * h + (head + 1) * hd];
                    out.fill(0.0);
                    for (j, &p) in scores.iter().enumerate() {
                        let vrow = &qkv[(start + j) * 3 * h..];
                        let p = p * inv;
                        for (o, &v) in out.iter_mut().zip(&vrow[vo..vo + hd]) {
                            *o += p * v;
                        }
                    }
                }
            }
            start += len;
        }
    }
}

/// [`attention`] for heads of 32 (MiniLM's): a query or key is two registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn attention32(
    qkv: &[f32],
    lens: &[usize],
    heads: usize,
    ctx: &mut [f32],
    scores: &mut Vec<f32>,
) {
    use super::gemm::avx512::exp16;
    use std::arch::x86_64::*;
    let h = heads * 32;
    let scale = 1.0 / 32f32.sqrt();
    let base = qkv.as_ptr();
    let mut start = 0;
    for &len in lens {
        scores.clear();
        scores.resize(len.div_ceil(16) * 16, 0.0);
        for head in 0..heads {
            let (qo, ko, vo) = (head * 32, h + head * 32, 2 * h + head * 32);
            for i in 0..len {
                let q = base.add((start + i) * 3 * h + qo);
                let (q0, q1) = (_mm512_loadu_ps(q), _mm512_loadu_ps(q.add(16)));
                let mut max = f32::MIN;
                for (j, score) in scores[..len].iter_mut().enumerate() {
                    let k = base.add((start + j) * 3 * h + ko);
                    let d = _mm512_fmadd_ps(
                        q1,
                        _mm512_loadu_ps(k.add(16)),
                        _mm512_mul_ps(q0, _mm512_loadu_ps(k)),
                    );
                    let s = _mm512_reduce_add_ps(d) * scale;
                    *score = s;
                    max = max.max(s);
                }
                let mut total = 0.0;
                let maxv = _mm512_set1_ps(max);
                for c in 0..len.div_ceil(16) {
                    let left = len - 16 * c;
                    let mask: u16 = if left >= 16 {
                        u16::MAX
                    } else {
                        (1u16 << left) - 1
                    };
                    let p = scores.as_mut_ptr().add(16 * c);
                    let e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, p), maxv));
                    let e = _mm512_maskz_mov_ps(mask, e);
                    total += _mm512_reduce_add_ps(e);
                    _mm512_storeu_ps(p, e);
                }
                let inv = 1.0 / total;
                let (mut o0, mut o1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
                for (j, &score) in scores[..len].iter().enumerate() {
                    let v = base.add((start + j) * 3 * h + vo);
                    let p = _mm512_set1_ps(score * inv);
                    o0 = _mm512_fmadd_ps(p, _mm512_loadu_ps(v), o0);
                    o1 = _mm512_fmadd_ps(p, _mm512_loadu_ps(v.add(16)), o1);
                }
                let out = ctx.as_mut_ptr().add((start + i) * h + head * 32);
                _mm512_storeu_ps(out, o0);
                _mm512_storeu_ps(out.add(16), o1);
            }
        }
        start += len;
    }
}

dispatch! {
    /// Mean of each item's token rows, L2-normalised, into `out` (`items × h`).
    pub fn mean_pool(x: &[f32], lens: &[usize], h: usize, out: &mut [f32]) {
        let mut start = 0;
        for (i, &len) in lens.iter().enumerate() {
            let dst = &mut out[i * h..(i + 1) * h];
            dst.fill(0.0);
            for t in start..start + len {
                for (d, &v) in dst.iter_mut().zip(&x[t * h..(t + 1) * h]) {
                    *d += v;
                }
            }
            let norm = dot(dst, dst).sqrt().max(1e-12 * len.max(1) as f32);
            let inv = 1.0 / norm;
            for d in dst.iter_mut() {
                *d *= inv;
            }
            start += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gelu_matches_the_exact_form() {
        let xs: Vec<f32> = (-500..500).map(|i| i as f32 / 100.0).collect();
        let mut got = xs.clone();
        gelu(&mut got);
        for (&x, &g) in xs.iter().zip(&got) {
            let exact = 0.5 * x as f64 * (1.0 + libm_erf(x as f64 / 2f64.sqrt()));
            assert!(
                (g as f64 - exact).abs() < 2e-6,
                "gelu({x}) = {g}, want {exact}"
            );
        }
    }

    /// erf by its series / continued fraction in f64, for the test only.
    fn libm_erf(x: f64) -> f64 {
        // Series: erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)); converges for |x| ≤ 6 in f64.
        if x.abs() > 6.0 {
            return x.signum();
        }
        let (mut term, mut total, mut n) = (x, x, 0.0);
        while term.abs() > 1e-17 * total.abs().max(1e-300) && n < 400.0 {
            n += 1.0;
            term *= -x * x / n;
            total += term / (2.0 * n + 1.0);
        }
        total * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn exp_is_accurate() {
        // Down to -80: below -87 the input is clamped (e^-87 is already 1.6e-38).
        for i in 0..1600 {
            let x = -(i as f32) / 20.0;
            let want = (x as f64).exp();
            let got = exp_nonpositive(x) as f64;
            assert!(
                // f32 rounding of x · log2(e) alone is ~1e-7 · |x| relative.
                (got - want).abs() <= (1e-6 + 2e-7 * x.abs() as f64) * want + 1e-38,
                "exp({x}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn layer_norm_normalises_each_row() {
        let mut x: Vec<f32> = (0..40).map(|i| (i as f32).sin() * 5.0 + 2.0).collect();
        let res = vec![1.0; 40];
        add_layer_norm(&mut x, &res, &[1.0; 20], &[0.0; 20], 20, 1e-12);
        for row in x.chunks(20) {
            let mean: f32 = row.iter().sum::<f32>() / 20.0;
            let var: f32 = row.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 20.0;
            assert!(
                mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
                "{mean} {var}"
            );
        }
    }

    #[test]
    fn attention_of_one_token_is_its_value() {
        // One item of one token: softmax over a single score is 1, so ctx = v.
        let h = 4;
        let qkv: Vec<f32> = (0..3 * h).map(|i| i as f32).collect();
        let mut ctx = vec![0.0; h];
        attention(&qkv, &[1], 2, &mut ctx, &mut Vec::new());
        assert_eq!(ctx, vec![8.0, 9.0, 10.0, 11.0]);
    }

    #[test]
    fn attention_fast_path_matches_the_plain_loops() {
        // Two items (3 and 18 tokens: a partial and a second block of 16 scores), 2 heads of 32.
        let (heads, h, lens) = (2, 64, [3usize, 18]);
        let n: usize = lens.iter().sum();
        let qkv: Vec<f32> = (0..n * 3 * h)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
            .collect();
        let mut fast = vec![0.0; n * h];
        attention(&qkv, &lens, heads, &mut fast, &mut Vec::new());
        // The plain loops, in f64.
        let mut start = 0;
        for &len in &lens {
            for hd in 0..heads {
                for i in 0..len {
                    let q = &qkv[(start + i) * 3 * h + hd * 32..][..32];
                    let s: Vec<f64> = (0..len)
                        .map(|j| {
                            let k = &qkv[(start + j) * 3 * h + h + hd * 32..][..32];
                            q.iter().zip(k).map(|(a, b)| (a * b) as f64).sum::<f64>() / 32f64.sqrt()
                        })
                        .collect();
                    let m = s.iter().cloned().fold(f64::MIN, f64::max);
                    let e: Vec<f64> = s.iter().map(|v| (v - m).exp()).collect();
                    let t: f64 = e.iter().sum();
                    for d in 0..32 {
                        let want: f64 = (0..len)
                            .map(|j| {
                                e[j] / t * qkv[(start + j) * 3 * h + 2 * h + hd * 32 + d] as f64
                            })
                            .sum();
                        let got = fast[(start + i) * h + hd * 32 + d] as f64;
                        assert!(
                            (got - want).abs() < 1e-5,
                            "item at {start}, row {i}, dim {d}: {got} vs {want}"
                        );
                    }
                }
            }
            start += len;
        }
    }

    #[test]
    fn min_max_handles_tails() {
        let x: Vec<f32> = (0..37).map(|i| (i as f32 - 18.0) * 0.5).collect();
        assert_eq!(min_max(&x), (-9.0, 9.0));
        assert_eq!(min_max(&[]), (0.0, 0.0));
    }
}
