/* platform/qemu-virt/bootargs.c - the boot arguments (QEMU's -append): words and their values. */
#include "bootargs.h"

#include <stdbool.h>

#include <rvm/bytes.h>

/* Whether s starts with the n bytes of word; reads no further than the end of s. */
static bool starts_with(const char *s, const char *word, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] && s[i] == word[i])
		i++;
	return i == n;
}

const char *rvm_bootargs_find(const char *args, const char *word)
{
	size_t n = rvm_strlen(word);
	bool valued = n && word[n - 1] == '=';

	for (const char *a = args; *a; a++)
		if ((a == args || a[-1] == ' ') && starts_with(a, word, n) &&
		    (valued || a[n] == 0 || a[n] == ' '))
			return a;
	return NULL;
}

enum rvm_err rvm_bootargs_u32(const char *args, const char *word, uint32_t min, uint32_t max,
			      uint32_t *out)
{
	const char *a = rvm_bootargs_find(args, word), *v;
	uint64_t n = 0;
	bool big = false;

	if (!a)
		return RVM_E_NOTFOUND;
	v = a + rvm_strlen(word);
	for (a = v; *a >= '0' && *a <= '9'; a++) {
		n = n * 10 + (uint64_t)(*a - '0');
		big |= n > UINT32_MAX; /* stays set: later digits only make it larger */
		if (big)
			n = UINT32_MAX + 1ull;
	}
	if (a == v || (*a != 0 && *a != ' '))
		return RVM_E_MALFORMED;
	if (big || n < min || n > max)
		return RVM_E_RANGE;
	*out = (uint32_t)n;
	return RVM_OK;
}

void rvm_bootargs_value(const char *args, const char *word, char *out, size_t cap)
{
	const char *a = rvm_bootargs_find(args, word);
	size_t len = 0;

	if (a)
		for (a += rvm_strlen(word); a[len] && a[len] != ' '; len++)
			;
	if (len >= cap) {
		rvm_memcpy(out, a, cap - 4);
		rvm_memcpy(out + cap - 4, "...", 4);
		return;
	}
	if (len)
		rvm_memcpy(out, a, len);
	out[len] = 0;
}
