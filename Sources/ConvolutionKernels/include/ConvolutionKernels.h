// Direct convolution for layers with few input channels (an image's first layer: 3 channels,
// a window of 27 values): computed straight from the padded image, with no im2col buffer.
// With so short a window, sgemm spends its time packing and im2col copying 9 floats at a
// time; here each output pixel's filters stay in registers for the whole window.
//
// Layouts: images NHWC, one sample at a time; weights transposed to (K, K, C, F) so that
// the F filters of one window element are contiguous (one vector load); outputs (OH, OW, F).
//
// Below them, the kernels of the batchnorm that follows a convolution: its per-channel sums
// (BatchNormSums.c) and its fused ReLU and 2 × 2 max pooling (BatchNormMaxPool.c).
#ifndef FLOWTRAIN_CONVOLUTION_KERNELS_H
#define FLOWTRAIN_CONVOLUTION_KERNELS_H

/// One sample's convolution over an image already padded with zeros: window (oy, ox) starts
/// at padded pixel (oy·stride, ox·stride).
typedef struct {
    int padded_width;
    int channels;
    int kernel;
    int stride;
    int out_height, out_width;
    int filters;
} ft_direct_conv_shape;

/// Copies an H × W × C image into a padded_h × padded_w × C buffer, `pad_top` rows and
/// `pad_left` columns of zeros before it and zeros wherever the image does not reach; a
/// negative pad leaves out that many of the image's first rows or columns.
void ft_direct_conv_pad(const float *image, int height, int width, int channels, int pad_top, int pad_left,
                        int padded_height, int padded_width, float *padded);

/// The adjoint of ft_direct_conv_pad: image (H × W × C) = (or += with `accumulate`) the part
/// of the padded buffer it was copied to; pixels the buffer does not reach get 0 (or nothing).
void ft_direct_conv_unpad(const float *padded, int padded_height, int padded_width, int channels, int pad_top,
                          int pad_left, int height, int width, int accumulate, float *image);

/// out (OH, OW, F) = bias (or 0 when bias is NULL) + Σ over the window of input · weight;
/// with `accumulate`, out += the sum instead (bias unused). A stride-1 convolution's input
/// gradient is this over the padded output gradient with the kernel flipped.
void ft_direct_conv_forward(const float *padded, const float *weight_t, const float *bias,
                            ft_direct_conv_shape shape, int accumulate, float *out);

/// dweight_t (K·K·C, F) = Σ over output pixels of input window ⊗ dout; with `accumulate`
/// added to what dweight_t holds, else written over it.
void ft_direct_conv_weight_gradient(const float *padded, const float *dout, ft_direct_conv_shape shape,
                                    int accumulate, float *dweight_t);

/// dpadded (the padded image's shape) += each output pixel's window gradient, Σ over filters of
/// dout · weight, added where the window lies: the input gradient at any stride, before the
/// padding is cut off. Weights in their own layout (F, K, K, C).
void ft_direct_conv_input_gradient(const float *dout, const float *weight, ft_direct_conv_shape shape,
                                   float *dpadded);

/// The plain loops the fast kernels are checked against: the formulas, one product at a time.
void ft_direct_conv_forward_reference(const float *padded, const float *weight_t, const float *bias,
                                      ft_direct_conv_shape shape, int accumulate, float *out);
void ft_direct_conv_weight_gradient_reference(const float *padded, const float *dout, ft_direct_conv_shape shape,
                                              int accumulate, float *dweight_t);
void ft_direct_conv_input_gradient_reference(const float *dout, const float *weight, ft_direct_conv_shape shape,
                                             float *dpadded);

/// 1 when the kernels run their AVX2 + FMA build on this processor, 0 for the portable one.
int ft_direct_conv_uses_avx2(void);

/// Batchnorm's per-channel sums over `rows` rows of `channels` values, added to `sum` and the
/// second array (BatchNormSums.c): Σ(x − center) and Σ(x − center)²,
void ft_batchnorm_centered_sums(const float *x, int rows, int channels, const float *center, double *sum,
                                double *squares);
/// Σg and Σg·x̂ with g = dout, or dout where out > 0 when `out` is not NULL (a fused ReLU's
/// output), and x̂ = (x − mean) · rstd,
void ft_batchnorm_gradient_sums(const float *x, const float *dout, const float *out, int rows, int channels,
                                const float *mean, const float *rstd, double *sum, double *normalized);
