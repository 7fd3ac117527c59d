/* tools/rvm/logfile.c - key files, log verification and small parsers shared by the witness commands. */
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void rvm_tool_hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = 0;
}

enum rvm_err rvm_tool_key_write(const char *path, const char *kind, const uint8_t *key, size_t n,
				bool secret)
{
	char hex[2 * 64 + 1];
	FILE *f;
	int fd;

	if (n > 64)
		return RVM_E_INVAL;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, secret ? 0600 : 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "rvm: cannot create %s: %s\n", path, strerror(errno));
		return RVM_E_IO;
	}
	rvm_tool_hex(key, n, hex);
	fprintf(f, "%s\n%s\n", kind, hex);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		return RVM_E_IO;
	}
	return fclose(f) == 0 ? RVM_OK : RVM_E_IO;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_hex_line(const char *s, uint8_t *key, size_t n)
{
	size_t len = strcspn(s, "\r\n");

	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

enum rvm_err rvm_tool_key_read(const char *path, const char *kind, uint8_t *key, size_t n)
{
	char line1[64] = "", line2[256] = "";
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f) {
		fprintf(stderr, "rvm: cannot open key file %s: %s\n", path, strerror(errno));
		return RVM_E_IO;
	}
	ok = fgets(line1, sizeof(line1), f) && fgets(line2, sizeof(line2), f);
	fclose(f);
	line1[strcspn(line1, "\r\n")] = 0;
	if (!ok || strcmp(line1, kind) != 0) {
		fprintf(stderr, "rvm: %s: %s: not a %s file (first line '%s')\n", path,
			rvm_err_name(RVM_E_FORMAT), kind, line1);
		return RVM_E_FORMAT;
	}
	if (!parse_hex_line(line2, key, n)) {
		fprintf(stderr, "rvm: %s: %s: expected %zu bytes of hex on line 2\n", path,
			rvm_err_name(RVM_E_MALFORMED), n);
		return RVM_E_MALFORMED;
	}
	return RVM_OK;
}

enum rvm_err rvm_tool_verify_file(const char *path, struct rvm_witness_reader *rd)
{
	static uint8_t buf[1 << 20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0) {
		fprintf(stderr, "rvm: cannot open %s: %s\n", path, strerror(errno));
		return RVM_E_IO;
	}
	while ((got = read(fd, buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fprintf(stderr, "rvm: reading %s: %s\n", path, strerror(errno));
			close(fd);
			return RVM_E_IO;
		}
		if (rvm_witness_reader_feed(rd, buf, (size_t)got) != RVM_OK)
			break;
	}
	close(fd);
	return RVM_OK;
}

int rvm_tool_exit_for(enum rvm_err err)
{
	switch (err) {
	case RVM_OK:
		return 0;
	case RVM_E_TAMPER:
	case RVM_E_BADSIG:
	case RVM_E_CORRUPT:
		return 1;
	default:
		return 2;
	}
}

const char *rvm_tool_chain_name(unsigned chain)
{
	return chain == RVM_CHAIN_SHA256 ? "sha256" : chain == RVM_CHAIN_FNV1A ? "fnv1a64" : "?";
}

const char *rvm_tool_sig_name(unsigned sig)
{
	switch (sig) {
	case RVM_SIG_NONE:
		return "none";
	case RVM_SIG_HMAC_SHA256:
		return "hmac-sha256";
	case RVM_SIG_ED25519:
		return "ed25519";
	default:
		return "?";
	}
}

bool rvm_tool_parse_u64(const char *s, bool allow_units, uint64_t *out)
{
	static const struct { const char *suffix; uint64_t mul; } units[] = {
		{ "", 1 }, { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
	};
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0 || (i && !allow_units))
			continue;
		if (v > UINT64_MAX / units[i].mul)
			return false;
		*out = v * units[i].mul;
		return true;
	}
	return false;
}
