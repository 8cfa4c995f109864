/* RFC 3339 date-times and ISO 8601 durations (oadr_time.h). Strict on
 * purpose: what comes off a broker is untrusted, and a time read wrongly
 * moves a site's limit to the wrong hour. */
#include "oadr_time.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define OADR__US_PER_DAY (86400LL * OADR_US_PER_S)
/* P9999Y with nominal 365-day years: this long or longer is for ever. */
#define OADR__FOREVER_US (9999LL * 365 * OADR__US_PER_DAY)
/* Number parts of a duration beyond this are for ever anyway. */
#define OADR__PART_MAX 1000000000000LL

static bool oadr__digit(char c)
{
    return c >= '0' && c <= '9';
}

/* n digits at s as a number, or -1. */
static int oadr__digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!oadr__digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool oadr__leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int oadr__month_days(int y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && oadr__leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t oadr__days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void oadr__civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* "YYYY-MM-DD" at s; 0 or -EINVAL. */
static int oadr__date(const char *s, int *y, int *m, int *d)
{
    *y = oadr__digits(s, 4);
    *m = oadr__digits(s + 5, 2);
    *d = oadr__digits(s + 8, 2);
    if (*y < 1 || s[4] != '-' || s[7] != '-' || *m < 1 || *m > 12 || *d < 1 ||
        *d > oadr__month_days(*y, *m))
        return -EINVAL;
    return 0;
}

/* The date-time at s; *offset_given says whether it ended with Z or an offset
 * (required unless allow_local). */
static int oadr__parse(const char *s, bool allow_local, int64_t *us, bool *midnight_0001)
{
    int y, mo, d;
    size_t len = strlen(s);
    if (len < 19 || oadr__date(s, &y, &mo, &d) < 0 || (s[10] != 'T' && s[10] != 't'))
        return -EINVAL;
    int h = oadr__digits(s + 11, 2), mi = oadr__digits(s + 14, 2), sec = oadr__digits(s + 17, 2);
    /* 60: a leap second, which RFC 3339 allows; it counts as the next one. */
    if (h < 0 || h > 23 || s[13] != ':' || mi < 0 || mi > 59 || s[16] != ':' || sec < 0 ||
        sec > 60)
        return -EINVAL;
    const char *p = s + 19;
    int64_t frac = 0;
    bool any_frac = false;
    if (*p == '.') {
        int scale = 100000;
        for (p++; oadr__digit(*p); p++) {
            if (scale > 0) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
            any_frac = true;
        }
        if (!any_frac)
            return -EINVAL;
    }
    int64_t offset_s = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        /* UTC */
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6) {
        int oh = oadr__digits(p + 1, 2), om = oadr__digits(p + 4, 2);
        if (oh < 0 || oh > 23 || p[3] != ':' || om < 0 || om > 59)
            return -EINVAL;
        offset_s = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
    } else if (!(allow_local && *p == '\0')) {
        return -EINVAL;
    }
    *midnight_0001 = y == 1 && mo == 1 && d == 1 && h == 0 && mi == 0 && sec == 0 && frac == 0;
    int64_t secs = oadr__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    *us = secs * OADR_US_PER_S + frac;
    return 0;
}

int oadr_time_parse(const char *s, int64_t *us)
{
    bool zero;
    return s ? oadr__parse(s, false, us, &zero) : -EINVAL;
}

int oadr_time_parse_start(const char *s, int64_t now_us, int64_t *us)
{
    if (!s)
        return -EINVAL;
    if (strcmp(s, "0001-01-01") == 0) {
        *us = now_us;
        return 0;
    }
    bool zero = false;
    int64_t t;
    int rc = oadr__parse(s, true, &t, &zero);
    if (rc == 0 && zero) {
        *us = now_us;
        return 0;
    }
    /* Without an offset only the "now" form is accepted. */
    if (rc == 0 && oadr__parse(s, false, &t, &zero) < 0)
        return -EINVAL;
    if (rc == 0)
        *us = t;
    return rc;
}

int64_t oadr_time_add(int64_t t, int64_t d)
{
    int64_t r;
    if (d == OADR_FOREVER || __builtin_add_overflow(t, d, &r))
        return OADR_FOREVER;
    return r;
}

/* Reads the digits at *p (at least one) into *v, saturating at
 * OADR__PART_MAX; advances *p. */
static int oadr__number(const char **p, int64_t *v)
{
    const char *s = *p;
    if (!oadr__digit(*s))
        return -EINVAL;
    *v = 0;
    for (; oadr__digit(*s); s++)
        *v = *v >= OADR__PART_MAX ? OADR__PART_MAX : *v * 10 + (*s - '0');
    *p = s;
    return 0;
}

