/* platform/qemu-virt/fmt.c - the board's small printf (no libc on bare metal). */
#include "board.h"

#include <stdbool.h>

struct fmt_out {
	char *p;
	size_t cap, n;
};

static void put(struct fmt_out *o, char c)
{
	if (o->n + 1 < o->cap)
		o->p[o->n++] = c;
}

static void put_num(struct fmt_out *o, uint64_t v, unsigned base, bool neg, unsigned width,
		    char pad)
{
	char tmp[24];
	unsigned k = 0;

	do {
		tmp[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[k++] = '-';
	while (width > k) {
		put(o, pad);
		width--;
	}
	while (k)
		put(o, tmp[--k]);
}

size_t rvm_board_vfmt(char *out, size_t cap, const char *fmt, va_list ap)
{
	struct fmt_out o = {out, cap, 0};

	for (; *fmt; fmt++) {
		unsigned width = 0, longs = 0;
		char pad = ' ';
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;
		switch (*fmt) {
		case 's': {
			const char *str = va_arg(ap, const char *);

			for (str = str ? str : "(null)"; *str; str++)
				put(&o, *str);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'd':
			s = longs ? va_arg(ap, long) : va_arg(ap, int);
			put_num(&o, s < 0 ? -(uint64_t)s : (uint64_t)s, 10, s < 0, width, pad);
			break;
		case 'u':
		case 'x':
			u = longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			put_num(&o, u, *fmt == 'u' ? 10 : 16, false, width, pad);
			break;
		case 'p':
			put(&o, '0'), put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false, width, pad);
			break;
		case '%':
			put(&o, '%');
			break;
		default: /* unknown conversion: show it rather than guess */
			put(&o, '%');
			if (!*fmt)
				fmt--;
			else
				put(&o, *fmt);
		}
	}
	if (cap)
		out[o.n] = 0;
	return o.n;
}

void rvm_board_printf(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = rvm_board_vfmt(line, sizeof(line), fmt, ap);
	va_end(ap);
	rvm_board_write(line, n);
}
