#include "cfg_sections.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "detector_error.hpp"

namespace emofleet {
namespace {

[[noreturn]] void failAt(int line, const std::string& message) {
  throw DetectorError(ErrorCode::BadCfg, "cfg:" + std::to_string(line) + ": " + message);
}

std::string withoutWhitespace(const std::string& line) {
  std::string stripped;
  stripped.reserve(line.size());
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\v' && c != '\f') stripped.push_back(c);
  }
  return stripped;
}

bool parseInteger(const std::string& text, int& out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size()) return false;
  if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) return false;
  out = static_cast<int>(value);
  return true;
}

bool parseNumber(const std::string& text, float& out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const float value = std::strtof(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(value)) return false;
  out = value;
  return true;
}

std::vector<std::string> splitCommas(const std::string& text) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == ',') {
      parts.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  parts.push_back(current);
  // darknet tolerates a trailing comma ("1,2,3,")
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();
  return parts;
}

}  // namespace

std::vector<CfgSection> splitCfgSections(const std::string& text) {
  std::vector<CfgSection> sections;
  int lineNumber = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++lineNumber;
    const std::string line = withoutWhitespace(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.find('\0') != std::string::npos) failAt(lineNumber, "NUL byte in cfg text");
    if (line[0] == '[') {
      if (line.back() != ']' || line.size() < 3) failAt(lineNumber, "malformed section header '" + line + "'");
      CfgSection section;
      section.type = line.substr(1, line.size() - 2);
      section.line = lineNumber;
      sections.push_back(std::move(section));
      continue;
    }
    const size_t equals = line.find('=');
    if (equals == std::string::npos || equals == 0) {
      failAt(lineNumber, "expected key=value, got '" + line + "'");
    }
    if (sections.empty()) failAt(lineNumber, "option '" + line + "' before the first [section]");
    CfgOption option{line.substr(equals + 1), lineNumber};
    sections.back().options[line.substr(0, equals)] = option;
  }
  return sections;
}

void SectionOptions::fail(const std::string& key, const std::string& message) const {
  const auto found = section_.options.find(key);
  failAt(found == section_.options.end() ? section_.line : found->second.line,
         "[" + section_.type + "] " + message);
}

int SectionOptions::integer(const std::string& key, int fallback) const {
  const auto found = section_.options.find(key);
  if (found == section_.options.end()) return fallback;
  int value = 0;
  if (!parseInteger(found->second.value, value)) {
    fail(key, key + "='" + found->second.value + "' is not an integer");
  }
  return value;
}

float SectionOptions::number(const std::string& key, float fallback) const {
  const auto found = section_.options.find(key);
  if (found == section_.options.end()) return fallback;
  float value = 0;
  if (!parseNumber(found->second.value, value)) fail(key, key + "='" + found->second.value + "' is not a number");
  return value;
}

std::string SectionOptions::text(const std::string& key, const std::string& fallback) const {
  const auto found = section_.options.find(key);
  return found == section_.options.end() ? fallback : found->second.value;
}

std::vector<int> SectionOptions::integerList(const std::string& key) const {
  std::vector<int> values;
  const auto found = section_.options.find(key);
  if (found == section_.options.end()) return values;
  for (const std::string& part : splitCommas(found->second.value)) {
    int value = 0;
    if (!parseInteger(part, value)) fail(key, key + ": '" + part + "' is not an integer");
    values.push_back(value);
  }
  return values;
}

std::vector<float> SectionOptions::numberList(const std::string& key) const {
  std::vector<float> values;
  const auto found = section_.options.find(key);
  if (found == section_.options.end()) return values;
  for (const std::string& part : splitCommas(found->second.value)) {
    float value = 0;
    if (!parseNumber(part, value)) fail(key, key + ": '" + part + "' is not a number");
    values.push_back(value);
  }
  return values;
}

}  // namespace emofleet