/* total += n * unit_us, saturating at OADR__FOREVER_US. */
static void oadr__accumulate(int64_t *total, int64_t n, int64_t unit_us)
{
    int64_t part;
    if (__builtin_mul_overflow(n, unit_us, &part) || __builtin_add_overflow(*total, part, total) ||
        *total > OADR__FOREVER_US)
        *total = OADR__FOREVER_US;
}

/* The date part: [nY][nM][n(D|W)], each at most once and in that order. */
static int oadr__date_part(const char **p, int64_t *total, bool *any)
{
    static const struct { char unit; int64_t us; } units[] = {
        { 'Y', 365 * OADR__US_PER_DAY }, { 'M', 30 * OADR__US_PER_DAY },
        { 'D', OADR__US_PER_DAY }, { 'W', 7 * OADR__US_PER_DAY },
    };
    size_t next = 0;
    while (oadr__digit(**p)) {
        int64_t n;
        oadr__number(p, &n);
        size_t u = next;
        while (u < 4 && units[u].unit != **p)
            u++;
        if (u == 4)
            return -EINVAL;
        oadr__accumulate(total, n, units[u].us);
        (*p)++;
        next = u == 2 ? 4 : u + 1; /* D and W exclude each other */
        *any = true;
    }
    return 0;
}

/* The time part after T: [nH][nM][n[.f]S], at least one. */
static int oadr__time_part(const char **p, int64_t *total)
{
    static const struct { char unit; int64_t us; } units[] = {
        { 'H', 3600 * OADR_US_PER_S }, { 'M', 60 * OADR_US_PER_S }, { 'S', OADR_US_PER_S },
    };
    size_t next = 0;
    bool any = false;
    while (oadr__digit(**p)) {
        int64_t n, frac = 0;
        oadr__number(p, &n);
        if (**p == '.') {
            (*p)++;
            if (!oadr__digit(**p))
                return -EINVAL;
            for (int64_t scale = 100000; oadr__digit(**p); (*p)++, scale /= 10)
                frac += (**p - '0') * scale;
            if (**p != 'S')
                return -EINVAL; /* only seconds have a fraction */
        }
        size_t u = next;
        while (u < 3 && units[u].unit != **p)
            u++;
        if (u == 3)
            return -EINVAL;
        oadr__accumulate(total, n, units[u].us);
        oadr__accumulate(total, frac, 1);
        (*p)++;
        next = u + 1;
        any = true;
    }
    return any ? 0 : -EINVAL;
}

int oadr_duration_parse(const char *s, int64_t *us)
{
    if (!s || s[0] != 'P')
        return -EINVAL; /* a leading '-' (negative) included */
    const char *p = s + 1;
    int64_t total = 0;
    bool any = false;
    if (oadr__date_part(&p, &total, &any) < 0)
        return -EINVAL;
    if (*p == 'T') {
        p++;
        if (oadr__time_part(&p, &total) < 0)
            return -EINVAL;
        any = true;
    }
    if (!any || *p != '\0')
        return -EINVAL;
    *us = total >= OADR__FOREVER_US ? OADR_FOREVER : total;
    return 0;
}

/* The microseconds 1..999999 as a fraction's digits, trailing zeros
 * dropped: 500000 -> "5", 1 -> "000001". */
static void oadr__fraction(int64_t us, char out[7])
{
    snprintf(out, 7, "%06lld", (long long)us);
    for (size_t n = 6; n > 1 && out[n - 1] == '0'; n--)
        out[n - 1] = '\0';
}

int oadr_time_format(int64_t us, char *buf, size_t cap)
{
    int64_t secs = us / OADR_US_PER_S, frac = us % OADR_US_PER_S;
    if (frac < 0) {
        frac += OADR_US_PER_S;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y, m, d;
    oadr__civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return -ERANGE;
    char fr[8] = "";
    if (frac) {
        fr[0] = '.';
        oadr__fraction(frac, fr + 1);
    }
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", y, m, d, (int)(rem / 3600),
                     (int)(rem / 60 % 60), (int)(rem % 60), fr);
    return n < 0 || (size_t)n >= cap ? -ENOBUFS : n;
}

int oadr_duration_format(int64_t us, char *buf, size_t cap)
{
    int n;
    if (us < 0)
        return -EINVAL;
    if (us == OADR_FOREVER) {
        n = snprintf(buf, cap, "P9999Y");
    } else if (us % OADR_US_PER_S == 0) {
        n = snprintf(buf, cap, "PT%lldS", (long long)(us / OADR_US_PER_S));
    } else {
        char fr[7];
        oadr__fraction(us % OADR_US_PER_S, fr);
        n = snprintf(buf, cap, "PT%lld.%sS", (long long)(us / OADR_US_PER_S), fr);
    }
    return n < 0 || (size_t)n >= cap ? -ENOBUFS : n;
}
