/* bench/rows_qemu.c - time to the first witness record of the bare-metal image under QEMU. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define QEMU_BOOTS 7

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Paths of the runner and image in this build tree, found from our own executable. */
static int tree_paths(char *runner, char *elf, size_t n)
{
	char exe[PATH_MAX];
	const char *dir;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int a, b;

	if (len <= 0)
		return -1;
	exe[len] = 0;
	dir = dirname(exe); /* rvm-bench lives in BUILD/bench/ */
	a = snprintf(runner, n, "%s/../tests/qemu/rvm-qemu-run", dir);
	b = snprintf(elf, n, "%s/../qemu-virt/platform/qemu-virt/rvm-qemu-virt.elf", dir);
	if (a < 0 || b < 0 || (size_t)a >= n || (size_t)b >= n)
		return -1;
	return access(runner, X_OK) == 0 && access(elf, R_OK) == 0 ? 0 : -1;
}

/*
 * Boots the image QEMU_BOOTS times (one CPU) through the host runner, which
 * measures wall-clock time from launching QEMU until the first witness record
 * has arrived on the host; the image itself reports its own share (from entry).
 * Reports the medians. No peer: QEMU's own start-up is most of the figure.
 */
static void run_first_witness(struct rvm_bench_result *out)
{
	char runner[PATH_MAX], elf[PATH_MAX], cmd[3 * PATH_MAX], line[512],
		dir[] = "/tmp/rvm-bench-qemu-XXXXXX";
	double wall[QEMU_BOOTS], guest[QEMU_BOOTS];
	int ok = 0;

	if (system("command -v qemu-system-aarch64 >/dev/null 2>&1") != 0 ||
	    tree_paths(runner, elf, sizeof(runner)) != 0 || !mkdtemp(dir)) {
		snprintf(out->note, sizeof(out->note), "skipped: QEMU or the image is missing");
		return;
	}
	snprintf(cmd, sizeof(cmd), "'%s' --elf '%s' --out '%s' --smp 1 --quiet", runner, elf, dir);
	for (int i = 0; i < QEMU_BOOTS; i++) {
		FILE *p = popen(cmd, "r");
		double w = -1, g = -1, us;

		while (p && fgets(line, sizeof(line), p)) {
			if (sscanf(line, "rvm-qemu-run: first witness record after %lf ms", &us) ==
			    1)
				w = us;
		}
		if (p)
			pclose(p);
		snprintf(line, sizeof(line), "%s/qemu-console.txt", dir);
		p = fopen(line, "r");
		while (p && fgets(line, sizeof(line), p)) {
			if (sscanf(line, "rvm: first witness record %lf us after entry", &us) == 1)
				g = us / 1e3;
		}
		if (p)
			fclose(p);
		if (w >= 0 && g >= 0) {
			wall[ok] = w;
			guest[ok] = g;
			ok++;
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", dir);
	if (!ok) {
		snprintf(out->note, sizeof(out->note), "failed: no boot reported a first witness");
		return;
	}
	qsort(wall, (size_t)ok, sizeof(double), cmp_double);
	qsort(guest, (size_t)ok, sizeof(double), cmp_double);
	out->ours_ns = wall[ok / 2] * 1e6;
	snprintf(out->note, sizeof(out->note),
		 "median of %d boots: %.1f ms wall from launch (min %.1f), %.1f ms of it in the "
		 "image",
		 ok, wall[ok / 2], wall[0], guest[ok / 2]);
}

RVM_BENCH_ROW(qemu_first_witness, NULL, "< 100 ms from launch", run_first_witness)
