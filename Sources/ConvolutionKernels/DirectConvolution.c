// Direct convolution kernels: the plain reference loops first, then the fast ones, which
// keep a tile of outputs (forward: 4 pixels × 16 filters; weight gradient: 4 window elements
// × 16 filters) in registers while they run over the window (forward) or the pixels (weight
// gradient). The tile sizes are compile-time constants, so the compiler unrolls the tile's
// loops into vector registers: 8 accumulators of 8 floats with AVX2, each step two vector
// loads, four broadcasts and eight fused multiply-adds.
//
// Swift cannot compile one function for AVX2 and pick it at run time; C can, so the same body
// is built twice (portable, and AVX2 + FMA on x86-64) and chosen per call by the processor.
#include "ConvolutionKernels.h"

#include <string.h>

#define INLINE static inline __attribute__((always_inline))

// Output pixels per forward tile, and window elements per weight-gradient tile (at most 6).
#define TILE_PIXELS 6
#define TILE_ELEMENTS 6

static int clamp(int value, int low, int high) { return value < low ? low : value > high ? high : value; }

void ft_direct_conv_pad(const float *image, int height, int width, int channels, int pad_top, int pad_left,
                        int padded_height, int padded_width, float *padded) {
    // Each padded row: zeros, the part of the image row that lands inside, zeros. A negative
    // pad crops (a stride-1 input gradient pads the output gradient by K − 1 − pad).
    const int first = clamp(pad_left, 0, padded_width), end = clamp(pad_left + width, 0, padded_width);
    for (int py = 0; py < padded_height; py++) {
        float *row = padded + py * padded_width * channels;
        const int iy = py - pad_top;
        if (iy < 0 || iy >= height) {
            memset(row, 0, sizeof(float) * padded_width * channels);
            continue;
        }
        memset(row, 0, sizeof(float) * first * channels);
        memcpy(row + first * channels, image + (iy * width + first - pad_left) * channels,
               sizeof(float) * (end - first) * channels);
        memset(row + end * channels, 0, sizeof(float) * (padded_width - end) * channels);
    }
}

void ft_direct_conv_unpad(const float *padded, int padded_height, int padded_width, int channels, int pad_top,
                          int pad_left, int height, int width, int accumulate, float *image) {
    for (int iy = 0; iy < height; iy++)
        for (int ix = 0; ix < width; ix++) {
            const int py = iy + pad_top, px = ix + pad_left;
            const int inside = py < padded_height && px < padded_width;
            const float *from = padded + (py * padded_width + px) * channels;
            float *to = image + (iy * width + ix) * channels;
            for (int c = 0; c < channels; c++) to[c] = (accumulate ? to[c] : 0.0f) + (inside ? from[c] : 0.0f);
        }
}

void ft_direct_conv_forward_reference(const float *padded, const float *weight_t, const float *bias,
                                      ft_direct_conv_shape s, int accumulate, float *out) {
    const int C = s.channels, K = s.kernel, F = s.filters, row = s.padded_width * C;
    for (int oy = 0; oy < s.out_height; oy++)
        for (int ox = 0; ox < s.out_width; ox++)
            for (int f = 0; f < F; f++) {
                float *to = out + (oy * s.out_width + ox) * F + f;
                float sum = accumulate ? *to : bias ? bias[f] : 0.0f;
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++)
                        for (int c = 0; c < C; c++)
                            sum += padded[(oy * s.stride + ky) * row + (ox * s.stride + kx) * C + c]
                                 * weight_t[((ky * K + kx) * C + c) * F + f];
                *to = sum;
            }
}

void ft_direct_conv_weight_gradient_reference(const float *padded, const float *dout, ft_direct_conv_shape s,
                                              int accumulate, float *dweight_t) {
    const int C = s.channels, K = s.kernel, F = s.filters, row = s.padded_width * C;
    for (int ky = 0; ky < K; ky++)
        for (int kx = 0; kx < K; kx++)
            for (int c = 0; c < C; c++)
                for (int f = 0; f < F; f++) {
                    float sum = 0;
                    for (int oy = 0; oy < s.out_height; oy++)
                        for (int ox = 0; ox < s.out_width; ox++)
                            sum += padded[(oy * s.stride + ky) * row + (ox * s.stride + kx) * C + c]
                                 * dout[(oy * s.out_width + ox) * F + f];
                    float *to = dweight_t + ((ky * K + kx) * C + c) * F + f;
                    *to = (accumulate ? *to : 0.0f) + sum;
                }
}

