#include "im2col.hpp"

#include <algorithm>
#include <cstring>

namespace emofleet {
namespace {

// Smallest ox with ox*stride + shift >= 0 and largest with ox*stride + shift < limit, clipped to [0, outWidth).
void validRange(int shift, int stride, int limit, int outWidth, int& first, int& last) {
  first = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
  last = limit - 1 - shift < 0 ? -1 : (limit - 1 - shift) / stride;
  first = std::min(first, outWidth);
  last = std::min(last, outWidth - 1);
}

}  // namespace

void im2colTile(const float* input, const PatchGeometry& g, int firstChannel, int channels, size_t firstColumn,
                size_t columns, float* out) {
  const int inH = g.input.height;
  const int inW = g.input.width;
  const size_t inPlane = g.input.plane();
  const size_t lastColumn = firstColumn + columns;
  size_t row = 0;
  for (int c = 0; c < channels; ++c) {
    const float* plane = input + static_cast<size_t>(firstChannel + c) * inPlane;
    for (int ky = 0; ky < g.size; ++ky) {
      for (int kx = 0; kx < g.size; ++kx, ++row) {
        float* dst = out + row * columns;
        int first = 0;
        int last = 0;
        validRange(kx - g.padding, g.stride, inW, g.outWidth, first, last);
        size_t column = firstColumn;
        while (column < lastColumn) {
          const int oy = static_cast<int>(column / static_cast<size_t>(g.outWidth));
          const int oxStart = static_cast<int>(column % static_cast<size_t>(g.outWidth));
          const int oxEnd = static_cast<int>(std::min<size_t>(static_cast<size_t>(g.outWidth),
                                                              oxStart + (lastColumn - column)));
          const int iy = oy * g.stride - g.padding + ky;
          float* segment = dst + (column - firstColumn);  // segment[0] is output column oxStart
          const int width = oxEnd - oxStart;
          if (iy < 0 || iy >= inH) {
            std::fill(segment, segment + width, 0.f);
          } else {
            const float* src = plane + static_cast<size_t>(iy) * static_cast<size_t>(inW);
            const int validFirst = std::max(first, oxStart);
            const int validLast = std::min(last, oxEnd - 1);
            if (validFirst > validLast) {
              std::fill(segment, segment + width, 0.f);
            } else {
              std::fill(segment, segment + (validFirst - oxStart), 0.f);
              const int shift = kx - g.padding;
              float* valid = segment + (validFirst - oxStart);
              if (g.stride == 1) {
                std::memcpy(valid, src + validFirst + shift,
                            static_cast<size_t>(validLast - validFirst + 1) * sizeof(float));
              } else {
                for (int ox = validFirst; ox <= validLast; ++ox) valid[ox - validFirst] = src[ox * g.stride + shift];
              }
              std::fill(segment + (validLast + 1 - oxStart), segment + width, 0.f);
            }
          }
          column += static_cast<size_t>(oxEnd - oxStart);
        }
      }
    }
  }
}

}  // namespace emofleet
