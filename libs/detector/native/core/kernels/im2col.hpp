// Unrolling input patches into GEMM columns.
#pragma once

#include <cstddef>

#include "../network_spec.hpp"

namespace emofleet {

struct PatchGeometry {
  Shape input;
  int size = 1;
  int stride = 1;
  int padding = 0;
  int outHeight = 0;
  int outWidth = 0;
};

/**
 * Writes rows k = (c - firstChannel, ky, kx) for channels [firstChannel, firstChannel + channels) and output
 * positions [firstColumn, firstColumn + columns) into `out` (row length `columns`); outside the input is 0.
 */
void im2colTile(const float* input, const PatchGeometry& geometry, int firstChannel, int channels, size_t firstColumn,
                size_t columns, float* out);

}  // namespace emofleet
