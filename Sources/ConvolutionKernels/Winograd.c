// Winograd F(2×2, 3×3) for stride-1 3 × 3 convolutions with one pixel of zero padding (Lavin
// and Gray, 2015, "Fast Algorithms for Convolutional Neural Networks"). Each 2 × 2 block of
// output pixels (a tile) comes from the 4 × 4 input pixels around it:
//
//     Y = Aᵀ [ Σ over input channels (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// with g a filter's 3 × 3 kernel for one input channel, d the tile's 4 × 4 input pixels of that
// channel, and
//
//     Bᵀ = [1  0 −1  0]     G = [ 1    0    0 ]     Aᵀ = [1  1  1  0]
//          [0  1  1  0]         [ 1/2  1/2  1/2]          [0  1 −1 −1]
//          [0 −1  1  0]         [ 1/2 −1/2  1/2]
//          [0  1  0 −1]         [ 0    0    1 ]
//
// The sum over channels at each of the 16 positions ξ of the 4 × 4 transformed tile is a matrix
// product, (tiles × C) · (C × F), which the caller hands to sgemm: 16 products of C·F per tile,
// where the window needs 36 (2.25 times fewer). The transforms here are additions only and run
// over 8 channels at a time (one AVX vector), NHWC keeping a pixel's channels contiguous.
//
// The plain reference loops first (the matrices above, one product at a time), then the fast
// ones, built twice (portable, and AVX2 + FMA) like DirectConvolution.c.
#include "ConvolutionKernels.h"

#define INLINE static inline __attribute__((always_inline))

// Channels a transform handles at a time: one AVX vector.
#define LANES 8

static const float B_T[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
static const float G[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
static const float A_T[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};

int ft_winograd_tiles(int size) { return (size + 1) / 2; }

// ---- Weights: U (16, F, C) = G g Gᵀ per (filter, channel), computed once a pass. ----

INLINE void weights_body(const float *restrict weight, int channels, int flipped, int first_filter, int end_filter,
                         float *restrict u, long position_stride) {
    const int C = channels;
    for (int f = first_filter; f < end_filter; f++) {
        // The kernel's 9 rows of C channels, in the order the transform reads them.
        const float *restrict g[9];
        for (int k = 0; k < 9; k++) g[k] = weight + ((long)f * 9 + (flipped ? 8 - k : k)) * C;
        float *restrict to = u + (long)f * C;
        // Over the channels, each a lane: contiguous in the weights and in U alike.
        for (int c = 0; c < C; c++) {
            float t[4][3];
            // G g: rows g0, (g0 + g1 + g2) / 2, (g0 − g1 + g2) / 2, g2; then the same on columns.
            for (int j = 0; j < 3; j++) {
                const float g0 = g[j][c], g1 = g[3 + j][c], g2 = g[6 + j][c];
                t[0][j] = g0;
                t[1][j] = 0.5f * (g0 + g1 + g2);
                t[2][j] = 0.5f * (g0 - g1 + g2);
                t[3][j] = g2;
            }
            for (int i = 0; i < 4; i++) {
                to[(4 * i + 0) * position_stride + c] = t[i][0];
                to[(4 * i + 1) * position_stride + c] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                to[(4 * i + 2) * position_stride + c] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                to[(4 * i + 3) * position_stride + c] = t[i][2];
            }
        }
    }
}

void ft_winograd_weights_reference(const float *weight, int channels, int filters, int flipped, float *u) {
    for (int f = 0; f < filters; f++)
        for (int c = 0; c < channels; c++) {
            float g[3][3], t[4][3];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    const int y = flipped ? 2 - ky : ky, x = flipped ? 2 - kx : kx;
                    g[ky][kx] = weight[((f * 3 + y) * 3 + x) * channels + c];
                }
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++) t[i][j] = G[i][0] * g[0][j] + G[i][1] * g[1][j] + G[i][2] * g[2][j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    u[((long)(i * 4 + j) * filters + f) * channels + c] =
                        t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
        }
}

// ---- The plain reference: each transform as the matrix products it is. ----

// The input pixel at (y, x) of sample n, channel c, or 0 outside the image.
static float pixel(const float *input, ft_winograd_shape s, int n, int y, int x, int c) {
    if (y < 0 || y >= s.height || x < 0 || x >= s.width) return 0;
    return input[((n * s.height + y) * s.width + x) * s.channels + c];
}

void ft_winograd_input_transform_reference(const float *input, ft_winograd_shape s, int first_row, int end_row,
                                           float *v) {
    const int tiles_h = ft_winograd_tiles(s.height), tiles_w = ft_winograd_tiles(s.width);
    const int tiles = (end_row - first_row) * tiles_w, C = s.channels;
    for (int r = first_row; r < end_row; r++)
        for (int tx = 0; tx < tiles_w; tx++) {
            const int n = r / tiles_h, ty = r % tiles_h, t = (r - first_row) * tiles_w + tx;
            for (int c = 0; c < C; c++) {
                float d[4][4], bd[4][4];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) d[i][j] = pixel(input, s, n, 2 * ty - 1 + i, 2 * tx - 1 + j, c);
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) {
                        bd[i][j] = 0;
                        for (int k = 0; k < 4; k++) bd[i][j] += B_T[i][k] * d[k][j];
                    }
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) {
                        float sum = 0;
                        for (int k = 0; k < 4; k++) sum += bd[i][k] * B_T[j][k];  // (Bᵀ d) B
                        v[((i * 4 + j) * tiles + t) * C + c] = sum;
                    }
            }
        }
}

