/* libFuzzer target for the OCPP payload readers and writers (proxy/ocpp_msg.c,
 * ocpp_observe.c, ocpp_profile.c, ocpp_caps.c).
 *
 * The first byte picks the version (bit 7) and what the rest is fed to (bits
 * 0..4, see fuzz__targets); the rest is the payload, passed in a buffer of
 * exactly its size (libFuzzer's), without a NUL. Every parser must return one
 * of its documented codes, leave its output "unknown" on an error and sane on
 * success; a profile a CSMS sends that parses is written back with the
 * gateway's writer and must parse to the same fields. Target 15 builds a
 * profile from the bytes and checks the writer: bounded by cap, NUL-terminated,
 * and parsed back to the same fields. abort() on any violation.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz__check(int ok)
{
    if (!ok)
        abort();
}

static int fuzz__code_ok(int rc)
{
    return rc == 0 || rc == -EINVAL || rc == -EPROTO || rc == -EMSGSIZE || rc == -ENOMEM;
}

static int fuzz__str_ok(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static int fuzz__nan_or(double v, double lo, double hi)
{
    return isnan(v) || (v >= lo && v <= hi);
}

static const char *const fuzz__calls[] = {
    "BootNotification", "StatusNotification", "StartTransaction", "StopTransaction",
    "MeterValues", "TransactionEvent", "NotifyEVChargingNeeds",
};
static const char *const fuzz__results[] = {
    "BootNotification", "StartTransaction", "Authorize", "TransactionEvent",
};

static void fuzz__observe(enum ocpp_version v, const char *action, const char *p, size_t n)
{
    struct ocpp_observation o;
    int rc = ocpp_observe_call(v, action, p, n, &o);

    fuzz__check(fuzz__code_ok(rc));
    fuzz__check(fuzz__str_ok(o.transaction_id, sizeof o.transaction_id) &&
                fuzz__str_ok(o.id_tag, sizeof o.id_tag));
    if (rc < 0) {
        fuzz__check(o.kind == OCPP_OBS_NONE && o.connector == -1 && !o.transaction_id[0] &&
                    isnan(o.power_w) && o.timestamp == 0);
        return;
    }
    for (int i = 0; i < 3; i++)
        fuzz__check(fuzz__nan_or(o.current_a[i], -10000, 10000));
    fuzz__check(fuzz__nan_or(o.power_w, -10e6, 10e6) && fuzz__nan_or(o.energy_wh, 0, 1e12));
    fuzz__check(fuzz__nan_or(o.ev_min_a, -10000, 10000) &&
                fuzz__nan_or(o.ev_max_a, -10000, 10000) &&
                fuzz__nan_or(o.ev_energy_wh, 0, 1e12));
    fuzz__check(o.connector >= -1 && o.evse_connector >= 0 && o.status <= OCPP_ST_OCCUPIED);
    fuzz__check(o.kind == OCPP_OBS_NONE || o.kind <= OCPP_OBS_EV_NEEDS);
}

static void fuzz__result(enum ocpp_version v, const char *action, const char *p, size_t n)
{
    struct ocpp_answer a;
    int rc = ocpp_observe_result(v, action, p, n, &a);

    fuzz__check(fuzz__code_ok(rc) || rc == -ENOTSUP);
    fuzz__check(fuzz__str_ok(a.transaction_id, sizeof a.transaction_id));
    if (rc < 0)
        fuzz__check(!a.accepted && !a.transaction_id[0] && a.interval_s == -1);
}

/* Writes q (as parsed at now) with the gateway's writer, parses it again and
 * compares, when the writer can express it: one period at now, Absolute. */
static void fuzz__rewrite(enum ocpp_version v, const struct ocpp_csms_profile *q, time_t now)
{
    struct ocpp_limit_profile p;
    struct ocpp_csms_profile r;
    char buf[1024];
    int n;

    if (isnan(q->limit_now) || now < 0 || now > 253402300799LL)
        return;
    memset(&p, 0, sizeof p);
    p.connector = q->connector;
    p.profile_id = q->profile_id;
    p.stack_level = q->stack_level;
    p.purpose = q->purpose;
    p.unit = q->unit;
    p.limit = q->limit_now;
    p.phases = q->phases;
    p.start = now;
    memcpy(p.transaction_id, q->transaction_id, sizeof p.transaction_id);
    n = ocpp_write_set_profile(v, &p, buf, sizeof buf);
    if (n == -EINVAL) /* a limit too big for the writer, a tx id on another purpose */
        return;
    fuzz__check(n > 0 && (size_t)n < sizeof buf);
    fuzz__check(ocpp_parse_set_profile(v, buf, (size_t)n, now, &r) == 0);
    fuzz__check(r.connector == q->connector && r.profile_id == q->profile_id &&
                r.stack_level == q->stack_level && r.purpose == q->purpose &&
                r.unit == q->unit && r.phases == q->phases &&
                strcmp(r.transaction_id, q->transaction_id) == 0);
    fuzz__check(r.limit_now <= q->limit_now && r.limit_now > q->limit_now - 0.1000001);
    if (v == OCPP_16) /* 1.6 limits are already multiples of 0.1 */
        fuzz__check(r.limit_now == q->limit_now);
}

