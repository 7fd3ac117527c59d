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

/* If line starts with prefix followed by a number, stores the number in *v. */
static int after(const char *line, const char *prefix, double *v)
{
	size_t n = strlen(prefix);
	char *end;

	if (strncmp(line, prefix, n) != 0)
		return 0;
	*v = strtod(line + n, &end);
	return end != line + n;
}

/* Medians over QEMU_BOOTS boots of one configuration. */
struct boots {
	double wall, wall_min, guest;
	int ok;
};

/*
 * Boots the image QEMU_BOOTS times (one CPU) through the host runner, which measures
 * wall-clock time from launching QEMU until the first witness record has arrived on the
 * host; the image reports its own share (from entry). extra: more runner arguments.
 */
static void boot_many(const char *runner, const char *elf, const char *dir, const char *extra,
		      struct boots *b)
{
	char cmd[4 * PATH_MAX], line[512];
	double wall[QEMU_BOOTS], guest[QEMU_BOOTS];

	snprintf(cmd, sizeof(cmd), "'%s' --elf '%s' --out '%s' --smp 1 --quiet %s", runner, elf,
		 dir, extra);
	b->ok = 0;
	for (int i = 0; i < QEMU_BOOTS; i++) {
		FILE *p = popen(cmd, "r");
		double w = -1, g = -1, v;

		while (p && fgets(line, sizeof(line), p)) {
			if (after(line, "rvm-qemu-run: first witness record after ", &v))
				w = v;
		}
		if (p)
			pclose(p);
		snprintf(line, sizeof(line), "%s/qemu-console.txt", dir);
		p = fopen(line, "r");
		while (p && fgets(line, sizeof(line), p)) {
			if (after(line, "rvm: first witness record ", &v))
				g = v / 1e3;
		}
		if (p)
			fclose(p);
		if (w >= 0 && g >= 0) {
			wall[b->ok] = w;
			guest[b->ok] = g;
			b->ok++;
		}
	}
	if (!b->ok)
		return;
	qsort(wall, (size_t)b->ok, sizeof(double), cmp_double);
	qsort(guest, (size_t)b->ok, sizeof(double), cmp_double);
	b->wall = wall[b->ok / 2];
	b->wall_min = wall[0];
	b->guest = guest[b->ok / 2];
}

/*
 * The default boot (an Ed25519 key pair derived before genesis) and an unsigned one
 * (-append rvm.unsigned). No peer: QEMU's own start-up is most of the figure.
 */
static void run_first_witness(struct rvm_bench_result *out)
{
	char runner[PATH_MAX], elf[PATH_MAX], cmd[PATH_MAX + 16],
		dir[] = "/tmp/rvm-bench-qemu-XXXXXX";
	struct boots sig, uns;

	if (system("command -v qemu-system-aarch64 >/dev/null 2>&1") != 0 ||
	    tree_paths(runner, elf, sizeof(runner)) != 0 || !mkdtemp(dir)) {
		snprintf(out->note, sizeof(out->note), "skipped: QEMU or the image is missing");
		return;
	}
	boot_many(runner, elf, dir, "", &sig);
	boot_many(runner, elf, dir, "-- -append rvm.unsigned", &uns);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", dir);
	if (!sig.ok || !uns.ok) {
		snprintf(out->note, sizeof(out->note), "failed: no boot reported a first witness");
		return;
	}
	out->ours_ns = sig.wall * 1e6;
	snprintf(out->note, sizeof(out->note),
		 "medians of %d: %.0f ms (min %.0f, %.0f in image); unsigned %.0f ms (%.0f in "
		 "image)",
		 QEMU_BOOTS, sig.wall, sig.wall_min, sig.guest, uns.wall, uns.guest);
}

RVM_BENCH_ROW(qemu_first_witness, NULL, "< 100 ms from launch", run_first_witness)
