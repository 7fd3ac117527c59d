/* platform/qemu-virt/bootargs.h - the boot arguments (QEMU's -append): words and their values. */
#ifndef RVM_QEMU_BOOTARGS_H
#define RVM_QEMU_BOOTARGS_H

#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>

/*
 * Where word (e.g. "rvm.twin", or "rvm.run-ms=" with its value after it) starts among the
 * space-separated arguments args, or NULL. A word ending in '=' matches any value after it; a
 * word without one matches only the whole argument.
 */
const char *rvm_bootargs_find(const char *args, const char *word);

/*
 * The decimal value of "word=N" (word ends in '=') into *out. RVM_E_NOTFOUND: absent (*out
 * untouched); RVM_E_MALFORMED: the value is not a plain decimal number (empty, signed, other
 * characters); RVM_E_RANGE: a number outside min..max. Only RVM_OK writes *out.
 */
enum rvm_err rvm_bootargs_u32(const char *args, const char *word, uint32_t min, uint32_t max,
			      uint32_t *out);

/*
 * Copies the value of "word=..." (up to the next space) into out for messages, NUL-terminated,
 * cut to cap - 4 characters and "..." when longer. cap >= 4. Empty when absent.
 */
void rvm_bootargs_value(const char *args, const char *word, char *out, size_t cap);

#endif
