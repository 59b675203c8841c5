// Errors the native detector raises: a machine-readable code plus a message that says where.
#pragma once

#include <stdexcept>
#include <string>

namespace emofleet {

enum class ErrorCode {
  BadCfg,       // the .cfg text is malformed or describes an unsupported network
  BadWeights,   // the .weights bytes do not match the cfg
  BadFrame,     // a frame's size/format does not match its description
  BadArgument,  // an option or input tensor is out of range
  Unsupported,  // valid input this build cannot run (e.g. detect() on a net without [region])
  Internal,     // a bug or a failed system call
};

/** The code as JS sees it, e.g. "EMOFLEET_BAD_CFG". */
const char* errorCodeName(ErrorCode code);

class DetectorError : public std::runtime_error {
 public:
  DetectorError(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace emofleet
