// A minimal test runner: TEST(name) registers a function; CHECK* record failures with file:line.
#pragma once

#include <cmath>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace emofleet_test {

struct TestCase {
  const char* name;
  std::function<void()> body;
};

std::vector<TestCase>& registry();
void recordFailure(const char* file, int line, const std::string& message);

struct Registrar {
  Registrar(const char* name, std::function<void()> body) { registry().push_back(TestCase{name, std::move(body)}); }
};

}  // namespace emofleet_test

#define EMOFLEET_CONCAT_INNER(a, b) a##b
#define EMOFLEET_CONCAT(a, b) EMOFLEET_CONCAT_INNER(a, b)
#define TEST(name)                                                                                      \
  static void name();                                                                                   \
  static const emofleet_test::Registrar EMOFLEET_CONCAT(registrar_, name)(#name, name);                 \
  static void name()

#define CHECK(condition)                                                                                \
  do {                                                                                                  \
    if (!(condition)) emofleet_test::recordFailure(__FILE__, __LINE__, "CHECK(" #condition ") failed"); \
  } while (0)

#define CHECK_EQ(actual, expected)                                                                      \
  do {                                                                                                  \
    const auto& a_ = (actual);                                                                          \
    const auto& e_ = (expected);                                                                        \
    if (!(a_ == e_)) {                                                                                  \
      std::ostringstream s_;                                                                            \
      s_ << #actual << " == " << a_ << ", expected " << e_;                                             \
      emofleet_test::recordFailure(__FILE__, __LINE__, s_.str());                                       \
    }                                                                                                   \
  } while (0)

#define CHECK_THROWS_CODE(statement, expectedCode, fragment)                                             \
  do {                                                                                                  \
    bool thrown_ = false;                                                                               \
    try {                                                                                               \
      statement;                                                                                        \
    } catch (const emofleet::DetectorError& error_) {                                                   \
      thrown_ = true;                                                                                   \
      if (error_.code() != (expectedCode)) {                                                            \
        emofleet_test::recordFailure(__FILE__, __LINE__, std::string("wrong code: ") + error_.what());   \
      }                                                                                                 \
      if (std::string(error_.what()).find(fragment) == std::string::npos) {                             \
        emofleet_test::recordFailure(__FILE__, __LINE__,                                                \
                                     std::string("message '") + error_.what() + "' lacks '" + (fragment) + "'"); \
      }                                                                                                 \
    }                                                                                                   \
    if (!thrown_) emofleet_test::recordFailure(__FILE__, __LINE__, #statement " did not throw");        \
  } while (0)