void ft_direct_conv_input_gradient_reference(const float *dout, const float *weight, ft_direct_conv_shape s,
                                             float *dpadded) {
    const int C = s.channels, K = s.kernel, F = s.filters, row = s.padded_width * C;
    for (int oy = 0; oy < s.out_height; oy++)
        for (int ox = 0; ox < s.out_width; ox++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++)
                    for (int c = 0; c < C; c++) {
                        float sum = 0;
                        for (int f = 0; f < F; f++)
                            sum += dout[(oy * s.out_width + ox) * F + f] * weight[((f * K + ky) * K + kx) * C + c];
                        dpadded[(oy * s.stride + ky) * row + (ox * s.stride + kx) * C + c] += sum;
                    }
}

// ---- Forward: TP pixels along a row × TF filters from f0. ----

// The window is walked as one loop over its K·K·C elements, element e at offset[e] from the
// window's first float, so that the accumulators stay in registers from the first element to
// the last (a loop per kernel row made the compiler store and reload them at every row).
INLINE void forward_tile(const float *padded, const float *weight_t, const float *bias, ft_direct_conv_shape s,
                         int accumulate, const int *offset, float *out, int oy, int ox, int f0, const int TP,
                         const int TF) {
    const int F = s.filters, window = s.kernel * s.kernel * s.channels;
    const int row = s.padded_width * s.channels, step = s.stride * s.channels;
    float *o = out + (oy * s.out_width + ox) * F + f0;
    float acc[6][16];
    for (int p = 0; p < TP; p++)
        for (int j = 0; j < TF; j++) acc[p][j] = accumulate ? o[p * F + j] : bias ? bias[f0 + j] : 0.0f;
    const float *in = padded + oy * s.stride * row + ox * step;
    const float *w = weight_t + f0;
    for (int e = 0; e < window; e++)
        for (int p = 0; p < TP; p++) {
            const float v = in[p * step + offset[e]];
            for (int j = 0; j < TF; j++) acc[p][j] += v * w[e * F + j];
        }
    for (int p = 0; p < TP; p++)
        for (int j = 0; j < TF; j++) o[p * F + j] = acc[p][j];
}

INLINE void forward_filters(const float *padded, const float *weight_t, const float *bias, ft_direct_conv_shape s,
                            int accumulate, const int *offset, float *out, int oy, int ox, const int TP) {
    int f0 = 0;
    for (; f0 + 16 <= s.filters; f0 += 16) forward_tile(padded, weight_t, bias, s, accumulate, offset, out, oy, ox, f0, TP, 16);
    if (f0 + 8 <= s.filters) { forward_tile(padded, weight_t, bias, s, accumulate, offset, out, oy, ox, f0, TP, 8); f0 += 8; }
    if (f0 + 4 <= s.filters) { forward_tile(padded, weight_t, bias, s, accumulate, offset, out, oy, ox, f0, TP, 4); f0 += 4; }
    for (; f0 < s.filters; f0++) forward_tile(padded, weight_t, bias, s, accumulate, offset, out, oy, ox, f0, TP, 1);
}

INLINE void forward_body(const float *padded, const float *weight_t, const float *bias, ft_direct_conv_shape s,
                         int accumulate, float *out) {
    const int span = s.kernel * s.channels, window = s.kernel * span, row = s.padded_width * s.channels;
    int offset[window];
    for (int e = 0; e < window; e++) offset[e] = e / span * row + e % span;
    for (int oy = 0; oy < s.out_height; oy++) {
        int ox = 0;
        for (; ox + TILE_PIXELS <= s.out_width; ox += TILE_PIXELS)
            forward_filters(padded, weight_t, bias, s, accumulate, offset, out, oy, ox, TILE_PIXELS);
        // The row's last pixels as one tile of their own.
        switch (s.out_width - ox) {
        case 5: forward_filters(padded, weight_t, bias, s, accumulate, offset, out, oy, ox, 5); break;
        case 4: forward_filters(padded, weight_t, bias, s, accumulate, offset, out, oy, ox, 4); break;
        case 3: forward_filters(padded, weight_t, bias, s, accumulate, offset, out, oy, ox, 3); break;
        case 2: forward_filters(padded, weight_t, bias, s, accumulate, offset, out, oy, ox, 2); break;
        case 1: forward_filters(padded, weight_t, bias, s, accumulate, offset, out, oy, ox, 1); break;
        default: break;
        }
    }
}

// ---- Weight gradient: TE window elements from e0 × TF filters from f0, over every pixel. ----