void ft_winograd_output_transform_reference(const float *m, ft_winograd_shape s, const float *bias, int first_row,
                                            int end_row, int accumulate, float *out) {
    const int tiles_h = ft_winograd_tiles(s.height), tiles_w = ft_winograd_tiles(s.width);
    const int tiles = (end_row - first_row) * tiles_w, F = s.channels;
    for (int r = first_row; r < end_row; r++)
        for (int tx = 0; tx < tiles_w; tx++) {
            const int n = r / tiles_h, ty = r % tiles_h, t = (r - first_row) * tiles_w + tx;
            for (int f = 0; f < F; f++) {
                float am[2][4];
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 4; j++) {
                        am[i][j] = 0;
                        for (int k = 0; k < 4; k++) am[i][j] += A_T[i][k] * m[((k * 4 + j) * tiles + t) * F + f];
                    }
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) {
                        const int y = 2 * ty + i, x = 2 * tx + j;
                        if (y >= s.height || x >= s.width) continue;
                        float sum = 0;
                        for (int k = 0; k < 4; k++) sum += am[i][k] * A_T[j][k];  // (Aᵀ m) A
                        float *to = out + ((n * s.height + y) * s.width + x) * F + f;
                        *to = (accumulate ? *to : bias ? bias[f] : 0.0f) + sum;
                    }
            }
        }
}

// ---- The fast transforms: 8 channels of a tile at a time, in locals the compiler keeps in
// vector registers. Border tiles read zeros for the pixels outside the image. ----

static const float zeros[LANES];

// d (16 × lanes) → v: Bᵀ d B written to the 16 positions, `stride` floats apart.
INLINE void input_tile(const float *const p[16], int lanes, float *v, long stride) {
    float d[16][LANES], t[16][LANES];
    for (int k = 0; k < 16; k++)
        for (int l = 0; l < lanes; l++) d[k][l] = p[k][l];
    // Rows: t = Bᵀ d, then columns: (Bᵀ d) B.
    for (int j = 0; j < 4; j++)
        for (int l = 0; l < lanes; l++) {
            t[0 + j][l] = d[0 + j][l] - d[8 + j][l];
            t[4 + j][l] = d[4 + j][l] + d[8 + j][l];
            t[8 + j][l] = d[8 + j][l] - d[4 + j][l];
            t[12 + j][l] = d[4 + j][l] - d[12 + j][l];
        }
    for (int i = 0; i < 4; i++)
        for (int l = 0; l < lanes; l++) {
            v[(4 * i + 0) * stride + l] = t[4 * i + 0][l] - t[4 * i + 2][l];
            v[(4 * i + 1) * stride + l] = t[4 * i + 1][l] + t[4 * i + 2][l];
            v[(4 * i + 2) * stride + l] = t[4 * i + 2][l] - t[4 * i + 1][l];
            v[(4 * i + 3) * stride + l] = t[4 * i + 1][l] - t[4 * i + 3][l];
        }
}

INLINE void input_transform_body(const float *input, ft_winograd_shape s, int first_row, int end_row, float *v) {
    const int tiles_h = ft_winograd_tiles(s.height), tiles_w = ft_winograd_tiles(s.width);
    const int C = s.channels;
    const long stride = (long)(end_row - first_row) * tiles_w * C;
    for (int r = first_row; r < end_row; r++)
        for (int tx = 0; tx < tiles_w; tx++) {
            const int n = r / tiles_h, ty = r % tiles_h, t = (r - first_row) * tiles_w + tx;
            const float *pixels[16];  // NULL outside the image
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    const int y = 2 * ty - 1 + i, x = 2 * tx - 1 + j;
                    const int inside = y >= 0 && y < s.height && x >= 0 && x < s.width;
                    pixels[i * 4 + j] = inside ? input + ((long)(n * s.height + y) * s.width + x) * C : 0;
                }
            float *to = v + (long)t * C;
            int c = 0;
            for (; c + LANES <= C; c += LANES) {
                const float *p[16];
                for (int k = 0; k < 16; k++) p[k] = pixels[k] ? pixels[k] + c : zeros;
                input_tile(p, LANES, to + c, stride);
            }
            if (c < C) {
                const float *p[16];
                for (int k = 0; k < 16; k++) p[k] = pixels[k] ? pixels[k] + c : zeros;
                input_tile(p, C - c, to + c, stride);
            }
        }
}

