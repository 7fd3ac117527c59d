/* lib/sha256_detect.c - picks the fastest SHA-256 block function the CPU offers. */
#include <rvm/sha256.h>

/*
 * Accelerated implementations register here as they are added (SHA-NI on
 * x86-64, the ARMv8 crypto extension on AArch64); until the CPU is known to
 * support one, the portable code is the answer.
 */
const struct rvm_sha256_impl *rvm_sha256_detect(void)
{
	return rvm_sha256_portable();
}
