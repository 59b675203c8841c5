#include "detector_error.hpp"

namespace emofleet {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadCfg: return "EMOFLEET_BAD_CFG";
    case ErrorCode::BadWeights: return "EMOFLEET_BAD_WEIGHTS";
    case ErrorCode::BadFrame: return "EMOFLEET_BAD_FRAME";
    case ErrorCode::BadArgument: return "EMOFLEET_BAD_ARGUMENT";
    case ErrorCode::Unsupported: return "EMOFLEET_UNSUPPORTED";
    case ErrorCode::Internal: return "EMOFLEET_INTERNAL";
  }
  return "EMOFLEET_INTERNAL";
}

}  // namespace emofleet
