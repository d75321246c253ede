//! u8 × i8 → i32 matrix multiply for the int8 encoder, with the dequantizing epilogue fused.
//!
//! Weights are quantized once at load, symmetric per output channel, and packed for
//! `vpdpbusd` (AVX512-VNNI): one 64-column panel at a time, four consecutive `k` bytes of
//! each column side by side, so the kernel streams each panel linearly. Activations are
//! quantized per row (token) at run time, asymmetric u8 with a zero point; the zero point is
//! corrected with each column's weight sum in i32, so the integer part is exact and only the
//! two scales round.
//!
//! The AVX512 kernel is chosen at run time; [`Kernel::Portable`] computes the same integers
//! in plain Rust, for machines without VNNI and as the reference the tests compare against.

/// Columns per packed panel: four 16-lane registers.
const NR: usize = 64;
/// Rows per microkernel call: 6 × 4 accumulators + 4 weight registers + 1 broadcast fit the
/// 32 vector registers.
const MR: usize = 6;

/// Which integer kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX512-VNNI (`vpdpbusd` on 512-bit registers).
    Avx512Vnni,
    /// Plain Rust; slow, exact, everywhere.
    Portable,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vnni")
            {
                return Kernel::Avx512Vnni;
            }
        }
        Kernel::Portable
    }
}

/// A weight matrix `[n, k]` (rows are output channels, as in a PyTorch `Linear`), quantized and
/// packed, with its bias.
pub struct PackedWeights {
    /// Output channels and input features of the original matrix.
    pub n: usize,
    pub k: usize,
    /// `k` rounded up to a multiple of 4 (the packed depth).
    kp: usize,
    /// Panels of `kp / 4` groups of `NR × 4` bytes.
    data: Vec<i8>,
    /// Per channel, padded to whole panels: Σ_k w (for the zero-point correction), scale, bias.
    col_sum: Vec<i32>,
    scale: Vec<f32>,
    bias: Vec<f32>,
}

impl PackedWeights {
    /// Quantizes `w` (`[n, k]`, row-major f32) per output channel and packs it.
    pub fn new(w: &[f32], bias: &[f32], n: usize, k: usize) -> Self {
        assert_eq!(w.len(), n * k, "weight shape");
        assert_eq!(bias.len(), n, "bias shape");
        let kp = k.div_ceil(4) * 4;
        let np = n.div_ceil(NR) * NR;
        let mut q = vec![0i8; np * kp];
        let mut col_sum = vec![0i32; np];
        let mut scale = vec![0f32; np];
        let mut padded_bias = vec![0f32; np];
        for c in 0..n {
            let row = &w[c * k..(c + 1) * k];
            let max = row.iter().fold(0f32, |m, &x| m.max(x.abs()));
            let s = if max > 0.0 { max / 127.0 } else { 1.0 };
            scale[c] = s;
            padded_bias[c] = bias[c];
            for (j, &x) in row.iter().enumerate() {
                let v = (x / s).round().clamp(-127.0, 127.0) as i8;
                q[c * kp + j] = v;
                col_sum[c] += v as i32;
            }
        }
        // Panel p, group g, column c (0..NR), byte b: w[p*NR + c][4g + b].
        let mut data = vec![0i8; np * kp];
        for p in 0..np / NR {
            for g in 0..kp / 4 {
                let base = (p * (kp / 4) + g) * NR * 4;
                for c in 0..NR {
                    for b in 0..4 {
                        data[base + c * 4 + b] = q[(p * NR + c) * kp + 4 * g + b];
                    }
                }
            }
        }
        Self {
            n,
            k,
            kp,
            data,
            col_sum,
            scale,
            bias: padded_bias,
        }
    }

    fn panels(&self) -> usize {
        self.col_sum.len() / NR
    }

    /// Bytes held, for memory accounting.
    pub fn bytes(&self) -> usize {
        self.data.len() + self.col_sum.len() * 12
    }
}

/// Rows of activations quantized to u8, with each row's scale and zero point.
#[derive(Default)]
pub struct QuantRows {
    rows: usize,
    kp: usize,
    data: Vec<u8>,
    scale: Vec<f32>,
    zero: Vec<i32>,
}

