/* platform/common/frame.c - sink bytes as framed console lines "@rvm:<kind>:<hex>\n". */
#include "frame.h"

void rvm_frame_write(rvm_frame_write_fn *write, char kind, const void *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = buf;
	char line[sizeof(RVM_FRAME_PREFIX) + 3 + 2 * RVM_FRAME_BYTES];

	do {
		size_t k = n < RVM_FRAME_BYTES ? n : RVM_FRAME_BYTES, len = 0;

		for (const char *q = RVM_FRAME_PREFIX; *q; q++)
			line[len++] = *q;
		line[len++] = kind;
		line[len++] = ':';
		for (size_t i = 0; i < k; i++) {
			line[len++] = hex[p[i] >> 4];
			line[len++] = hex[p[i] & 15];
		}
		line[len++] = '\n';
		write(line, len);
		p += k;
		n -= k;
	} while (n);
}

enum rvm_err rvm_frame_sink_append(rvm_frame_write_fn *write, enum rvm_sink_stream s,
				   const void *buf, size_t n)
{
	if ((unsigned)s >= RVM_SINK_COUNT)
		return RVM_E_INVAL;
	if (n)
		rvm_frame_write(write, s == RVM_SINK_WITNESS ? 'w' : 'j', buf, n);
	return RVM_OK;
}
