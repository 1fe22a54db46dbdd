// Batchnorm's normalisation, ReLU and 2 × 2 max pooling at stride 2 over one row of windows of
// an NHWC image, and the input's gradient back through them (BatchNormOp's fused pooling, in
// Engine). In C for the reason the convolutions are: Swift compiled the selects of these loops
// into branches, one channel at a time, and cannot build them for AVX2.
//
// No multiply-add is fused (FP_CONTRACT off): forward normalises exactly as batchnorm does
// alone, so the pooled values are the bits of the three ops in a row, and backward finds the
// same maximum.
#include "ConvolutionKernels.h"

#pragma STDC FP_CONTRACT OFF

#define INLINE static inline __attribute__((always_inline))

// One window's channels. The pointers are parameters so that `restrict` holds: the compiler then
// vectorises without checking at run time whether the arrays overlap (its checks failed at 16
// channels, and the loop ran one channel at a time).
INLINE void forward_window(const float *restrict x0, const float *restrict x1, const float *restrict x2,
                           const float *restrict x3, int channels, const float *restrict scale,
                           const float *restrict shift, float *restrict best, float *restrict position,
                           float *restrict max_input) {
    for (int j = 0; j < channels; j++) {
        const float v0 = x0[j], v1 = x1[j], v2 = x2[j], v3 = x3[j];
        const float y0 = v0 * scale[j] + shift[j], y1 = v1 * scale[j] + shift[j];
        const float y2 = v2 * scale[j] + shift[j], y3 = v3 * scale[j] + shift[j];
        const float upper = y1 > y0 ? y1 : y0, lower = y3 > y2 ? y3 : y2, m = lower > upper ? lower : upper;
        best[j] = m > 0 ? m : 0.0f;
        // The first pixel holding the maximum, and its input: selects from the last pixel back,
        // each a blend, then one store (a chain of ?: became masked stores, slow on AMD).
        float p = 3.0f, input = v3;
        p = y2 == m ? 2.0f : p;
        input = y2 == m ? v2 : input;
        p = y1 == m ? 1.0f : p;
        input = y1 == m ? v1 : input;
        p = y0 == m ? 0.0f : p;
        input = y0 == m ? v0 : input;
        position[j] = p;
        max_input[j] = input;
    }
}

INLINE void forward_body(const float *top, int width, int channels, const float *scale, const float *shift,
                         float *best, float *position, float *max_input) {
    const int C = channels;
    for (int ox = 0; ox < width / 2; ox++) {
        // The window's pixels, rows then columns.
        const float *x0 = top + 2 * ox * C;
        forward_window(x0, x0 + C, x0 + width * C, x0 + width * C + C, C, scale, shift, best + ox * C,
                       position + ox * C, max_input + ox * C);
    }
}

// g at the window's pixel `position` where the maximum passed the ReLU (best > 0), else 0.
INLINE float spread(float g, float best, float position, float pixel) {
    return position == pixel && best > 0 ? g : 0.0f;
}

INLINE void gradient_window(const float *restrict x0, const float *restrict x1, const float *restrict x2,
                            const float *restrict x3, const float *restrict g, const float *restrict best,
                            const float *restrict position, int channels, const float *restrict w,
                            const float *restrict mean, const float *restrict rstd, const float *restrict a,
                            const float *restrict bsum, int training, int accumulate, float *restrict d0,
                            float *restrict d1, float *restrict d2, float *restrict d3) {
    for (int j = 0; j < channels; j++) {
        const float g0 = spread(g[j], best[j], position[j], 0), g1 = spread(g[j], best[j], position[j], 1);
        const float g2 = spread(g[j], best[j], position[j], 2), g3 = spread(g[j], best[j], position[j], 3);
        float e0, e1, e2, e3;
        if (training) {
            // w·rstd · (dout − Σdout/N − x̂ · Σ(dout·x̂)/N), as batchnorm writes it.
            e0 = w[j] * rstd[j] * (g0 - a[j] - (x0[j] - mean[j]) * rstd[j] * bsum[j]);
            e1 = w[j] * rstd[j] * (g1 - a[j] - (x1[j] - mean[j]) * rstd[j] * bsum[j]);
            e2 = w[j] * rstd[j] * (g2 - a[j] - (x2[j] - mean[j]) * rstd[j] * bsum[j]);
            e3 = w[j] * rstd[j] * (g3 - a[j] - (x3[j] - mean[j]) * rstd[j] * bsum[j]);
        } else {
            e0 = g0 * w[j] * rstd[j];
            e1 = g1 * w[j] * rstd[j];
            e2 = g2 * w[j] * rstd[j];
            e3 = g3 * w[j] * rstd[j];
        }
        d0[j] = accumulate ? d0[j] + e0 : e0;
        d1[j] = accumulate ? d1[j] + e1 : e1;
        d2[j] = accumulate ? d2[j] + e2 : e2;
        d3[j] = accumulate ? d3[j] + e3 : e3;
    }
}

