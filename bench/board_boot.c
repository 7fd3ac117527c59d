/* bench/board_boot.c - boots a bare-metal image under QEMU through the host runner, for the
 * board rows. */
#include "board_boot.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int rvm_board_paths(const char *image_rel, char *runner, char *elf, size_t n)
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
	b = snprintf(elf, n, "%s/../%s", dir, image_rel);
	if (a < 0 || b < 0 || (size_t)a >= n || (size_t)b >= n)
		return -1;
	return access(runner, X_OK) == 0 && access(elf, R_OK) == 0 ? 0 : -1;
}

/* Feeds every line of stream f to fn. */
static void lines(FILE *f, rvm_board_line_fn *fn, void *ctx, bool console)
{
	char line[1024];

	while (fgets(line, sizeof(line), f))
		fn(ctx, line, console);
}

int rvm_board_boot(const char *runner, const char *elf, const char *args, const char *console,
		   rvm_board_line_fn *fn, void *ctx)
{
	char dir[] = "/tmp/rvm-bench-board-XXXXXX", cmd[4 * PATH_MAX], path[PATH_MAX + 64];
	FILE *p;
	int status;

	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s' --elf '%s' --out '%s' --quiet %s 2>/dev/null", runner,
		 elf, dir, args);
	p = popen(cmd, "r");
	if (!p) {
		rmdir(dir);
		return -1;
	}
	lines(p, fn, ctx, false);
	status = pclose(p);
	snprintf(path, sizeof(path), "%s/%s", dir, console);
	p = fopen(path, "r");
	if (p) {
		lines(p, fn, ctx, true);
		fclose(p);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", dir);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int rvm_board_after(const char *line, const char *prefix, double *v)
{
	size_t n = strlen(prefix);
	char *end;

	if (strncmp(line, prefix, n) != 0)
		return 0;
	*v = strtod(line + n, &end);
	return end != line + n;
}