INLINE void weight_tile(const float *padded, const float *dout, ft_direct_conv_shape s, int accumulate,
                        float *dweight_t, int e0, int f0, const int TE, const int TF) {
    const int F = s.filters, span = s.kernel * s.channels, row = s.padded_width * s.channels;
    const int step = s.stride * s.channels;
    // Where each element (ky, kx, c) of the tile lies from its window's first float.
    int offset[6];
    for (int i = 0; i < TE; i++) offset[i] = (e0 + i) / span * row + (e0 + i) % span;
    float acc[6][16];
    for (int i = 0; i < TE; i++)
        for (int j = 0; j < TF; j++) acc[i][j] = 0.0f;
    for (int oy = 0; oy < s.out_height; oy++) {
        const float *in_row = padded + oy * s.stride * row;
        const float *d = dout + oy * s.out_width * F + f0;
        for (int ox = 0; ox < s.out_width; ox++) {
            const float *in = in_row + ox * step;
            for (int i = 0; i < TE; i++) {
                const float v = in[offset[i]];
                for (int j = 0; j < TF; j++) acc[i][j] += v * d[ox * F + j];
            }
        }
    }
    for (int i = 0; i < TE; i++)
        for (int j = 0; j < TF; j++) {
            float *to = dweight_t + (e0 + i) * F + f0 + j;
            *to = (accumulate ? *to : 0.0f) + acc[i][j];
        }
}

INLINE void weight_filters(const float *padded, const float *dout, ft_direct_conv_shape s, int accumulate,
                           float *dweight_t, int e0, const int TE) {
    int f0 = 0;
    for (; f0 + 16 <= s.filters; f0 += 16) weight_tile(padded, dout, s, accumulate, dweight_t, e0, f0, TE, 16);
    if (f0 + 8 <= s.filters) { weight_tile(padded, dout, s, accumulate, dweight_t, e0, f0, TE, 8); f0 += 8; }
    if (f0 + 4 <= s.filters) { weight_tile(padded, dout, s, accumulate, dweight_t, e0, f0, TE, 4); f0 += 4; }
    for (; f0 < s.filters; f0++) weight_tile(padded, dout, s, accumulate, dweight_t, e0, f0, TE, 1);
}

INLINE void weight_body(const float *padded, const float *dout, ft_direct_conv_shape s, int accumulate,
                        float *dweight_t) {
    const int window = s.kernel * s.kernel * s.channels;
    int e0 = 0;
    for (; e0 + TILE_ELEMENTS <= window; e0 += TILE_ELEMENTS)
        weight_filters(padded, dout, s, accumulate, dweight_t, e0, TILE_ELEMENTS);
    // The last elements as one tile: each tile is a pass over dout.
    switch (window - e0) {
    case 5: weight_filters(padded, dout, s, accumulate, dweight_t, e0, 5); break;
    case 4: weight_filters(padded, dout, s, accumulate, dweight_t, e0, 4); break;
    case 3: weight_filters(padded, dout, s, accumulate, dweight_t, e0, 3); break;
    case 2: weight_filters(padded, dout, s, accumulate, dweight_t, e0, 2); break;
    case 1: weight_filters(padded, dout, s, accumulate, dweight_t, e0, 1); break;
    default: break;
    }
}

// ---- Input gradient: TP pixels along a row × TC channels from c0 of one kernel element. ----

// The sums over the filters stay in registers (TP × TC), then go to their places in dpadded;
// windows that overlap (stride below K) add there one tile after another.
INLINE void input_tile(const float *dout, const float *weight, ft_direct_conv_shape s, float *dpadded, int oy, int ox,
                       int tap, int c0, const int TP, const int TC) {
    const int C = s.channels, F = s.filters, window = s.kernel * s.kernel * C;
    const int ky = tap / s.kernel, kx = tap % s.kernel;
    float acc[6][16];
    for (int p = 0; p < TP; p++)
        for (int j = 0; j < TC; j++) acc[p][j] = 0.0f;
    const float *d = dout + (oy * s.out_width + ox) * F;
    const float *w = weight + tap * C + c0;
    for (int f = 0; f < F; f++)
        for (int p = 0; p < TP; p++) {
            const float v = d[p * F + f];
            for (int j = 0; j < TC; j++) acc[p][j] += v * w[f * window + j];
        }
    float *to = dpadded + ((oy * s.stride + ky) * s.padded_width + ox * s.stride + kx) * C + c0;
    for (int p = 0; p < TP; p++)
        for (int j = 0; j < TC; j++) to[p * s.stride * C + j] += acc[p][j];
}

