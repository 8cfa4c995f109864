/* Shared helpers of the OCPP payload readers and writers: JSON field access
 * with schema checks, RFC 3339 date-times, locale-independent decimals, and
 * a bounded output buffer. No libm: only <math.h> classification macros.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "json_tree.h"
#include "ocpp_msg.h"
#include "ocpp_msg_util.h"

/* The tree made (rc 0) is an object, as every OCPP payload is: *out. */
static int ocpp_msg__object(int rc, cJSON *root, cJSON **out)
{
    if (rc < 0)
        return rc;
    if (!cJSON_IsObject(root)) {
        json_tree_release(root);
        return -EINVAL;
    }
    *out = root;
    return 0;
}

int ocpp_msg__parse(const char *payload, size_t len, cJSON **out)
{
    cJSON *root = NULL;

    *out = NULL;
    if (!payload)
        return -EINVAL;
    if (len > OCPP_MSG_PAYLOAD_MAX)
        return -EMSGSIZE;
    int rc = json_tree_parse(payload, len, &root);
    return ocpp_msg__object(rc, root, out);
}

int ocpp_msg__parse_frame(const struct frame *f, cJSON **out)
{
    cJSON *root = NULL;

    *out = NULL;
    if (f->payload.len > OCPP_MSG_PAYLOAD_MAX)
        return -EMSGSIZE;
    /* frame_parse validated the whole text: the payload is built at once. */
    int rc = json_tree_build(f->payload.ptr, f->payload.len, f->values, &root);
    return ocpp_msg__object(rc, root, out);
}

void ocpp_msg__release(cJSON *root)
{
    json_tree_release(root);
}

