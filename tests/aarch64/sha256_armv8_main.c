/*
 * tests/aarch64/sha256_armv8_main.c - SHA-256 ARMv8 crypto-extension path vs NIST CAVP and the
 * portable code; cross-built static for AArch64 Linux and run under qemu-aarch64 by
 * tests/e2e/sha256_armv8.sh (host code: libc allowed, no cmocka on the cross side).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/sha256.h>

static int failures;

static char *slurp(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;
	long n;
	char *buf;

	snprintf(path, sizeof(path), "%s/crypto/nist-cavp/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	printf("bad hex digit in test data\n");
	exit(2);
}

/* Hex up to the end of the line (no sscanf: it rescans the rest of the buffer each call). */
static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	while (h[0] && h[1] && h[0] != '\r' && h[0] != '\n') {
		out[n++] = (uint8_t)(nibble(h[0]) << 4 | nibble(h[1]));
		h += 2;
	}
	return n;
}

static void hash_both(const struct rvm_sha256_impl *ce, const uint8_t *m, size_t n,
		      const uint8_t want[32], const char *what)
{
	uint8_t a[32], b[32];

	rvm_sha256(ce, m, n, a);
	rvm_sha256(rvm_sha256_portable(), m, n, b);
	if (memcmp(a, want, 32) || memcmp(b, want, 32)) {
		printf("FAIL %s len %zu\n", what, n);
		failures++;
	}
}

/* ShortMsg / LongMsg: "Len = bits", "Msg = hex", "MD = hex". */
static int msg_file(const struct rvm_sha256_impl *ce, const char *dir, const char *name)
{
	char *text = slurp(dir, name), *p;
	static uint8_t msg[8192];
	uint8_t md[32];
	long len = 0;
	int count = 0;

	if (!text)
		return -1;
	for (p = text; (p = strchr(p, '\n')) != NULL;) {
		p++;
		if (!strncmp(p, "Len = ", 6))
			len = strtol(p + 6, NULL, 10);
		else if (!strncmp(p, "Msg = ", 6))
			unhex(p + 6, msg);
		else if (!strncmp(p, "MD = ", 5)) {
			unhex(p + 5, md);
			hash_both(ce, msg, (size_t)len / 8, md, name);
			count++;
		}
	}
	free(text);
	return count;
}

static int monte(const struct rvm_sha256_impl *ce, const char *dir)
{
	char *text = slurp(dir, "SHA256Monte.rsp"), *p;
	uint8_t seed[32], md[3][32], buf[96], want[32];
	int count = 0;

	if (!text || !(p = strstr(text, "Seed = ")))
		return -1;
	unhex(p + 7, seed);
	while ((p = strstr(p, "MD = ")) != NULL) {
		unhex(p + 5, want);
		p += 5;
		memcpy(md[0], seed, 32);
		memcpy(md[1], seed, 32);
		memcpy(md[2], seed, 32);
		for (int i = 3; i < 1003; i++) {
			memcpy(buf, md, 96);
			memmove(md[0], md[1], 64);
			rvm_sha256(ce, buf, 96, md[2]);
		}
		if (memcmp(md[2], want, 32)) {
			printf("FAIL Monte checkpoint %d\n", count);
			failures++;
		}
		memcpy(seed, md[2], 32);
		count++;
	}
	free(text);
	return count;
}

int main(int argc, char **argv)
{
	const struct rvm_sha256_impl *ce = rvm_sha256_armv8();
	static uint8_t m[1025];
	uint64_t x = 88172645463325252ull;
	int s, l, mc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s TESTDATA_DIR\n", argv[0]);
		return 2;
	}
	if (!ce) {
		printf("FAIL: ID_AA64ISAR0_EL1 reports no SHA2 (run under qemu-aarch64 -cpu max)\n");
		return 1;
	}
	if (rvm_sha256_detect() != ce) {
		printf("FAIL: rvm_sha256_detect() did not pick %s\n", ce->name);
		return 1;
	}
	/* every length 0..1024: one-shot and streamed in odd chunks, CE = portable */
	for (size_t n = 0; n <= 1024; n++) {
		uint8_t a[32], b[32];
		struct rvm_sha256 ctx;

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			m[i] = (uint8_t)x;
		}
		rvm_sha256(rvm_sha256_portable(), m, n, a);
		rvm_sha256_init(&ctx, ce);
		for (size_t off = 0; off < n; off += 1 + off % 67)
			rvm_sha256_update(&ctx, m + off, (off + 1 + off % 67 > n) ? n - off : 1 + off % 67);
		rvm_sha256_final(&ctx, b);
		if (memcmp(a, b, 32)) {
			printf("FAIL streamed length %zu\n", n);
			failures++;
		}
	}
	s = msg_file(ce, argv[1], "SHA256ShortMsg.rsp");
	l = msg_file(ce, argv[1], "SHA256LongMsg.rsp");
	mc = monte(ce, argv[1]);
	if (s < 0 || l < 0 || mc < 0) {
		printf("SKIP: NIST CAVP files absent under %s/crypto/nist-cavp\n", argv[1]);
		return failures ? 1 : 77;
	}
	printf("%s: ShortMsg %d, LongMsg %d, Monte %d checkpoints, lengths 0..1024 streamed; "
	       "%d failures\n",
	       ce->name, s, l, mc, failures);
	return failures || s != 65 || l != 64 || mc != 100;
}
