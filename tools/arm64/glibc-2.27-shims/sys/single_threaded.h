// Shadows glibc 2.32's <sys/single_threaded.h> in the linux-arm64 addon build (-isystem, see
// build-detector.mjs): glibc 2.27 has no __libc_single_threaded, which GCC 12's libstdc++ headers read
// to skip atomic reference counting. This local flag stays 0, so reference counts are always atomic, which
// is what libstdc++ does on a glibc without the variable.
#ifndef EMOFLEET_SINGLE_THREADED_SHADOW_H
#define EMOFLEET_SINGLE_THREADED_SHADOW_H
#define __libc_single_threaded emofleet_libc_single_threaded_never
#ifdef __cplusplus
inline __attribute__((visibility("hidden"))) char emofleet_libc_single_threaded_never = 0;
#endif
#endif
