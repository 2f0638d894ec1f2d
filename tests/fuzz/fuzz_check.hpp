// FUZZ_CHECK: a property of the code under test that does not hold is a crash, which libFuzzer saves.
#pragma once

#include <cstdio>
#include <cstdlib>

/// Aborts (libFuzzer saves the input as a crash) when a property of the code under test does not hold.
#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
