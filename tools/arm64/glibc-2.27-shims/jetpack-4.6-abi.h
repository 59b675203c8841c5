// Force-included (-include) into every translation unit of the linux-arm64 addon build. Debian 12's cross
// toolchain is GCC 12 on glibc 2.36; JetPack 4.6 (Ubuntu 18.04) has glibc 2.27 and libstdc++ GLIBCXX_3.4.25.
// Without these, GCC 12's headers make the addon import three symbols those libraries do not have, and it
// fails to load on a Jetson. tools/arm64/jetpack-abi-check.mjs checks the result.
#ifndef EMOFLEET_JETPACK_46_ABI_H
#define EMOFLEET_JETPACK_46_ABI_H
#ifdef __cplusplus
#include <new>

// GLIBCXX_3.4.30 re-exported condition_variable::wait; the implementation behind GLIBCXX_3.4.11 is the
// same function, and it is the version Ubuntu 18.04's libstdc++ has.
__asm__(".symver _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE,"
        "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");

// GLIBCXX_3.4.29: thrown by GCC 12's allocators for impossible array sizes. Declared inline (and hidden)
// before any library header declares it, so every use binds to this local copy.
namespace std {
[[noreturn]] inline __attribute__((visibility("hidden"))) void __throw_bad_array_new_length() {
  throw bad_array_new_length();
}
}  // namespace std
#endif
#endif
