/* Times and durations as OpenADR 3 writes them: RFC 3339 date-times and
 * ISO 8601 durations, with OpenADR's two conventions: a start of 0001-01-01
 * means "now", a duration of P9999Y means "for ever".
 *
 * Every time is an int64 count of microseconds since 1970-01-01T00:00:00Z
 * (years 0001 to 9999 fit with room to spare); every duration is a count of
 * microseconds, OADR_FOREVER for the infinite one. Pure: no clock reads.
 */
#ifndef SITEGATE_OADR_TIME_H
#define SITEGATE_OADR_TIME_H

#include <stddef.h>
#include <stdint.h>

#define OADR_US_PER_S 1000000LL
#define OADR_FOREVER INT64_MAX /* an infinite duration, and the end of an endless interval */

/* Longest text oadr_time_format writes, with its NUL. */
#define OADR_TIME_TEXT_MAX 32

/* Parses an RFC 3339 date-time ("2025-06-15T09:30:00.25+05:30"; T/Z in either
 * case, any number of fraction digits, microseconds kept). 0 or -EINVAL. */
int oadr_time_parse(const char *s, int64_t *us);

/* As oadr_time_parse, for an interval's start: "0001-01-01", and any
 * date-time at 0001-01-01T00:00:00 (with or without an offset), is now. */
int oadr_time_parse_start(const char *s, int64_t now_us, int64_t *us);

/* Parses an ISO 8601 duration of the OpenADR pattern ("PT15M", "P1DT2H",
 * "PT0.5S", "P2W"). Nominal units: a year is 365 days, a month 30, a day 24
 * hours. P9999Y, and anything as long, is OADR_FOREVER. Negative durations
 * are -EINVAL. */
int oadr_duration_parse(const char *s, int64_t *us);

/* Writes a time as RFC 3339 UTC ("2025-06-15T04:00:00Z", with a fraction only
 * when it is not whole seconds). Returns the length, or -ENOBUFS / -ERANGE
 * (outside years 0001..9999). */
int oadr_time_format(int64_t us, char *buf, size_t cap);

/* Writes a finite duration as "PT<seconds>S" ("PT300S", "PT1.5S"); P9999Y for
 * OADR_FOREVER. Returns the length or -ENOBUFS, -EINVAL when negative. */
int oadr_duration_format(int64_t us, char *buf, size_t cap);

/* t + d, saturating at OADR_FOREVER (for an endless interval's end). */
int64_t oadr_time_add(int64_t t, int64_t d);

#endif
