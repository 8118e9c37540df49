/* timefmt.c: RFC 3339 as Go writes it, Go's zero time, epoch milliseconds, timestamptz. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

int
timefmt_parse_rfc3339(const char *s, double *out)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	double frac = 0;
	time_t t;
	const char *z;

	if (sscanf(s, "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return -1;
	z = s + n;
	if (*z == '.') {
		char *end;

		frac = strtod(z, &end);
		if (end == z + 1)
			return -1;
		z = end;
	}
	if (y == 1 && mo == 1 && d == 1 && h == 0 && mi == 0 && sec == 0) {
		*out = 0;	/* Go's zero time */
		return 0;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	t = timegm(&tm);
	if (*z == 'Z' || *z == 'z') {
		if (z[1] != '\0')
			return -1;
	} else if ((*z == '+' || *z == '-') && sscanf(z + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
	    n == 5 && z[6] == '\0') {
		t -= (*z == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	*out = (double)t + frac;
	return 0;
}
