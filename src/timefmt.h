/* timefmt.h: the time encodings of the wire and the database, from unix seconds. */
#ifndef PULSE_TIMEFMT_H
#define PULSE_TIMEFMT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Go's zero time.Time, as the original writes an unset time (never omitted). */
#define TIMEFMT_ZERO "0001-01-01T00:00:00Z"

/* Room for any string below, with a five-digit year. */
#define TIMEFMT_LEN 40

/* RFC 3339 in UTC to the whole second ("2026-01-09T21:25:38Z"), as Go writes a time without a
 * fraction: the fraction is cut off. 0 or less, a value that is not a number and one beyond
 * any calendar give TIMEFMT_ZERO; a time past year 9999 gets a longer year. Returns out. */
const char *timefmt_rfc3339(double t, char *out, size_t len);

/* RFC 3339 in UTC as Go marshals a time.Time (RFC3339Nano: a fraction without trailing zeros,
 * none when whole), to the microsecond a double holds, rounded to the nearest. 0 or less, a
 * value that is not a number and a time past year 9999 (Go refuses those) give TIMEFMT_ZERO.
 * Returns out. */
const char *timefmt_rfc3339_nano(double t, char *out, size_t len);

/* Reads an RFC 3339 time ("2026-01-09T21:25:38.5+01:00") into unix seconds; Go's zero time
 * gives 0. Returns 0, or -1 for text that is not such a time. */
int timefmt_parse_rfc3339(const char *s, double *out);

/* A PostgreSQL timestamptz literal in UTC with milliseconds ("2026-01-09 21:25:38.123+00"),
 * the fraction cut off (earlier, for a time before 1970). A value that is not a number or too
 * far out for a calendar gives the epoch. Returns buf. */
const char *timefmt_pg(double t, char *buf, size_t len);

/* The cases of timefmt_unix_ms beyond any calendar (saturated) and not a number (0). */
int64_t timefmt_unix_ms_edge(double t);

/* Epoch milliseconds of the whole second, as the original's Unix() * 1000: the fraction is cut
 * off (to the earlier second), the result saturates at the int64 range, and a value that is
 * not a number gives 0. Inline: the chart writer calls it for every point. */
static inline int64_t
timefmt_unix_ms(double t)
{
	if (t > -9e15 && t < 9e15)	/* every real time; NaN fails both */
		return (int64_t)floor(t) * 1000;
	return timefmt_unix_ms_edge(t);
}

/* Whole epoch seconds as milliseconds, saturating at the int64 range. */
int64_t timefmt_ms_from_seconds(int64_t s);

#endif
