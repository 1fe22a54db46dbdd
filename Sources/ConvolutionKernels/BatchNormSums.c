// Batchnorm's per-channel sums over rows of an NHWC batch (BatchNormOp, in Engine), kept in
// double. In C so that they run on AVX2: Swift's SSE2 build converted two floats to doubles at
// a time, and these passes were compute-bound at a third of the memory's speed.
//
// No multiply-add is fused (FP_CONTRACT off), and each channel's terms are added in row order,
// so the sums are the bits the plain Swift loops gave.
#include "ConvolutionKernels.h"

#pragma STDC FP_CONTRACT OFF

#define INLINE static inline __attribute__((always_inline))

// The pointers are parameters so that `restrict` holds for the vectoriser.
INLINE void centered_row(const float *restrict x, int channels, const float *restrict center, double *restrict sum,
                         double *restrict squares) {
    for (int j = 0; j < channels; j++) {
        const double d = (double)x[j] - (double)center[j];
        sum[j] += d;
        squares[j] += d * d;
    }
}

INLINE void gradient_row(const float *restrict x, const float *restrict dout, const float *restrict out, int channels,
                         const float *restrict mean, const float *restrict rstd, double *restrict sum,
                         double *restrict normalized) {
    for (int j = 0; j < channels; j++) {
        const float g = out ? (out[j] > 0 ? dout[j] : 0.0f) : dout[j];
        sum[j] += (double)g;
        normalized[j] += (double)g * (double)((x[j] - mean[j]) * rstd[j]);
    }
}

INLINE void pooled_row(const float *restrict dout, const float *restrict best, const float *restrict max_input,
                       int channels, const float *restrict mean, const float *restrict rstd, double *restrict sum,
                       double *restrict normalized) {
    for (int j = 0; j < channels; j++) {
        const float g = best[j] > 0 ? dout[j] : 0.0f;
        sum[j] += (double)g;
        normalized[j] += (double)g * (double)((max_input[j] - mean[j]) * rstd[j]);
    }
}

INLINE void centered_body(const float *x, int rows, int channels, const float *center, double *sum, double *squares) {
    for (int r = 0; r < rows; r++) centered_row(x + (long)r * channels, channels, center, sum, squares);
}

INLINE void gradient_body(const float *x, const float *dout, const float *out, int rows, int channels,
                          const float *mean, const float *rstd, double *sum, double *normalized) {
    // Two copies, with and without the ReLU's gate, keep its test out of the loop.
    if (out) {
        for (int r = 0; r < rows; r++) {
            const long o = (long)r * channels;
            gradient_row(x + o, dout + o, out + o, channels, mean, rstd, sum, normalized);
        }
    } else {
        for (int r = 0; r < rows; r++) {
            const long o = (long)r * channels;
            gradient_row(x + o, dout + o, 0, channels, mean, rstd, sum, normalized);
        }
    }
}

INLINE void pooled_body(const float *dout, const float *best, const float *max_input, int values, int channels,
                        const float *mean, const float *rstd, double *sum, double *normalized) {
    for (int r = 0; r < values; r++) {
        const long o = (long)r * channels;
        pooled_row(dout + o, best + o, max_input + o, channels, mean, rstd, sum, normalized);
    }
}

static void centered_portable(const float *x, int rows, int channels, const float *center, double *sum,
                              double *squares) {
    centered_body(x, rows, channels, center, sum, squares);
}

static void gradient_portable(const float *x, const float *dout, const float *out, int rows, int channels,
                              const float *mean, const float *rstd, double *sum, double *normalized) {
    gradient_body(x, dout, out, rows, channels, mean, rstd, sum, normalized);
}

static void pooled_portable(const float *dout, const float *best, const float *max_input, int values, int channels,
                            const float *mean, const float *rstd, double *sum, double *normalized) {
    pooled_body(dout, best, max_input, values, channels, mean, rstd, sum, normalized);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void centered_avx2(const float *x, int rows, int channels, const float *center, double *sum, double *squares) {
    centered_body(x, rows, channels, center, sum, squares);
}

__attribute__((target("avx2,fma")))
static void gradient_avx2(const float *x, const float *dout, const float *out, int rows, int channels,
                          const float *mean, const float *rstd, double *sum, double *normalized) {
    gradient_body(x, dout, out, rows, channels, mean, rstd, sum, normalized);
}

__attribute__((target("avx2,fma")))
static void pooled_avx2(const float *dout, const float *best, const float *max_input, int values, int channels,
                        const float *mean, const float *rstd, double *sum, double *normalized) {
    pooled_body(dout, best, max_input, values, channels, mean, rstd, sum, normalized);
}
#endif

void ft_batchnorm_centered_sums(const float *x, int rows, int channels, const float *center, double *sum,
                                double *squares) {
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) { centered_avx2(x, rows, channels, center, sum, squares); return; }
#endif
    centered_portable(x, rows, channels, center, sum, squares);
}

void ft_batchnorm_gradient_sums(const float *x, const float *dout, const float *out, int rows, int channels,
                                const float *mean, const float *rstd, double *sum, double *normalized) {
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) { gradient_avx2(x, dout, out, rows, channels, mean, rstd, sum, normalized); return; }
#endif
    gradient_portable(x, dout, out, rows, channels, mean, rstd, sum, normalized);
}

void ft_batchnorm_pooled_gradient_sums(const float *dout, const float *best, const float *max_input, int values,
                                       int channels, const float *mean, const float *rstd, double *sum,
                                       double *normalized) {
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) {
        pooled_avx2(dout, best, max_input, values, channels, mean, rstd, sum, normalized);
        return;
    }
#endif
    pooled_portable(dout, best, max_input, values, channels, mean, rstd, sum, normalized);
}
