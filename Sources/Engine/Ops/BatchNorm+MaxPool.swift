import ConvolutionKernels

/// Batchnorm, ReLU and 2 × 2 max pooling at stride 2 in one op, the block that ends each stage
/// of a small convolutional network (`PlanBuilder.batchNormReLUMaxPool`). Three separate ops
/// pass over the full-size image eight times (the normalised image written, read by the
/// pooling, its gradient written by the pooling's backward and read twice by batchnorm's);
/// here forward writes the pooled image and, per pooled value, which pixel of its window held
/// the maximum and that pixel's input. Backward's sums then read pooled-size arrays only, and
/// its one full-size pass reads the input and writes the input's gradient.
///
/// The computation is that of the three ops: the output is the window's max of relu(y), which
/// is relu(max y); the gradient goes to the window's first pixel (rows, then columns) whose y is
/// the maximum, and only where that maximum passed the ReLU. Each window's four pixels are one
/// loop over the channels, which vectorises. The sums backward needs are taken per row of
/// windows and added in row order, so they do not depend on the thread count.
extension BatchNormOp {
    /// Over a range of rows of windows (sample n, pooled row oy, numbered n · pooled rows + oy):
    /// forward's normalisation and pooling, or one of backward's passes. The full-size passes
    /// are C kernels (BatchNormMaxPool.c).
    func runPooled(_ windowRows: Range<Int>, part: Part) {
        guard let width = maxPoolWidth else { return }
        let c = channels, pooledWidth = width / 2, mean = self.mean, rstd = self.rstd
        for windowRow in windowRows {
            // The window row's first pixel: sample n's rows start at n · height · width, and the
            // window rows' inputs follow each other (height = 2 · pooled rows).
            let inputRow = windowRow * 2 * width * c, pooledRow = windowRow * pooledWidth * c
            let top = input.data + inputRow, best = output.data + pooledRow
            let position = maxPosition + pooledRow, maxInput = self.maxInput + pooledRow
            switch part {
            case .normalizeAndPool:
                ft_batchnorm_relu_maxpool_forward(top, Int32(width), Int32(c), scale, shift, best, position, maxInput)
            case .pooledSumsOfOutputGradient:
                // Σdout and Σdout·x̂ over the pixels that got a gradient: one per window.
                let g = output.grad! + pooledRow
                let slot = partials + windowRow * 2 * c, other = slot + c
                for j in 0..<(2 * c) { slot[j] = 0 }
                ft_batchnorm_pooled_gradient_sums(g, best, maxInput, Int32(pooledWidth), Int32(c), mean, rstd, slot, other)
            case .pooledTrainingInputGradient, .pooledEvaluationInputGradient:
                guard let dinp = input.grad else { return }
                let coefficients = ft_batchnorm_coefficients(weight: weight.value, mean: mean, rstd: rstd, mean_gradient: sumA,
                                                             mean_gradient_times_normalized: sumB)
                ft_batchnorm_relu_maxpool_input_gradient(top, output.grad! + pooledRow, best, position, Int32(width), Int32(c),
                                                         coefficients, part == .pooledTrainingInputGradient ? 1 : 0,
                                                         assignsInputGradient ? 0 : 1, dinp + inputRow)
            default:
                return
            }
        }
    }
}