// m (16 positions, `stride` floats apart) → the tile's 2 × 2 pixels: Aᵀ m A, plus the bias
// or what `out` holds, at the pixels inside the image (q[k] NULL outside).
INLINE void output_tile(const float *m, long stride, int lanes, const float *bias, int accumulate, float *const q[4]) {
    float t[8][LANES];
    // Rows: t = Aᵀ m (2 × 4), then columns: (Aᵀ m) A (2 × 2).
    for (int j = 0; j < 4; j++)
        for (int l = 0; l < lanes; l++) {
            const float m0 = m[(0 + j) * stride + l], m1 = m[(4 + j) * stride + l];
            const float m2 = m[(8 + j) * stride + l], m3 = m[(12 + j) * stride + l];
            t[j][l] = m0 + m1 + m2;
            t[4 + j][l] = m1 - m2 - m3;
        }
    for (int i = 0; i < 2; i++) {
        float *left = q[2 * i], *right = q[2 * i + 1];
        for (int l = 0; l < lanes; l++) {
            const float y0 = t[4 * i + 0][l] + t[4 * i + 1][l] + t[4 * i + 2][l];
            const float y1 = t[4 * i + 1][l] - t[4 * i + 2][l] - t[4 * i + 3][l];
            const float base = bias ? bias[l] : 0.0f;
            if (left) left[l] = (accumulate ? left[l] : base) + y0;
            if (right) right[l] = (accumulate ? right[l] : base) + y1;
        }
    }
}

INLINE void output_transform_body(const float *m, ft_winograd_shape s, const float *bias, int first_row, int end_row,
                                  int accumulate, float *out) {
    const int tiles_h = ft_winograd_tiles(s.height), tiles_w = ft_winograd_tiles(s.width);
    const int F = s.channels;
    const long stride = (long)(end_row - first_row) * tiles_w * F;
    for (int r = first_row; r < end_row; r++)
        for (int tx = 0; tx < tiles_w; tx++) {
            const int n = r / tiles_h, ty = r % tiles_h, t = (r - first_row) * tiles_w + tx;
            float *pixels[4];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) {
                    const int y = 2 * ty + i, x = 2 * tx + j;
                    pixels[i * 2 + j] = y < s.height && x < s.width ? out + ((long)(n * s.height + y) * s.width + x) * F
                                                                    : 0;
                }
            const float *from = m + (long)t * F;
            int f = 0;
            for (; f + LANES <= F; f += LANES) {
                float *q[4];
                for (int k = 0; k < 4; k++) q[k] = pixels[k] ? pixels[k] + f : 0;
                output_tile(from + f, stride, LANES, bias ? bias + f : 0, accumulate, q);
            }
            if (f < F) {
                float *q[4];
                for (int k = 0; k < 4; k++) q[k] = pixels[k] ? pixels[k] + f : 0;
                output_tile(from + f, stride, F - f, bias ? bias + f : 0, accumulate, q);
            }
        }
}

// ---- The two builds and the choice between them. ----

static void weights_portable(const float *weight, int channels, int flipped, int first, int end, float *u,
                             long stride) {
    weights_body(weight, channels, flipped, first, end, u, stride);
}

static void input_portable(const float *input, ft_winograd_shape s, int first_row, int end_row, float *v) {
    input_transform_body(input, s, first_row, end_row, v);
}

static void output_portable(const float *m, ft_winograd_shape s, const float *bias, int first_row, int end_row,
                            int accumulate, float *out) {
    // Two copies, each with `accumulate` a constant, keep its test out of the lanes.
    if (accumulate) output_transform_body(m, s, bias, first_row, end_row, 1, out);
    else output_transform_body(m, s, bias, first_row, end_row, 0, out);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void weights_avx2(const float *weight, int channels, int flipped, int first, int end, float *u, long stride) {
    weights_body(weight, channels, flipped, first, end, u, stride);
}

__attribute__((target("avx2,fma")))
static void input_avx2(const float *input, ft_winograd_shape s, int first_row, int end_row, float *v) {
    input_transform_body(input, s, first_row, end_row, v);
}

__attribute__((target("avx2,fma")))
static void output_avx2(const float *m, ft_winograd_shape s, const float *bias, int first_row, int end_row,
                        int accumulate, float *out) {
    if (accumulate) output_transform_body(m, s, bias, first_row, end_row, 1, out);
    else output_transform_body(m, s, bias, first_row, end_row, 0, out);
}
#endif

void ft_winograd_weights(const float *weight, int channels, int filters, int flipped, int first_filter,
                         int end_filter, float *u) {
    const long stride = (long)filters * channels;
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) { weights_avx2(weight, channels, flipped, first_filter, end_filter, u, stride); return; }
#endif
    weights_portable(weight, channels, flipped, first_filter, end_filter, u, stride);
}

void ft_winograd_input_transform(const float *input, ft_winograd_shape shape, int first_row, int end_row, float *v) {
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) { input_avx2(input, shape, first_row, end_row, v); return; }
#endif
    input_portable(input, shape, first_row, end_row, v);
}

void ft_winograd_output_transform(const float *m, ft_winograd_shape shape, const float *bias, int first_row,
                                  int end_row, int accumulate, float *out) {
#if defined(__x86_64__)
    if (ft_direct_conv_uses_avx2()) { output_avx2(m, shape, bias, first_row, end_row, accumulate, out); return; }
#endif
    output_portable(m, shape, bias, first_row, end_row, accumulate, out);
}
