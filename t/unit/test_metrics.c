/* test_metrics.c: the binary forms of metrics arrays (COPY out, results in), bucket
 * accumulation and downsampling (src/metrics.c). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "tap.h"

/* A COPY field (int32 length + data) back as the array bytes PostgreSQL would send. */
static const char *
field(const struct strbuf *sb, size_t *off, int *len)
{
	const unsigned char *p = (const unsigned char *)sb->data + *off;

	*len = (int)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
	*off += 4 + (size_t)*len;
	return (const char *)p + 4;
}

int
main(void)
{
	struct strbuf sb = {0};
	double in[5] = {1.5, NAN, -3.25, 1e300, 0}, out[8];
	int32_t iin[3] = {7, 0, -2}, iout[4];
	size_t off = 0;
	int len, n;
	const char *f;
	struct met_acc a = {0}, b = {0};
	double t[100], v[100];
	int keep[100], m, peak = 0;

	met_copy_f8_array(&sb, in, 5);
	met_copy_i4_array(&sb, iin, 3);
	f = field(&sb, &off, &len);
	n = met_array_f8(f, len, out, 8);
	is_int(n, 5, "float8[] round trip: 5 elements");
	ok(out[0] == 1.5 && isnan(out[1]) && out[2] == -3.25 && out[3] == 1e300 && out[4] == 0,
	    "values and NULL (as NaN) kept");
	is_int(met_array_f8(f, len, out, 2), 2, "at most max elements");
	f = field(&sb, &off, &len);
	n = met_array_i4(f, len, iout, 4);
	ok(n == 3 && iout[0] == 7 && iout[1] == 0 && iout[2] == -2, "int4[] round trip");
	is_int(met_array_f8(f, len, out, 8), -1, "an int4[] is not a float8[]");
	for (int cut = 0; cut < len; cut++)
		if (met_array_i4(f, cut, iout, 4) > 0 && cut < 20)
			ok(0, "a truncated header is refused (%d bytes)", cut);
	is_int(met_array_i4(f, 19, iout, 4), -1, "a truncated header is refused");
	is_int(met_array_i4(f, len - 1, iout, 4), -1, "a truncated element is refused");
	{
		char empty[12] = {0};
		is_int(met_array_f8(empty, 12, out, 8), 0, "an empty array has no elements");
	}
	/* A block of raw samples: a bytea field of 8 bytes a slot, NaN for none. */
	sb_reset(&sb);
	off = 0;
	met_copy_f8_block(&sb, in, 5);
	f = field(&sb, &off, &len);
	is_int(len, 40, "a block of 5 slots is 40 bytes");
	n = met_block_f8(f, len, out, 8);
	ok(n == 5 && out[0] == 1.5 && isnan(out[1]) && out[2] == -3.25 && out[3] == 1e300 &&
	    out[4] == 0, "block round trip, NaN where no sample");
	ok((unsigned char)f[0] == 0x3f && (unsigned char)f[1] == 0xf8 && f[7] == 0,
	    "big-endian doubles: 1.5 is 3f f8 00 .. 00");
	is_int(met_block_f8(f, len, out, 3), 3, "a block: at most max values");
	is_int(met_block_f8(f, len - 1, out, 8), -1, "a block cut inside a value is refused");

	met_acc_add(&a, 3);
	met_acc_add(&a, 1);
	met_acc_add(&a, 5);
	ok(a.n == 3 && a.min == 1 && a.max == 5 && met_acc_avg(&a) == 3, "samples: n, min, max, avg");
	met_acc_merge(&b, 3, 3, 1, 5);
	met_acc_merge(&b, 1, 7, 7, 7);
	met_acc_merge(&b, 0, 100, 100, 100);
	ok(b.n == 4 && b.min == 1 && b.max == 7 && met_acc_avg(&b) == 4,
	    "buckets merge weighted by their counts; empty ones count for nothing");

	is_int(met_ts_to_pg(946684800.0), 0, "2000-01-01 is PostgreSQL's zero");
	{
		unsigned char be[8];
		int64_t us = met_ts_to_pg(1700000000.25);
		for (int i = 0; i < 8; i++)
			be[i] = (unsigned char)((uint64_t)us >> (56 - 8 * i));
		ok(met_ts_from_pg((const char *)be) == 1700000000.25, "timestamps round trip");
	}

	for (int i = 0; i < 100; i++) {
		t[i] = i;
		v[i] = i == 37 ? 1000 : sin(i / 5.0);
	}
	m = met_lttb(t, v, 100, 20, keep);
	is_int(m, 20, "LTTB: 20 points of 100");
	ok(keep[0] == 0 && keep[m - 1] == 99, "first and last kept");
	for (int i = 0; i < m; i++)
		peak |= keep[i] == 37;
	ok(peak, "the peak is kept");
	for (int i = 1; i < m; i++)
		if (keep[i] <= keep[i - 1])
			ok(0, "indexes increase");
	is_int(met_lttb(t, v, 10, 20, keep), 10, "fewer points than the cap: all");
	is_int(met_tier_parse("hour"), MET_HOUR, "tier names");
	is_int(met_tier_parse("hourly"), -1, "unknown tier");
	sb_free(&sb);
	return done_testing();
}
