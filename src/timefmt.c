/* timefmt.c: RFC 3339 as Go writes it, Go's zero time, epoch milliseconds, timestamptz. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

_Static_assert(sizeof(time_t) >= 8, "times past 2038 need a 64-bit time_t");

/* The last second Go can marshal: 9999-12-31T23:59:59Z. */
#define LAST_GO_SECOND 253402300799.0

/* Breaks whole seconds down in UTC. Returns -1 when the calendar cannot hold them. */
static int
utc_fields(double whole, struct tm *tm)
{
	time_t sec;

	if (!(whole > -9e18 && whole < 9e18))	/* also NaN; keeps the cast defined */
		return -1;
	sec = (time_t)whole;
	return gmtime_r(&sec, tm) != NULL ? 0 : -1;
}

/* "YYYY-MM-DD" sep "hh:mm:ss", the year at least four digits. */
static void
date_time(char *out, size_t len, const struct tm *tm, char sep)
{
	snprintf(out, len, "%04lld-%02d-%02d%c%02d:%02d:%02d", (long long)tm->tm_year + 1900,
	    tm->tm_mon + 1, tm->tm_mday, sep, tm->tm_hour, tm->tm_min, tm->tm_sec);
}

const char *
timefmt_rfc3339(double t, char *out, size_t len)
{
	char date[TIMEFMT_LEN];
	struct tm tm;

	if (!(t > 0) || utc_fields(floor(t), &tm) != 0) {
		snprintf(out, len, "%s", TIMEFMT_ZERO);
		return out;
	}
	date_time(date, sizeof(date), &tm, 'T');
	snprintf(out, len, "%sZ", date);
	return out;
}

/* t as whole seconds and microseconds, rounded to the nearest microsecond: a double holds a
 * current time to a fraction of one. */
static void
split_micros(double t, double *whole, long *micros)
{
	*whole = floor(t);
	*micros = isfinite(t) ? lround((t - *whole) * 1e6) : 0;
	if (*micros >= 1000000) {
		*whole += 1;
		*micros -= 1000000;
	}
}

const char *
timefmt_rfc3339_nano(double t, char *out, size_t len)
{
	char date[TIMEFMT_LEN], frac[24] = "";
	double whole;
	long micros;
	struct tm tm;

	if (!(t > 0) || t > LAST_GO_SECOND) {
		snprintf(out, len, "%s", TIMEFMT_ZERO);
		return out;
	}
	split_micros(t, &whole, &micros);
	if (utc_fields(whole, &tm) != 0) {	/* not reached below year 10000 */
		snprintf(out, len, "%s", TIMEFMT_ZERO);
		return out;
	}
	date_time(date, sizeof(date), &tm, 'T');
	if (micros > 0) {
		size_t n;
		snprintf(frac, sizeof(frac), ".%06ld", micros);
		for (n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
	}
	snprintf(out, len, "%s%sZ", date, frac);
	return out;
}

const char *
timefmt_pg(double t, char *buf, size_t len)
{
	char date[TIMEFMT_LEN];
	double whole = floor(t);
	struct tm tm;

	if (utc_fields(whole, &tm) != 0) {
		t = whole = 0;
		(void)utc_fields(0, &tm);
	}
	date_time(date, sizeof(date), &tm, ' ');
	snprintf(buf, len, "%s.%03d+00", date, (int)((t - whole) * 1000));
	return buf;
}

int64_t
timefmt_ms_from_seconds(int64_t s)
{
	return s > INT64_MAX / 1000 ? INT64_MAX : s < INT64_MIN / 1000 ? INT64_MIN : s * 1000;
}

int64_t
timefmt_unix_ms_edge(double t)
{
	double whole = floor(t);

	if (isnan(whole))
		return 0;
	if (whole >= 9e18)
		return INT64_MAX;
	if (whole <= -9e18)
		return INT64_MIN;
	return timefmt_ms_from_seconds((int64_t)whole);
}