static void fuzz__set_profile(enum ocpp_version v, const char *p, size_t n)
{
    static const time_t nows[] = { 0, 1714557600, 1714557600 + 86400 * 3 + 4000, -86400,
                                   (time_t)INT64_MAX, (time_t)INT64_MIN };

    for (size_t i = 0; i < sizeof nows / sizeof nows[0]; i++) {
        struct ocpp_csms_profile q;
        int rc = ocpp_parse_set_profile(v, p, n, nows[i], &q);

        fuzz__check(fuzz__code_ok(rc));
        fuzz__check(fuzz__str_ok(q.transaction_id, sizeof q.transaction_id));
        if (rc < 0) {
            fuzz__check(q.profile_id == -1 && isnan(q.limit_now));
            return;
        }
        fuzz__check(q.connector >= 0 && q.profile_id >= 0 && q.stack_level >= 0);
        fuzz__check(q.unit == 'A' || q.unit == 'W');
        fuzz__check(fuzz__nan_or(q.limit_now, 0, 1e12) && q.phases >= 0 && q.phases <= 3);
        fuzz__check(v == OCPP_201 || q.purpose != OCPP_PURPOSE_EXTERNAL);
        fuzz__rewrite(v, &q, nows[i]);
    }
}

static void fuzz__others(int target, enum ocpp_version v, const char *p, size_t n)
{
    if (target == 12) {
        struct ocpp_clear_filter f;
        int rc = ocpp_parse_clear_profile(v, p, n, &f);

        fuzz__check(fuzz__code_ok(rc));
        fuzz__check(f.profile_id >= -1 && f.connector >= -1 && f.stack_level >= -1);
        if (rc < 0)
            fuzz__check(f.profile_id == -1 && !f.has_purpose);
    } else if (target == 13) {
        enum ocpp_reply r;
        int rc = ocpp_parse_reply_status(p, n, &r);

        fuzz__check(fuzz__code_ok(rc) && r <= OCPP_REPLY_UNKNOWN);
    } else {
        struct ocpp_caps c;
        int rc = ocpp_parse_caps(v, p, n, &c);

        fuzz__check(fuzz__code_ok(rc));
        fuzz__check(c.smart_charging >= -1 && c.smart_charging <= 1 &&
                    c.max_stack_level >= -1 && c.max_profiles >= -1);
        if (rc < 0 || v == OCPP_201)
            fuzz__check(c.max_profiles == -1);
    }
}

/* Target 15: a profile from the bytes through the writer. */
static void fuzz__writer(enum ocpp_version v, const uint8_t *d, size_t n)
{
    struct ocpp_limit_profile p;
    struct ocpp_csms_profile q;
    char buf[600];
    uint32_t limit_bits;
    size_t cap;
    int rc;

    if (n < 24)
        return;
    memset(&p, 0, sizeof p);
    p.connector = d[0] % 4;
    p.profile_id = (int)(((uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3]) & 0x7fffffff);
    p.stack_level = d[4];
    p.purpose = (enum ocpp_purpose)(d[5] % 5); /* 4: out of range */
    p.unit = d[6] & 1 ? 'W' : 'A';
    memcpy(&limit_bits, d + 7, sizeof limit_bits);
    p.limit = (double)limit_bits / 1000.0;
    if (d[11] & 1)
        p.limit = -p.limit;
    p.phases = d[12] % 5;
    p.start = (time_t)(((uint64_t)d[13] << 32 | (uint64_t)d[14] << 24 | (uint64_t)d[15] << 16 |
                        (uint64_t)d[16] << 8 | d[17]) % 260000000000ULL);
    p.valid_to = d[18] & 1 ? p.start + d[19] * 60 : 0;
    p.duration_s = d[18] & 2 ? d[20] * 60 : 0;
    if (d[18] & 4)
        memcpy(p.transaction_id, d + 24, n - 24 < 63 ? n - 24 : 63);
    cap = (size_t)d[21] << 8 | d[22];
    if (cap > sizeof buf)
        cap = sizeof buf;
    memset(buf, 0x5A, sizeof buf);
    rc = ocpp_write_set_profile(v, &p, buf, cap);
    fuzz__check(rc == -EINVAL || rc == -ENOSPC || (rc > 0 && (size_t)rc < cap));
    for (size_t i = cap; i < sizeof buf; i++)
        fuzz__check(buf[i] == 0x5A);
    if (rc < 0) {
        fuzz__check(cap == 0 || buf[0] == '\0');
        return;
    }
    fuzz__check(buf[rc] == '\0' && strlen(buf) == (size_t)rc);
    fuzz__check(ocpp_parse_set_profile(v, buf, (size_t)rc, p.start, &q) == 0);
    fuzz__check(q.connector == p.connector && q.profile_id == p.profile_id &&
                q.stack_level == p.stack_level && q.purpose == p.purpose && q.unit == p.unit &&
                q.valid_to == p.valid_to && strcmp(q.transaction_id, p.transaction_id) == 0);
    /* At its own start a lease of 0 minutes is already over: no period, no
     * phases. Otherwise the one period, floored to 0.1. */
    if (p.valid_to && p.valid_to <= p.start)
        fuzz__check(isnan(q.limit_now) && q.phases == 0);
    else
        fuzz__check(q.limit_now <= p.limit && q.limit_now > p.limit - 0.1000001 &&
                    q.phases == p.phases);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum ocpp_version v;
    int target;
    const char *p;
    size_t n;

    if (size < 1)
        return 0;
    v = data[0] & 0x80 ? OCPP_201 : OCPP_16;
    target = data[0] & 0x0F;
    p = (const char *)data + 1;
    n = size - 1;
    if (target < 7)
        fuzz__observe(v, fuzz__calls[target], p, n);
    else if (target < 11)
        fuzz__result(v, fuzz__results[target - 7], p, n);
    else if (target == 11)
        fuzz__set_profile(v, p, n);
    else if (target < 15)
        fuzz__others(target, v, p, n);
    else
        fuzz__writer(v, data + 1, n);
    return 0;
}
