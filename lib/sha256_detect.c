/* lib/sha256_detect.c - picks the fastest SHA-256 block function the CPU offers. */
#include "sha256_internal.h"

/*
 * Asks the CPU once per call (cpuid on x86-64, the ID registers on AArch64);
 * the core keeps no global state, so the caller caches the answer
 * (the hosted platform stores it in rvm_platform.sha256).
 */
const struct rvm_sha256_impl *rvm_sha256_detect(void)
{
#if defined(__x86_64__)
	if (rvm_sha256_x86_has_shani())
		return &rvm_sha256_shani_impl;
#elif defined(__aarch64__) && defined(RVM_SHA256_ARMV8_DETECT)
	if (rvm_sha256_armv8())
		return &rvm_sha256_armv8_impl;
#endif
	return rvm_sha256_portable();
}

size_t rvm_sha256_available(const struct rvm_sha256_impl *out[], size_t max)
{
	size_t n = 0;

	if (n < max)
		out[n++] = rvm_sha256_portable();
#if defined(__x86_64__)
	if (n < max && rvm_sha256_x86_has_shani())
		out[n++] = &rvm_sha256_shani_impl;
#elif defined(__aarch64__) && defined(RVM_SHA256_ARMV8_DETECT)
	if (n < max && rvm_sha256_armv8())
		out[n++] = &rvm_sha256_armv8_impl;
#endif
	return n;
}