impl QuantRows {
    /// Quantizes `x` (`rows × k`, row-major) in place of what this held, reusing its buffers,
    /// vectorised when `kernel` is the AVX512 one (the encoder's, checked once at load).
    pub fn quantize(&mut self, kernel: Kernel, x: &[f32], rows: usize, k: usize) {
        assert_eq!(x.len(), rows * k, "activation shape");
        let kp = k.div_ceil(4) * 4;
        self.rows = rows;
        self.kp = kp;
        self.data.clear();
        self.data.resize(rows * kp, 0);
        self.scale.resize(rows, 0.0);
        self.zero.resize(rows, 0);
        #[cfg(target_arch = "x86_64")]
        if k.is_multiple_of(16) && kernel == Kernel::Avx512Vnni {
            for r in 0..rows {
                // SAFETY: `Kernel::Avx512Vnni` comes from `detect` (AVX512F/BW/VNNI present); the row
                // is k = 16·j floats.
                let (s, zp) = unsafe {
                    avx512::quantize_row(
                        &x[r * k..(r + 1) * k],
                        &mut self.data[r * kp..(r + 1) * kp],
                    )
                };
                self.scale[r] = s;
                self.zero[r] = zp;
            }
            return;
        }
        for r in 0..rows {
            let row = &x[r * k..(r + 1) * k];
            let (lo, hi) = super::ops::min_max(row);
            // The range holds 0 so that padding bytes (zero point) stand for exactly 0.
            let (lo, hi) = (lo.min(0.0), hi.max(0.0));
            let s = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
            let zp = (-lo / s).round().clamp(0.0, 255.0);
            self.scale[r] = s;
            self.zero[r] = zp as i32;
            let inv = 1.0 / s;
            let out = &mut self.data[r * kp..(r + 1) * kp];
            for (o, &v) in out.iter_mut().zip(row) {
                *o = (v * inv + zp).round().clamp(0.0, 255.0) as u8;
            }
            out[k..].fill(zp as u8);
        }
    }
}

/// What the epilogue applies after dequantizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Epilogue {
    /// `+ bias`.
    Bias,
    /// `+ bias`, then GELU (erf form).
    BiasGelu,
}

/// `out[r][c] = epilogue(Σ_k x[r][k] · w[c][k])` for every row of `a`; `out` is `rows × n`.
pub fn matmul(
    kernel: Kernel,
    a: &QuantRows,
    w: &PackedWeights,
    out: &mut [f32],
    epilogue: Epilogue,
) {
    assert_eq!(a.kp, w.kp, "depth mismatch");
    assert_eq!(out.len(), a.rows * w.n, "output shape");
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512Vnni => {
            // SAFETY: `Kernel::Avx512Vnni` is only constructed by `detect`, after checking the
            // CPU has every feature the kernel is compiled for (or by tests that check too).
            unsafe { avx512::matmul(a, w, out, epilogue == Epilogue::BiasGelu) }
        }
        _ => {
            portable(a, w, out);
            if epilogue == Epilogue::BiasGelu {
                super::ops::gelu(out);
            }
        }
    }
}

