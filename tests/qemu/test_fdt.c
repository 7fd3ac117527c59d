/* tests/qemu/test_fdt.c - the board's device tree reader on QEMU's own DTB, and on damaged ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

#include "fdt.h"

static uint8_t *dtb;
static size_t dtb_len;

/* Asks QEMU for the DTB it gives the image (-M virt,...,dumpdtb=FILE). */
static int setup(void **state)
{
	char path[] = "/tmp/rvm-fdt-XXXXXX", cmd[512];
	int fd = mkstemp(path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "qemu-system-aarch64 -M virt,virtualization=on,gic-version=3,dumpdtb=%s "
		 "-cpu cortex-a72 -smp 4 -m 128M -display none >/dev/null 2>&1",
		 path);
	if (system(cmd) != 0) {
		unlink(path);
		return -1;
	}
	dtb = (uint8_t *)rvm_test_read_file(path, &dtb_len);
	unlink(path);
	return dtb ? 0 : -1;
}

static void qemu_dtb(void **state)
{
	struct rvm_fdt_info in;

	(void)state;
	assert_int_equal(rvm_fdt_parse(dtb, dtb_len, &in), RVM_OK);
	assert_int_equal(in.nmem, 1);
	assert_int_equal(in.mem[0].base, 0x40000000u);
	assert_int_equal(in.mem[0].size, 128u << 20);
	assert_int_equal(in.uart_base, 0x09000000u);
	assert_int_equal(in.gic_version, 3);
	assert_int_equal(in.gicd_base, 0x08000000u);
	assert_int_equal(in.gicr_base, 0x080a0000u);
	assert_int_equal(in.ncpus, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(in.mpidr[i], i);
	assert_int_equal(in.psci_smc, 1);
	assert_int_equal(in.timer_hyp_ppi, 10);
	assert_true(in.seed_len >= 32); /* rng-seed (32) + kaslr-seed (8) */
}

static void bad_header(void **state)
{
	struct rvm_fdt_info in;
	uint8_t *copy = malloc(dtb_len);

	(void)state;
	memcpy(copy, dtb, dtb_len);
	assert_int_equal(rvm_fdt_parse(NULL, 0, &in), RVM_E_FORMAT);
	assert_int_equal(rvm_fdt_parse(copy, 39, &in), RVM_E_FORMAT);
	copy[0] ^= 1;
	assert_int_equal(rvm_fdt_parse(copy, dtb_len, &in), RVM_E_FORMAT);
	copy[0] ^= 1;
	/* The blob claims more bytes than the caller lets it read. */
	assert_int_equal(rvm_fdt_parse(copy, dtb_len - 1, &in), RVM_E_MALFORMED);
	copy[11] ^= 0x80; /* off_struct far outside */
	assert_int_equal(rvm_fdt_parse(copy, dtb_len, &in), RVM_E_MALFORMED);
	free(copy);
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Every truncation and thousands of random corruptions: an error or a parse, never a crash
 * or a read outside the buffer (ASan watches the exact-size heap copy). QEMU pads its blob
 * to 1 MiB; the copies here end with the last block, so each one is a few KiB. */
static void damaged(void **state)
{
	uint64_t seed = 9;
	struct rvm_fdt_info in;
	size_t len = be32_at(dtb + 8) + be32_at(dtb + 36); /* end of the structure block */
	uint8_t *compact;

	(void)state;
	if (be32_at(dtb + 12) + be32_at(dtb + 32) > len)
		len = be32_at(dtb + 12) + be32_at(dtb + 32); /* end of the strings block */
	compact = malloc(len);
	memcpy(compact, dtb, len);
	compact[4] = (uint8_t)(len >> 24), compact[5] = (uint8_t)(len >> 16);
	compact[6] = (uint8_t)(len >> 8), compact[7] = (uint8_t)len;
	assert_int_equal(rvm_fdt_parse(compact, len, &in), RVM_OK);
	assert_int_equal(in.ncpus, 4);
	for (int i = 0; i < 4000; i++) {
		uint8_t *copy = malloc(len);
		unsigned flips = 1 + (unsigned)(rvm_test_rand(&seed) % 8);

		memcpy(copy, compact, len);
		for (unsigned k = 0; k < flips; k++) {
			size_t at = (size_t)(rvm_test_rand(&seed) % len);

			copy[at] ^= (uint8_t)(1u << (rvm_test_rand(&seed) % 8));
		}
		(void)rvm_fdt_parse(copy, len, &in);
		free(copy);
	}
	for (size_t cut = 0; cut < len; cut += 7) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, compact, cut);
		assert_int_not_equal(rvm_fdt_parse(copy, cut, &in), RVM_OK);
		free(copy);
	}
	free(compact);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_dtb),
		cmocka_unit_test(bad_header),
		cmocka_unit_test(damaged),
	};

	if (system("command -v qemu-system-aarch64 >/dev/null 2>&1") != 0) {
		printf("SKIP: qemu-system-aarch64 not installed (Debian package "
		       "qemu-system-arm)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, NULL);
}
