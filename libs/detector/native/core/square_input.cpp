#include "square_input.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "detector_error.hpp"

namespace emofleet {
namespace {

/** face-api's padToSquare: the padding after the image (round(diff / 2) when centred, all of it otherwise). */
int paddingAfter(int difference, SquarePadding padding) {
  return padding == SquarePadding::Centred ? (difference + 1) / 2 : difference;
}

}  // namespace

void validateInputSpec(const NetworkInputSpec& spec, const Shape& network, const char* what) {
  if (spec.fit == InputFit::Letterbox) return;
  const std::string prefix = std::string(what) + ": ";
  if (network.channels != 3) {
    throw DetectorError(ErrorCode::BadArgument, prefix + "pad-to-square input needs 3 input channels, the cfg has " +
                                                    std::to_string(network.channels));
  }
  if (network.width != network.height) {
    throw DetectorError(ErrorCode::BadArgument,
                        prefix + "pad-to-square input needs a square network input, the cfg has " +
                            std::to_string(network.width) + "x" + std::to_string(network.height));
  }
  for (float mean : spec.mean) {
    if (!std::isfinite(mean)) throw DetectorError(ErrorCode::BadArgument, prefix + "input mean must be finite");
  }
  if (!std::isfinite(spec.scale) || spec.scale == 0) {
    throw DetectorError(ErrorCode::BadArgument, prefix + "input scale must be finite and not 0");
  }
}

const float* SquareInputSampler::paddedRow(int paddedRow) {
  for (int slot = 0; slot < 2; ++slot) {
    if (cachedRow_[slot] == paddedRow) return rows_[slot].data();
  }
  // Rows are requested in increasing order: replace the older one.
  const int slot = cachedRow_[0] <= cachedRow_[1] ? 0 : 1;
  cachedRow_[slot] = paddedRow;
  std::vector<float>& row = rows_[slot];
  const size_t side = static_cast<size_t>(side_);
  row.assign(3 * side, 0.f);
  const int imageRow = paddedRow - padTop_;
  if (imageRow >= 0 && imageRow < region_.height) {
    const size_t width = static_cast<size_t>(region_.width);
    frameRow_.resize(3 * width);
    convertFrameRow(frame_, description_, region_.y + imageRow, region_.x, region_.width, 1.f, frameRow_.data());
    for (size_t k = 0; k < 3; ++k) {
      std::copy(frameRow_.begin() + static_cast<std::ptrdiff_t>(k * width),
                frameRow_.begin() + static_cast<std::ptrdiff_t>((k + 1) * width),
                row.begin() + static_cast<std::ptrdiff_t>(k * side + static_cast<size_t>(padLeft_)));
    }
  }
  return row.data();
}

void SquareInputSampler::run(const uint8_t* frame, const FrameDescription& description, const PixelRect& region,
                             const NetworkInputSpec& spec, float* out) {
  if (region.width <= 0 || region.height <= 0 || region.x < 0 || region.y < 0 ||
      region.x + region.width > description.width || region.y + region.height > description.height) {
    throw DetectorError(ErrorCode::Internal, "square input region outside the frame");
  }
  frame_ = frame;
  description_ = description;
  region_ = region;
  side_ = std::max(region.width, region.height);
  const int difference = std::abs(region.height - region.width);
  const int before = difference - paddingAfter(difference, spec.padding);
  padTop_ = region.height < region.width ? before : 0;
  padLeft_ = region.width < region.height ? before : 0;
  cachedRow_[0] = cachedRow_[1] = -1;

  const int size = network_.width;
  const size_t plane = network_.plane();
  const size_t side = static_cast<size_t>(side_);
  // TF resizeBilinear, align_corners=false, half_pixel_centers=false.
  const float ratio = static_cast<float>(side_) / static_cast<float>(size);
  std::vector<int> left(static_cast<size_t>(size));
  std::vector<int> right(static_cast<size_t>(size));
  std::vector<float> columnFraction(static_cast<size_t>(size));
  for (int c = 0; c < size; ++c) {
    const float source = ratio * static_cast<float>(c);
    const int floorColumn = std::max(0, static_cast<int>(std::floor(source)));
    left[static_cast<size_t>(c)] = floorColumn;
    right[static_cast<size_t>(c)] = std::min(side_ - 1, static_cast<int>(std::ceil(source)));
    columnFraction[static_cast<size_t>(c)] = source - static_cast<float>(floorColumn);
  }
  for (int r = 0; r < size; ++r) {
    const float source = ratio * static_cast<float>(r);
    const int topRow = std::max(0, static_cast<int>(std::floor(source)));
    const int bottomRow = std::min(side_ - 1, static_cast<int>(std::ceil(source)));
    const float rowFraction = source - static_cast<float>(topRow);
    const float* top = paddedRow(topRow);
    const float* bottom = paddedRow(bottomRow);
    for (size_t k = 0; k < 3; ++k) {
      const float* topPlane = top + k * side;
      const float* bottomPlane = bottom + k * side;
      float* dst = out + k * plane + static_cast<size_t>(r) * static_cast<size_t>(size);
      const float mean = spec.mean[k];
      for (size_t c = 0; c < static_cast<size_t>(size); ++c) {
        const size_t l = static_cast<size_t>(left[c]);
        const size_t rt = static_cast<size_t>(right[c]);
        const float fraction = columnFraction[c];
        const float upper = topPlane[l] + (topPlane[rt] - topPlane[l]) * fraction;
        const float lower = bottomPlane[l] + (bottomPlane[rt] - bottomPlane[l]) * fraction;
        dst[c] = (upper + (lower - upper) * rowFraction - mean) * spec.scale;
      }
    }
  }
  frame_ = nullptr;
}

RegionPlacement squarePlacement(int width, int height, const Shape& network, SquarePadding padding) {
  RegionPlacement placement;
  placement.sourceWidth = width;
  placement.sourceHeight = height;
  const int side = std::max(width, height);
  if (padding == SquarePadding::BottomRight) {
    const double toNetwork = static_cast<double>(network.width) / side;
    placement.scaleX = static_cast<float>(std::round(width * toNetwork) / network.width);
    placement.scaleY = static_cast<float>(std::round(height * toNetwork) / network.height);
    return placement;
  }
  const int difference = std::abs(height - width);
  const int before = difference - paddingAfter(difference, padding);
  placement.offsetX = width < height ? static_cast<float>(before) / side : 0.f;
  placement.offsetY = height < width ? static_cast<float>(before) / side : 0.f;
  placement.scaleX = static_cast<float>(width) / side;
  placement.scaleY = static_cast<float>(height) / side;
  return placement;
}

bool clippedCrop(const Box& box, int frameWidth, int frameHeight, PixelRect& crop) {
  const double x = std::max<double>(box.x, 0);
  const double y = std::max<double>(box.y, 0);
  const double width = std::min<double>(static_cast<double>(box.x) + box.width - x, frameWidth - x);
  const double height = std::min<double>(static_cast<double>(box.y) + box.height - y, frameHeight - y);
  if (!std::isfinite(x) || !std::isfinite(y) || !(width >= 1) || !(height >= 1)) return false;
  crop.x = static_cast<int>(std::floor(x));
  crop.y = static_cast<int>(std::floor(y));
  crop.width = static_cast<int>(std::floor(width));
  crop.height = static_cast<int>(std::floor(height));
  return crop.x < frameWidth && crop.y < frameHeight;
}

}  // namespace emofleet
