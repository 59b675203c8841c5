// Darknet .cfg text split into sections of key=value options, each remembering its line number.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace emofleet {

struct CfgOption {
  std::string value;
  int line = 0;
};

struct CfgSection {
  std::string type;  // "convolutional", "net", ... (without brackets)
  int line = 0;      // line of the [header]
  std::map<std::string, CfgOption> options;
};

/**
 * Splits cfg text the way darknet's read_cfg does: whitespace inside a line is ignored, lines starting with
 * '#' or ';' are comments, `[type]` opens a section, `key=value` adds an option to the open section.
 * Throws DetectorError(BadCfg) with `cfg:<line>: ...` for anything else.
 */
std::vector<CfgSection> splitCfgSections(const std::string& text);

/** Typed option access with darknet's defaults; errors name the cfg line. */
class SectionOptions {
 public:
  explicit SectionOptions(const CfgSection& section) : section_(section) {}

  int integer(const std::string& key, int fallback) const;
  float number(const std::string& key, float fallback) const;
  std::string text(const std::string& key, const std::string& fallback) const;
  std::vector<int> integerList(const std::string& key) const;
  std::vector<float> numberList(const std::string& key) const;
  bool has(const std::string& key) const { return section_.options.count(key) != 0; }
  /** Throws BadCfg `cfg:<line of key or section>: <message>`. */
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  const CfgSection& section_;
};

}  // namespace emofleet