INLINE void gradient_body(const float *top, const float *dout, const float *best, const float *position, int width,
                          int channels, ft_batchnorm_coefficients k, int training, int accumulate, float *dinp) {
    const int C = channels;
    for (int ox = 0; ox < width / 2; ox++) {
        const float *x0 = top + 2 * ox * C;
        float *d0 = dinp + 2 * ox * C;
        gradient_window(x0, x0 + C, x0 + width * C, x0 + width * C + C, dout + ox * C, best + ox * C,
                        position + ox * C, C, k.weight, k.mean, k.rstd, k.mean_gradient,
                        k.mean_gradient_times_normalized, training, accumulate, d0, d0 + C, d0 + width * C,
                        d0 + width * C + C);
    }
}

// Each flag a constant in its own copy, so that no test stays inside the loop.
INLINE void gradient_cases(const float *top, const float *dout, const float *best, const float *position, int width,
                           int channels, ft_batchnorm_coefficients k, int training, int accumulate, float *dinp) {
    if (training && accumulate) gradient_body(top, dout, best, position, width, channels, k, 1, 1, dinp);
    else if (training) gradient_body(top, dout, best, position, width, channels, k, 1, 0, dinp);
    else if (accumulate) gradient_body(top, dout, best, position, width, channels, k, 0, 1, dinp);
    else gradient_body(top, dout, best, position, width, channels, k, 0, 0, dinp);
}

static void pool_forward_portable(const float *top, int width, int channels, const float *scale, const float *shift,
                             float *best, float *position, float *max_input) {
    forward_body(top, width, channels, scale, shift, best, position, max_input);
}

static void pool_gradient_portable(const float *top, const float *dout, const float *best, const float *position, int width,
                              int channels, ft_batchnorm_coefficients k, int training, int accumulate, float *dinp) {
    gradient_cases(top, dout, best, position, width, channels, k, training, accumulate, dinp);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void pool_forward_avx2(const float *top, int width, int channels, const float *scale, const float *shift,
                         float *best, float *position, float *max_input) {
    forward_body(top, width, channels, scale, shift, best, position, max_input);
}

__attribute__((target("avx2,fma")))
static void pool_gradient_avx2(const float *top, const float *dout, const float *best, const float *position, int width,
                          int channels, ft_batchnorm_coefficients k, int training, int accumulate, float *dinp) {
    gradient_cases(top, dout, best, position, width, channels, k, training, accumulate, dinp);
}
#endif

void ft_batchnorm_relu_maxpool_forward(const float *top, int width, int channels, const float *scale,
                                       const float *shift, float *best, float *position, float *max_input) {
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) { pool_forward_avx2(top, width, channels, scale, shift, best, position, max_input); return; }
#endif
    pool_forward_portable(top, width, channels, scale, shift, best, position, max_input);
}

void ft_batchnorm_relu_maxpool_input_gradient(const float *top, const float *dout, const float *best,
                                              const float *position, int width, int channels,
                                              ft_batchnorm_coefficients coefficients, int training, int accumulate,
                                              float *dinp) {
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) {
        pool_gradient_avx2(top, dout, best, position, width, channels, coefficients, training, accumulate, dinp);
        return;
    }
#endif
    pool_gradient_portable(top, dout, best, position, width, channels, coefficients, training, accumulate, dinp);
}