/// The reference: the same integers, one at a time.
fn portable(a: &QuantRows, w: &PackedWeights, out: &mut [f32]) {
    let groups = w.kp / 4;
    for p in 0..w.panels() {
        let panel = &w.data[p * groups * NR * 4..(p + 1) * groups * NR * 4];
        for r in 0..a.rows {
            let row = &a.data[r * a.kp..(r + 1) * a.kp];
            for c in 0..NR {
                let col = p * NR + c;
                if col >= w.n {
                    break;
                }
                let mut acc = 0i32;
                for g in 0..groups {
                    for b in 0..4 {
                        acc += row[4 * g + b] as i32 * panel[(g * NR + c) * 4 + b] as i32;
                    }
                }
                let v = (acc - a.zero[r] * w.col_sum[col]) as f32;
                out[r * w.n + col] = v * a.scale[r] * w.scale[col] + w.bias[col];
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::{PackedWeights, QuantRows, MR, NR};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn matmul(a: &QuantRows, w: &PackedWeights, out: &mut [f32], gelu: bool) {
        // Panels outer: one panel (kp × 64 bytes, 24 KiB at k = 384) stays in L1 while every
        // row block streams past it.
        for p in 0..w.panels() {
            let mut r = 0;
            while r < a.rows {
                let m = (a.rows - r).min(MR);
                match m {
                    6 => block::<6>(a, w, out, p, r, gelu),
                    5 => block::<5>(a, w, out, p, r, gelu),
                    4 => block::<4>(a, w, out, p, r, gelu),
                    3 => block::<3>(a, w, out, p, r, gelu),
                    2 => block::<2>(a, w, out, p, r, gelu),
                    _ => block::<1>(a, w, out, p, r, gelu),
                }
                r += m;
            }
        }
    }

    /// Quantizes one row (`x.len()` a multiple of 16) into `out` (u8, zero point padding
    /// after it); returns its scale and zero point.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn quantize_row(x: &[f32], out: &mut [u8]) -> (f32, i32) {
        let mut lo = _mm512_setzero_ps();
        let mut hi = _mm512_setzero_ps();
        for c in x.chunks_exact(16) {
            let v = _mm512_loadu_ps(c.as_ptr());
            lo = _mm512_min_ps(lo, v);
            hi = _mm512_max_ps(hi, v);
        }
        // Starting from 0 keeps 0 in the range, as the scalar path does.
        let (lo, hi) = (_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi));
        let s = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
        let zp = (-lo / s).round().clamp(0.0, 255.0);
        let inv = _mm512_set1_ps(1.0 / s);
        let zpv = _mm512_set1_ps(zp);
        let (min, max) = (_mm512_setzero_si512(), _mm512_set1_epi32(255));
        for (i, c) in x.chunks_exact(16).enumerate() {
            let v = _mm512_fmadd_ps(_mm512_loadu_ps(c.as_ptr()), inv, zpv);
            let q = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(v), min), max);
            _mm_storeu_si128(
                out.as_mut_ptr().add(16 * i) as *mut _,
                _mm512_cvtepi32_epi8(q),
            );
        }
        out[x.len()..].fill(zp as u8);
        (s, zp as i32)
    }

    /// GELU (erf form) of 16 lanes; the same formulas as `ops::gelu`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn gelu16(x: __m512) -> __m512 {
        let one = _mm512_set1_ps(1.0);
        let z = _mm512_mul_ps(x, _mm512_set1_ps(std::f32::consts::FRAC_1_SQRT_2));
        let a = _mm512_abs_ps(z);
        let t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(0.327_591_1), a, one));
        let mut poly = _mm512_set1_ps(1.061_405_4);
        for c in [-1.453_152_1f32, 1.421_413_7, -0.284_496_74, 0.254_829_6] {
            poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(c));
        }
        poly = _mm512_mul_ps(poly, t);
        let e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(a, a)));
        let erf_abs = _mm512_fnmadd_ps(poly, e, one);
        // erf is odd: give |erf| the sign of z.
        let sign = _mm512_and_si512(_mm512_castps_si512(z), _mm512_set1_epi32(i32::MIN));
        let erf = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(erf_abs), sign));
        _mm512_mul_ps(
            _mm512_mul_ps(_mm512_set1_ps(0.5), x),
            _mm512_add_ps(one, erf),
        )
    }

    /// e^x for x ≤ 0, as `ops::exp_nonpositive`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(in crate::model::int8) unsafe fn exp16(x: __m512) -> __m512 {
        let t = _mm512_mul_ps(
            _mm512_max_ps(x, _mm512_set1_ps(-87.0)),
            _mm512_set1_ps(std::f32::consts::LOG2_E),
        );
        let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(t);
        let f = _mm512_mul_ps(_mm512_sub_ps(t, n), _mm512_set1_ps(std::f32::consts::LN_2));
        let mut p = _mm512_set1_ps(1.0 / 720.0);
        for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0f32] {
            p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c));
        }
        _mm512_scalef_ps(p, n)
    }

    /// Rows `r..r + M` times panel `p`, dequantized into `out`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    unsafe fn block<const M: usize>(
        a: &QuantRows,
        w: &PackedWeights,
        out: &mut [f32],
        p: usize,
        r: usize,
        gelu: bool,
    ) {
        let groups = w.kp / 4;
        let panel = w.data.as_ptr().add(p * groups * NR * 4);
        let rows: [*const u8; M] = std::array::from_fn(|i| a.data.as_ptr().add((r + i) * a.kp));
        let mut acc = [[_mm512_setzero_si512(); 4]; M];
        for g in 0..groups {
            let b = panel.add(g * NR * 4);
            let b0 = _mm512_loadu_si512(b as *const _);
            let b1 = _mm512_loadu_si512(b.add(64) as *const _);
            let b2 = _mm512_loadu_si512(b.add(128) as *const _);
            let b3 = _mm512_loadu_si512(b.add(192) as *const _);
            for i in 0..M {
                let x = _mm512_set1_epi32((rows[i].add(4 * g) as *const i32).read_unaligned());
                acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], x, b0);
                acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], x, b1);
                acc[i][2] = _mm512_dpbusd_epi32(acc[i][2], x, b2);
                acc[i][3] = _mm512_dpbusd_epi32(acc[i][3], x, b3);
            }
        }
        let n = w.n;
        for (i, acc) in acc.iter().enumerate() {
            let zero = _mm512_set1_epi32(a.zero[r + i]);
            let scale = _mm512_set1_ps(a.scale[r + i]);
            let dst = out.as_mut_ptr().add((r + i) * n);
            for (j, &v) in acc.iter().enumerate() {
                let col = p * NR + j * 16;
                if col >= n {
                    break;
                }
                let sum = _mm512_loadu_si512(w.col_sum.as_ptr().add(col) as *const _);
                let ws = _mm512_loadu_ps(w.scale.as_ptr().add(col));
                let bias = _mm512_loadu_ps(w.bias.as_ptr().add(col));
                let exact = _mm512_sub_epi32(v, _mm512_mullo_epi32(zero, sum));
                let y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), _mm512_mul_ps(scale, ws), bias);
                let y = if gelu { gelu16(y) } else { y };
                // A last, partial group of 16 only happens when n is not a multiple of 16.
                let left = n - col;
                if left >= 16 {
                    _mm512_storeu_ps(dst.add(col), y);
                } else {
                    _mm512_mask_storeu_ps(dst.add(col), (1u16 << left) - 1, y);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_quantize_matches_the_scalar_one() {
        if Kernel::detect() != Kernel::Avx512Vnni {
            return;
        }
        let mut seed = 3u64;
        let x: Vec<f32> = (0..5 * 48).map(|_| lcg(&mut seed) * 4.0 + 0.5).collect();
        let mut fast = QuantRows::default();
        fast.quantize(Kernel::Avx512Vnni, &x, 5, 48);
        // k = 47 is not a multiple of 16, so it takes the scalar path; compare the shared part.
        let x47: Vec<f32> = x.chunks(48).flat_map(|r| r[..47].to_vec()).collect();
        let mut slow = QuantRows::default();
        slow.quantize(Kernel::Avx512Vnni, &x47, 5, 47);
        for r in 0..5 {
            let (a, b) = (
                &fast.data[r * 48..r * 48 + 47],
                &slow.data[r * 48..r * 48 + 47],
            );
            // Scales can differ when the dropped 48th value was the row's extreme.
            if fast.scale[r] == slow.scale[r] {
                let off = a.iter().zip(b).filter(|(x, y)| x.abs_diff(**y) > 1).count();
                assert_eq!(off, 0, "row {r}");
            }
        }
    }

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
    }

    fn case(rows: usize, n: usize, k: usize) -> (QuantRows, PackedWeights, Vec<f32>, Vec<f32>) {
        let mut seed = (rows * 1000 + n * 10 + k) as u64;
        let x: Vec<f32> = (0..rows * k).map(|_| lcg(&mut seed) * 3.0).collect();
        let w: Vec<f32> = (0..n * k).map(|_| lcg(&mut seed) * 0.1).collect();
        let b: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
        let mut a = QuantRows::default();
        a.quantize(Kernel::detect(), &x, rows, k);
        (a, PackedWeights::new(&w, &b, n, k), x, w)
    }

    #[test]
    fn vnni_kernel_matches_the_portable_one() {
        if Kernel::detect() != Kernel::Avx512Vnni {
            eprintln!("no AVX512-VNNI here: only the portable kernel runs");
            return;
        }
        // Odd shapes on purpose: row tails of every size, a partial panel, k not a multiple of 4.
        for (rows, n, k) in [(1, 64, 384), (13, 1152, 384), (7, 40, 30), (23, 100, 1536)] {
            let (a, w, _, _) = case(rows, n, k);
            let mut fast = vec![0f32; rows * n];
            let mut slow = vec![0f32; rows * n];
            matmul(Kernel::Avx512Vnni, &a, &w, &mut fast, Epilogue::Bias);
            matmul(Kernel::Portable, &a, &w, &mut slow, Epilogue::Bias);
            for (f, s) in fast.iter().zip(&slow) {
                // Same integers; only the order of two f32 multiplies differs.
                assert!((f - s).abs() <= 1e-5 * s.abs().max(1.0), "{f} vs {s}");
            }
        }
    }

    #[test]
    fn quantized_product_is_close_to_the_f32_one() {
        let (rows, n, k) = (9, 70, 384);
        let (a, w, x, wf) = case(rows, n, k);
        let mut out = vec![0f32; rows * n];
        matmul(Kernel::detect(), &a, &w, &mut out, Epilogue::Bias);
        let mut seed = (rows * 1000 + n * 10 + k) as u64;
        // Regenerate the bias exactly as `case` drew it.
        for _ in 0..rows * k + n * k {
            lcg(&mut seed);
        }
        let b: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
        let (mut err, mut norm) = (0f64, 0f64);
        for r in 0..rows {
            for c in 0..n {
                let exact: f32 = (0..k).map(|j| x[r * k + j] * wf[c * k + j]).sum::<f32>() + b[c];
                err += ((out[r * n + c] - exact) as f64).powi(2);
                norm += (exact as f64).powi(2);
            }
        }
        let rel = (err / norm).sqrt();
        assert!(rel < 0.01, "relative error {rel}");
    }

    #[test]
    fn zero_rows_and_zero_weights_are_safe() {
        let mut a = QuantRows::default();
        a.quantize(Kernel::detect(), &[0.0; 8], 2, 4);
        let w = PackedWeights::new(&[0.0; 12], &[1.0, 2.0, 3.0], 3, 4);
        let mut out = vec![9f32; 6];
        matmul(Kernel::detect(), &a, &w, &mut out, Epilogue::Bias);
        assert_eq!(out, vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    }
}
