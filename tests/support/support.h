/* tests/support/support.h - helpers shared by the unit tests (host code, libc allowed). */
#ifndef RVM_TEST_SUPPORT_H
#define RVM_TEST_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/*
 * Path of a file under the shared test data (RVM_TESTDATA, default
 * ../shared/testdata next to the checkout). Returns NULL, after printing a
 * clear "test data absent" line, when the file is not there; callers then skip().
 */
const char *rvm_test_data(const char *relpath);
/* Reads a whole file into a malloc'd buffer (NUL-terminated); NULL on failure. */
char *rvm_test_read_file(const char *path, size_t *len);
/* Decodes hex into out; returns the byte count or -1 on bad hex / overflow. */
long rvm_test_unhex(const char *hex, uint8_t *out, size_t cap);
/* Deterministic PRNG for property tests (splitmix64). */
uint64_t rvm_test_rand(uint64_t *state);
void rvm_test_fill(uint64_t *state, void *buf, size_t n);

#endif