static const cJSON *ocpp_msg__get(const cJSON *obj, const char *name)
{
    return obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

int ocpp_msg__int(const cJSON *obj, const char *name, long long lo, long long hi,
                  long long *out)
{
    const cJSON *it = ocpp_msg__get(obj, name);
    double v;

    if (!it)
        return OCPP_MSG__ABSENT;
    if (!cJSON_IsNumber(it))
        return -EPROTO;
    v = it->valuedouble;
    /* JSON Schema draft 6+: an integer is a number without a fraction. The
     * range check comes first so the cast below is defined. */
    if (!isfinite(v) || v < (double)lo || v > (double)hi || v != (double)(long long)v)
        return -EPROTO;
    *out = (long long)v;
    return 0;
}

int ocpp_msg__num(const cJSON *obj, const char *name, double *out)
{
    const cJSON *it = ocpp_msg__get(obj, name);

    if (!it)
        return OCPP_MSG__ABSENT;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return -EPROTO;
    *out = it->valuedouble;
    return 0;
}

int ocpp_msg__bool(const cJSON *obj, const char *name, bool *out)
{
    const cJSON *it = ocpp_msg__get(obj, name);

    if (!it)
        return OCPP_MSG__ABSENT;
    if (!cJSON_IsBool(it))
        return -EPROTO;
    *out = cJSON_IsTrue(it);
    return 0;
}

int ocpp_msg__str(const cJSON *obj, const char *name, size_t maxlen, const char **out)
{
    const cJSON *it = ocpp_msg__get(obj, name);

    if (!it)
        return OCPP_MSG__ABSENT;
    if (!cJSON_IsString(it) || !it->valuestring)
        return -EPROTO;
    /* maxLength counts characters; bytes are a stricter bound only for
     * non-ASCII text, which none of the fields read here should carry. */
    if (strlen(it->valuestring) > maxlen)
        return -EPROTO;
    *out = it->valuestring;
    return 0;
}

int ocpp_msg__lookup(const char *s, const char *const *names, size_t n)
{
    /* The first byte tells most names apart: strcmp only for those that share it. */
    for (size_t i = 0; i < n; i++)
        if (names[i] && names[i][0] == s[0] && strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

int ocpp_msg__enum(const cJSON *obj, const char *name, const char *const *names, size_t n,
                   int *out)
{
    const char *s;
    int rc = ocpp_msg__str(obj, name, 64, &s);

    if (rc)
        return rc;
    rc = ocpp_msg__lookup(s, names, n);
    if (rc < 0)
        return -EPROTO;
    *out = rc;
    return 0;
}

int ocpp_msg__time(const cJSON *obj, const char *name, time_t *out)
{
    const char *s;
    int rc = ocpp_msg__str(obj, name, 64, &s);

    if (rc)
        return rc;
    return ocpp_msg__parse_time(s, out);
}

int ocpp_msg__child(const cJSON *obj, const char *name, int type, const cJSON **out)
{
    const cJSON *it = ocpp_msg__get(obj, name);

    if (!it)
        return OCPP_MSG__ABSENT;
    if ((it->type & 0xFF) != type)
        return -EPROTO;
    *out = it;
    return 0;
}

void ocpp_msg__copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (cap == 0)
        return;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- date-time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), valid for every year used here. */
static long long ocpp_msg__days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void ocpp_msg__civil_from_days(long long z, long long *y, int *m, int *d)
{
    long long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* n decimal digits at s, or -1. */
static int ocpp_msg__digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int ocpp_msg__parse_time(const char *s, time_t *out)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, sec, off = 0;
    bool leap;
    const char *p;
    long long t;

    if (strlen(s) < 20)
        return -EPROTO;
    y = ocpp_msg__digits(s, 4);
    mo = ocpp_msg__digits(s + 5, 2);
    d = ocpp_msg__digits(s + 8, 2);
    h = ocpp_msg__digits(s + 11, 2);
    mi = ocpp_msg__digits(s + 14, 2);
    sec = ocpp_msg__digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        sec < 0 || sec > 60 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return -EPROTO;
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return -EPROTO;
    p = s + 19;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return -EPROTO;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        off = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh = ocpp_msg__digits(p + 1, 2), om = ocpp_msg__digits(p + 4, 2);

        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -EPROTO;
        off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
    } else {
        return -EPROTO;
    }
    t = ocpp_msg__days_from_civil(y, mo, d) * 86400 + (long long)h * 3600 + (long long)mi * 60 +
        sec - off;
    *out = (time_t)t;
    return 0;
}

int ocpp_msg__format_time(time_t t, char out[21])
{
    long long y, days, rem;
    int m, d;

    if (t < 0 || (long long)t > 253402300799LL) /* 9999-12-31T23:59:59Z */
        return -EINVAL;
    days = (long long)t / 86400;
    rem = (long long)t % 86400;
    ocpp_msg__civil_from_days(days, &y, &m, &d);
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = 'T';
    out[11] = (char)('0' + rem / 36000);
    out[12] = (char)('0' + rem / 3600 % 10);
    out[13] = ':';
    out[14] = (char)('0' + rem % 3600 / 600);
    out[15] = (char)('0' + rem % 3600 / 60 % 10);
    out[16] = ':';
    out[17] = (char)('0' + rem % 60 / 10);
    out[18] = (char)('0' + rem % 10);
    out[19] = 'Z';
    out[20] = '\0';
    return 0;
}

/* ---- decimals ---- */

int ocpp_msg__parse_decimal(const char *s, double *out)
{
    static const double exact[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    uint64_t mant = 0;
    int exp10 = 0, ndig = 0, e = 0;
    bool neg = false, eneg = false;
    double v;

    while (*s == ' ')
        s++;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    for (; *s >= '0' && *s <= '9'; s++, ndig++) {
        if (mant < 100000000000000000ULL) /* 17 significant digits are plenty */
            mant = mant * 10 + (uint64_t)(*s - '0');
        else
            exp10++;
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, ndig++) {
            if (mant < 100000000000000000ULL) {
                mant = mant * 10 + (uint64_t)(*s - '0');
                exp10--;
            }
        }
    }
    if (ndig == 0)
        return -EPROTO;
    if (*s == 'e' || *s == 'E') {
        int edig = 0;

        s++;
        if (*s == '+' || *s == '-')
            eneg = *s++ == '-';
        for (; *s >= '0' && *s <= '9'; s++, edig++)
            if (e < 10000)
                e = e * 10 + (*s - '0');
        if (edig == 0)
            return -EPROTO;
    }
    while (*s == ' ')
        s++;
    if (*s != '\0')
        return -EPROTO;
    exp10 += eneg ? -e : e;
    if (mant == 0)
        exp10 = 0;
    v = (double)mant;
    /* Exact powers of ten: one correctly rounded operation for the common
     * short values ("12.5", "7360"); otherwise close enough for a meter. */
    while (exp10 > 0) {
        int k = exp10 > 22 ? 22 : exp10;
        v *= exact[k];
        exp10 -= k;
        if (isinf(v))
            break;
    }
    while (exp10 < 0) {
        int k = exp10 < -22 ? 22 : -exp10;
        v /= exact[k];
        exp10 += k;
        if (v == 0)
            break;
    }
    *out = neg ? -v : v;
    return 0;
}

long long ocpp_msg__floor_tenths(double v)
{
    double x = v * 10.0;
    long long n = (long long)x; /* toward zero */

    if ((double)n > x)
        n--;
    /* What a peer reads for "n/10" is the double nearest n/10, which is what
     * n / 10.0 computes: step until that is the largest one <= v. */
    while ((double)(n + 1) / 10.0 <= v)
        n++;
    while ((double)n / 10.0 > v)
        n--;
    return n;
}

/* ---- output ---- */

void ocpp_msg__out_init(struct ocpp_msg__out *o, char *buf, size_t cap)
{
    o->buf = buf;
    o->cap = buf ? cap : 0;
    o->len = 0;
    o->full = o->cap == 0;
}

static void ocpp_msg__put_n(struct ocpp_msg__out *o, const char *s, size_t n)
{
    if (o->full)
        return;
    if (n >= o->cap - o->len) { /* room for the NUL too */
        o->full = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

void ocpp_msg__put(struct ocpp_msg__out *o, const char *s)
{
    ocpp_msg__put_n(o, s, strlen(s));
}

void ocpp_msg__put_int(struct ocpp_msg__out *o, long long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    ocpp_msg__put_n(o, tmp + i, sizeof tmp - i);
}

void ocpp_msg__put_tenths(struct ocpp_msg__out *o, long long tenths)
{
    char frac[3] = { '.', 0, 0 };
    unsigned long long u;

    if (tenths < 0) {
        ocpp_msg__put(o, "-");
        u = 0ULL - (unsigned long long)tenths;
    } else {
        u = (unsigned long long)tenths;
    }
    ocpp_msg__put_int(o, (long long)(u / 10));
    frac[1] = (char)('0' + u % 10);
    ocpp_msg__put_n(o, frac, 2);
}

void ocpp_msg__put_str(struct ocpp_msg__out *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    ocpp_msg__put_n(o, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            ocpp_msg__put_n(o, esc, 2);
        } else if (c < 0x20) {
            ocpp_msg__put_n(o, esc, 6);
        } else {
            ocpp_msg__put_n(o, (const char *)&c, 1);
        }
    }
    ocpp_msg__put_n(o, "\"", 1);
}

int ocpp_msg__out_end(struct ocpp_msg__out *o)
{
    if (o->full) {
        if (o->cap)
            o->buf[0] = '\0';
        return -ENOSPC;
    }
    o->buf[o->len] = '\0';
    return (int)o->len;
}

/* ---- names ---- */

const char *ocpp_status_str(enum ocpp_status status)
{
    static const char *const names[] = {
        "Unknown", "Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE",
        "Finishing", "Reserved", "Unavailable", "Faulted", "Occupied",
    };

    if ((unsigned)status < sizeof names / sizeof names[0])
        return names[status];
    return "Unknown";
}
