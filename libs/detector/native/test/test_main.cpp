#include <cstring>

#include "test_harness.hpp"

namespace emofleet_test {

namespace {
int failures = 0;
const char* current = "";
}  // namespace

std::vector<TestCase>& registry() {
  static std::vector<TestCase> tests;
  return tests;
}

void recordFailure(const char* file, int line, const std::string& message) {
  ++failures;
  std::cerr << "  FAIL " << current << " (" << file << ":" << line << "): " << message << "\n";
}

}  // namespace emofleet_test

int main(int argc, char** argv) {
  using namespace emofleet_test;
  int ran = 0;
  int failedTests = 0;
  for (const TestCase& test : registry()) {
    if (argc > 1 && std::strstr(test.name, argv[1]) == nullptr) continue;
    current = test.name;
    const int before = failures;
    try {
      test.body();
    } catch (const std::exception& error) {
      recordFailure(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    ++ran;
    if (failures != before) ++failedTests;
    std::cout << (failures == before ? "ok   " : "FAIL ") << test.name << "\n";
  }
  std::cout << ran - failedTests << " passed, " << failedTests << " failed\n";
  return failedTests == 0 ? 0 : 1;
}