INLINE void input_channels(const float *dout, const float *weight, ft_direct_conv_shape s, float *dpadded, int oy,
                           int ox, const int TP) {
    const int window = s.kernel * s.kernel;
    for (int tap = 0; tap < window; tap++) {
        int c0 = 0;
        for (; c0 + 16 <= s.channels; c0 += 16) input_tile(dout, weight, s, dpadded, oy, ox, tap, c0, TP, 16);
        if (c0 + 8 <= s.channels) { input_tile(dout, weight, s, dpadded, oy, ox, tap, c0, TP, 8); c0 += 8; }
        if (c0 + 4 <= s.channels) { input_tile(dout, weight, s, dpadded, oy, ox, tap, c0, TP, 4); c0 += 4; }
        for (; c0 < s.channels; c0++) input_tile(dout, weight, s, dpadded, oy, ox, tap, c0, TP, 1);
    }
}

INLINE void input_body(const float *dout, const float *weight, ft_direct_conv_shape s, float *dpadded) {
    for (int oy = 0; oy < s.out_height; oy++) {
        int ox = 0;
        for (; ox + TILE_PIXELS <= s.out_width; ox += TILE_PIXELS) input_channels(dout, weight, s, dpadded, oy, ox, TILE_PIXELS);
        switch (s.out_width - ox) {
        case 5: input_channels(dout, weight, s, dpadded, oy, ox, 5); break;
        case 4: input_channels(dout, weight, s, dpadded, oy, ox, 4); break;
        case 3: input_channels(dout, weight, s, dpadded, oy, ox, 3); break;
        case 2: input_channels(dout, weight, s, dpadded, oy, ox, 2); break;
        case 1: input_channels(dout, weight, s, dpadded, oy, ox, 1); break;
        default: break;
        }
    }
}

// ---- The two builds and the choice between them. ----

static void forward_portable(const float *padded, const float *weight_t, const float *bias, ft_direct_conv_shape s,
                             int accumulate, float *out) {
    // Two copies, each with `accumulate` a constant, keep its test out of the tiles.
    if (accumulate) forward_body(padded, weight_t, bias, s, 1, out);
    else forward_body(padded, weight_t, bias, s, 0, out);
}

static void weight_portable(const float *padded, const float *dout, ft_direct_conv_shape s, int accumulate,
                            float *dweight_t) {
    weight_body(padded, dout, s, accumulate, dweight_t);
}

static void input_portable(const float *dout, const float *weight, ft_direct_conv_shape s, float *dpadded) {
    input_body(dout, weight, s, dpadded);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void input_avx2(const float *dout, const float *weight, ft_direct_conv_shape s, float *dpadded) {
    input_body(dout, weight, s, dpadded);
}

__attribute__((target("avx2,fma")))
static void forward_avx2(const float *padded, const float *weight_t, const float *bias, ft_direct_conv_shape s,
                         int accumulate, float *out) {
    // Two copies, each with `accumulate` a constant, keep its test out of the tiles.
    if (accumulate) forward_body(padded, weight_t, bias, s, 1, out);
    else forward_body(padded, weight_t, bias, s, 0, out);
}

__attribute__((target("avx2,fma")))
static void weight_avx2(const float *padded, const float *dout, ft_direct_conv_shape s, int accumulate,
                        float *dweight_t) {
    weight_body(padded, dout, s, accumulate, dweight_t);
}
#endif

int ft_direct_conv_uses_avx2(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

void ft_direct_conv_forward(const float *padded, const float *weight_t, const float *bias,
                            ft_direct_conv_shape shape, int accumulate, float *out) {
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) { forward_avx2(padded, weight_t, bias, shape, accumulate, out); return; }
#endif
    forward_portable(padded, weight_t, bias, shape, accumulate, out);
}

void ft_direct_conv_weight_gradient(const float *padded, const float *dout, ft_direct_conv_shape shape,
                                    int accumulate, float *dweight_t) {
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) { weight_avx2(padded, dout, shape, accumulate, dweight_t); return; }
#endif
    weight_portable(padded, dout, shape, accumulate, dweight_t);
}

void ft_direct_conv_input_gradient(const float *dout, const float *weight, ft_direct_conv_shape shape,
                                   float *dpadded) {
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) { input_avx2(dout, weight, shape, dpadded); return; }
#endif
    input_portable(dout, weight, shape, dpadded);
}