/// and the same over pooled values (BatchNormMaxPool.c's outputs): g = dout where best > 0, x̂
/// from the maximum's input.
void ft_batchnorm_pooled_gradient_sums(const float *dout, const float *best, const float *max_input, int values,
                                       int channels, const float *mean, const float *rstd, double *sum,
                                       double *normalized);

/// Batchnorm, ReLU and 2 × 2 max pooling at stride 2, one row of windows at a time
/// (BatchNormMaxPool.c). `top` is the window row's first pixel in an image `width` pixels wide
/// (its second row follows at width · channels); pooled arrays hold width / 2 · channels values.

/// best = relu(max over each window of x · scale + shift) per channel; position = the window's
/// first pixel (0…3, rows then columns) holding that maximum, and max_input its input.
void ft_batchnorm_relu_maxpool_forward(const float *top, int width, int channels, const float *scale,
                                       const float *shift, float *best, float *position, float *max_input);

/// Per channel, what batchnorm's input gradient needs: its weight, the mean and 1/√(var + ε) it
/// normalised with, and in training Σdout / N and Σ(dout·x̂) / N over the batch.
typedef struct {
    const float *weight, *mean, *rstd;
    const float *mean_gradient, *mean_gradient_times_normalized;
} ft_batchnorm_coefficients;

/// The window row's input gradient from the pooled gradient dout: each window's gradient goes
/// to its maximum's pixel where the maximum passed the ReLU, then back through batchnorm with
/// the batch's statistics (`training`) or the running ones. Written over dinp, or added to it
/// with `accumulate`.
void ft_batchnorm_relu_maxpool_input_gradient(const float *top, const float *dout, const float *best,
                                              const float *position, int width, int channels,
                                              ft_batchnorm_coefficients coefficients, int training, int accumulate,
                                              float *dinp);

/// Winograd F(2 × 2, 3 × 3) for stride-1 3 × 3 convolutions with one pixel of zero padding
/// on every side (Winograd.c): the output has the input's height and width, and each 2 × 2
/// block of it (a tile) is computed from the 4 × 4 input pixels around it. A batch's tiles
/// are counted in tile rows: row r is tile row r % ⌈H / 2⌉ of sample r / ⌈H / 2⌉, with
/// ⌈W / 2⌉ tiles each; the transforms take a range of rows, T tiles in all.
typedef struct {
    int height, width;
    /// The image's channels: the input's for the input transform, the output's for the output one.
    int channels;
} ft_winograd_shape;

/// ⌈size / 2⌉: the tiles along a side.
int ft_winograd_tiles(int size);

/// u (16, F, C) = G g Gᵀ for every (filter, channel) pair of filters [first_filter,
/// end_filter), from weights (F, 3, 3, C); with `flipped`, each kernel turned by 180° first.
/// The forward multiplies the tiles by U[ξ]ᵀ (C × F); the input gradient, a convolution of the
/// output gradient with the flipped kernels, by U[ξ] (F × C).
void ft_winograd_weights(const float *weight, int channels, int filters, int flipped, int first_filter,
                         int end_filter, float *u);

/// v (16, T, C) = Bᵀ d B for the tiles of rows [first_row, end_row) of an NHWC batch `input`,
/// zeros for the pixels outside the image.
void ft_winograd_input_transform(const float *input, ft_winograd_shape shape, int first_row, int end_row, float *v);

/// The tiles' output pixels (NHWC, `shape.channels` of them each) = bias (or 0 when NULL)
/// + Aᵀ m A, from m (16, T, channels); with `accumulate`, added to what `out` holds instead
/// (bias unused). Pixels past the image's last row or column are left out.
void ft_winograd_output_transform(const float *m, ft_winograd_shape shape, const float *bias, int first_row,
                                  int end_row, int accumulate, float *out);

/// The three transforms as the matrix products they are, for the tests.
void ft_winograd_weights_reference(const float *weight, int channels, int filters, int flipped, float *u);
void ft_winograd_input_transform_reference(const float *input, ft_winograd_shape shape, int first_row, int end_row,
                                           float *v);
void ft_winograd_output_transform_reference(const float *m, ft_winograd_shape shape, const float *bias,
                                            int first_row, int end_row, int accumulate, float *out);

#endif
