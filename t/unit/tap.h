/* tap.h: a few Test Anything Protocol helpers for the C unit tests (run by prove). */
#ifndef PULSE_TAP_H
#define PULSE_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

__attribute__((format(printf, 4, 5), unused)) static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s line %d\n", file, line);
	}
	return pass;
}

#define TAP_DESC(buf, fmt) \
	do { va_list ap; va_start(ap, fmt); vsnprintf(buf, sizeof(buf), fmt, ap); va_end(ap); } \
	while (0)

__attribute__((format(printf, 5, 6), unused)) static int
tap_is_int(long long got, long long want, const char *file, int line, const char *fmt, ...)
{
	char desc[256];

	TAP_DESC(desc, fmt);
	if (!tap_ok(got == want, file, line, "%s", desc)) {
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
		return 0;
	}
	return 1;
}

__attribute__((format(printf, 5, 6), unused)) static int
tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
	char desc[256];
	int pass = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);

	TAP_DESC(desc, fmt);
	if (!tap_ok(pass, file, line, "%s", desc)) {
		printf("#          got: '%s'\n#     expected: '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
		return 0;
	}
	return 1;
}

static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
