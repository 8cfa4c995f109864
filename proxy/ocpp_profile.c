/* Charging profiles: the SetChargingProfile / ClearChargingProfile payloads
 * the gateway writes, the replies to them, and the ones a CSMS sends that the
 * gateway takes for itself (their filters and the limit in force now).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ocpp_msg.h"
#include "ocpp_msg_util.h"

#define N_(a) (sizeof(a) / sizeof((a)[0]))

/* Indexed by enum ocpp_purpose. */
static const char *const profile__purpose16[] = {
    "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile", NULL,
};
static const char *const profile__purpose201[] = {
    "ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile",
    "ChargingStationExternalConstraints",
};

const char *ocpp_purpose_str(enum ocpp_version v, enum ocpp_purpose purpose)
{
    if ((unsigned)purpose > OCPP_PURPOSE_EXTERNAL || (v != OCPP_16 && v != OCPP_201))
        return NULL;
    return v == OCPP_16 ? profile__purpose16[purpose] : profile__purpose201[purpose];
}

/* ---- writers ---- */

static void profile__reset(char *buf, size_t cap)
{
    if (buf && cap)
        buf[0] = '\0';
}

/* A 1.6 transactionId must be a JSON integer: decimal text without frills. */
/* The canonical text of an integer, as the parser prints it back: no leading
 * zeros, and no "-0" (which reads back as 0). */
static bool profile__is_decimal_int(const char *s)
{
    size_t n = 0;
    bool negative = *s == '-';

    if (negative)
        s++;
    for (; s[n]; n++)
        if (s[n] < '0' || s[n] > '9')
            return false;
    return n > 0 && n <= 15 && (s[0] != '0' || (n == 1 && !negative));
}

static int profile__check(enum ocpp_version v, const struct ocpp_limit_profile *p)
{
    double max;

    if (!ocpp_purpose_str(v, p->purpose))
        return -EINVAL;
    if (p->connector < 0 || p->profile_id < 0 || p->stack_level < 0 || p->phases < 0 ||
        p->phases > 3 || p->duration_s < 0)
        return -EINVAL;
    /* 1.6 §5.16.1 / 2.0.1 K01: the charger-wide purposes live on connector/EVSE 0. */
    if ((p->purpose == OCPP_PURPOSE_CHARGER_MAX || p->purpose == OCPP_PURPOSE_EXTERNAL) &&
        p->connector != 0)
        return -EINVAL;
    if (p->unit != 'A' && p->unit != 'W')
        return -EINVAL;
    max = p->unit == 'A' ? 10000.0 : 10e6;
    if (!isfinite(p->limit) || p->limit < 0 || p->limit > max)
        return -EINVAL;
    if (!memchr(p->transaction_id, '\0', sizeof p->transaction_id))
        return -EINVAL;
    if (p->transaction_id[0]) {
        if (p->purpose != OCPP_PURPOSE_TX)
            return -EINVAL;
        /* 2.0.1: a string, which a peer's strict JSON parser (and ours)
         * refuses unless it is UTF-8. */
        if (v == OCPP_16 ? !profile__is_decimal_int(p->transaction_id)
                         : strlen(p->transaction_id) > 36 ||
                               !frame_utf8_valid(p->transaction_id, strlen(p->transaction_id)))
            return -EINVAL;
    }
    return 0;
}

int ocpp_write_set_profile(enum ocpp_version v, const struct ocpp_limit_profile *p,
                           char *buf, size_t cap)
{
    struct ocpp_msg__out o;
    char start[21], valid_to[21];
    const char *unit;
    int rc;

    profile__reset(buf, cap);
    if (!p || (rc = profile__check(v, p)) < 0)
        return -EINVAL;
    if (ocpp_msg__format_time(p->start, start) < 0 ||
        (p->valid_to && ocpp_msg__format_time(p->valid_to, valid_to) < 0))
        return -EINVAL;
    unit = p->unit == 'A' ? "\"A\"" : "\"W\"";

    ocpp_msg__out_init(&o, buf, cap);
    ocpp_msg__put(&o, v == OCPP_16 ? "{\"connectorId\":" : "{\"evseId\":");
    ocpp_msg__put_int(&o, p->connector);
    ocpp_msg__put(&o, v == OCPP_16 ? ",\"csChargingProfiles\":{\"chargingProfileId\":"
                                   : ",\"chargingProfile\":{\"id\":");
    ocpp_msg__put_int(&o, p->profile_id);
    if (v == OCPP_16 && p->transaction_id[0]) {
        ocpp_msg__put(&o, ",\"transactionId\":");
        ocpp_msg__put(&o, p->transaction_id);
    }
    ocpp_msg__put(&o, ",\"stackLevel\":");
    ocpp_msg__put_int(&o, p->stack_level);
    ocpp_msg__put(&o, ",\"chargingProfilePurpose\":");
    ocpp_msg__put_str(&o, ocpp_purpose_str(v, p->purpose));
    ocpp_msg__put(&o, ",\"chargingProfileKind\":\"Absolute\"");
    if (p->valid_to) {
        ocpp_msg__put(&o, ",\"validTo\":");
        ocpp_msg__put_str(&o, valid_to);
    }
    if (v == OCPP_201 && p->transaction_id[0]) {
        ocpp_msg__put(&o, ",\"transactionId\":");
        ocpp_msg__put_str(&o, p->transaction_id);
    }
    if (v == OCPP_16) {
        ocpp_msg__put(&o, ",\"chargingSchedule\":{");
    } else {
        /* The schedule id is required in 2.0.1; the profile's id is as unique. */
        ocpp_msg__put(&o, ",\"chargingSchedule\":[{\"id\":");
        ocpp_msg__put_int(&o, p->profile_id);
        ocpp_msg__put(&o, ",");
    }
    if (p->duration_s) {
        ocpp_msg__put(&o, "\"duration\":");
        ocpp_msg__put_int(&o, p->duration_s);
        ocpp_msg__put(&o, ",");
    }
    ocpp_msg__put(&o, "\"startSchedule\":");
    ocpp_msg__put_str(&o, start);
    ocpp_msg__put(&o, ",\"chargingRateUnit\":");
    ocpp_msg__put(&o, unit);
    ocpp_msg__put(&o, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":");
    /* 1.6 limits are multipleOf 0.1: round down, never up (7.35 -> 7.3). */
    ocpp_msg__put_tenths(&o, ocpp_msg__floor_tenths(p->limit));
    if (p->phases) {
        ocpp_msg__put(&o, ",\"numberPhases\":");
        ocpp_msg__put_int(&o, p->phases);
    }
    ocpp_msg__put(&o, v == OCPP_16 ? "}]}}}" : "}]}]}}");
    return ocpp_msg__out_end(&o);
}

int ocpp_write_clear_profile(enum ocpp_version v, int profile_id, char *buf, size_t cap)
{
    struct ocpp_msg__out o;

    profile__reset(buf, cap);
    if ((v != OCPP_16 && v != OCPP_201) || profile_id < 0)
        return -EINVAL;
    ocpp_msg__out_init(&o, buf, cap);
    ocpp_msg__put(&o, v == OCPP_16 ? "{\"id\":" : "{\"chargingProfileId\":");
    ocpp_msg__put_int(&o, profile_id);
    ocpp_msg__put(&o, "}");
    return ocpp_msg__out_end(&o);
}

int ocpp_write_status_reply(const char *status, char *buf, size_t cap)
{
    struct ocpp_msg__out o;

    profile__reset(buf, cap);
    if (!status || !*status)
        return -EINVAL;
    ocpp_msg__out_init(&o, buf, cap);
    ocpp_msg__put(&o, "{\"status\":");
    ocpp_msg__put_str(&o, status);
    ocpp_msg__put(&o, "}");
    return ocpp_msg__out_end(&o);
}

/* ---- readers ---- */

int ocpp_parse_reply_status(const char *payload, size_t len, enum ocpp_reply *out)
{
    /* The union of Set (Accepted, Rejected, NotSupported in 1.6) and Clear
     * (Accepted, Unknown) of both versions, indexed by enum ocpp_reply. */
    static const char *const names[] = { "Accepted", "Rejected", "NotSupported", "Unknown" };
    cJSON *root;
    int st, rc;

    *out = OCPP_REPLY_REJECTED;
    if ((rc = ocpp_msg__parse(payload, len, &root)) < 0)
        return rc;
    rc = ocpp_msg__need(ocpp_msg__enum(root, "status", names, N_(names), &st));
    ocpp_msg__release(root);
    if (rc == 0)
        *out = (enum ocpp_reply)st;
    return rc;
}

static int profile__purpose(enum ocpp_version v, const cJSON *obj, const char *name,
                            enum ocpp_purpose *out)
{
    int p;
    int rc = ocpp_msg__enum(obj, name, v == OCPP_16 ? profile__purpose16 : profile__purpose201,
                            4, &p);

    if (rc == 0)
        *out = (enum ocpp_purpose)p;
    return rc;
}

static int profile__id(const cJSON *obj, const char *name, int *out)
{
    long long id;
    int rc = ocpp_msg__int(obj, name, 0, 2147483647LL, &id);

    if (rc == 0)
        *out = (int)id;
    return rc;
}

struct profile__period {
    long long start;
    double limit;
    int phases;
};

/* Checks every period; *at gets the one in force elapsed seconds into the
 * schedule (or the first one when first), *found whether there is one. */
static int profile__periods(enum ocpp_version v, const cJSON *arr, bool first,
                            long long elapsed, struct profile__period *at, bool *found)
{
    const cJSON *it;
    long long prev = -1;

    *found = false;
    if (cJSON_GetArraySize(arr) == 0)
        return -EINVAL;
    cJSON_ArrayForEach(it, arr) {
        struct profile__period p = { 0, 0, 0 };
        long long phases = 0;
        int rc;

        if (!cJSON_IsObject(it))
            return -EPROTO;
        if ((rc = ocpp_msg__need(ocpp_msg__int(it, "startPeriod", 0, 2147483647LL,
                                               &p.start))) < 0 ||
            (rc = ocpp_msg__need(ocpp_msg__num(it, "limit", &p.limit))) < 0 ||
            (rc = ocpp_msg__int(it, "numberPhases", 1, 3, &phases)) < 0)
            return rc;
        /* Periods follow each other; a negative or absurd limit means nothing
         * to an allocator; 1.6 limits are multipleOf 0.1 (exactly as a
         * peer's parser reads "7.3": the double nearest 73/10). */
        if (p.start <= prev || p.limit < 0 || p.limit > 1e12)
            return -EPROTO;
        if (v == OCPP_16 && (double)ocpp_msg__floor_tenths(p.limit) / 10.0 != p.limit)
            return -EPROTO;
        p.phases = (int)phases;
        if (first ? prev < 0 : p.start <= elapsed) {
            *at = p;
            *found = true;
        }
        prev = p.start;
    }
    return 0;
}

static void profile__csms_init(struct ocpp_csms_profile *out)
{
    memset(out, 0, sizeof *out);
    out->connector = out->profile_id = out->stack_level = -1;
    out->limit_now = NAN;
}

static int profile__parse_set(enum ocpp_version v, const cJSON *root, time_t now,
                              struct ocpp_csms_profile *out)
{
    static const char *const kinds[] = { "Absolute", "Recurring", "Relative" };
    static const char *const recurrency[] = { "Daily", "Weekly" };
    static const char *const units[] = { "A", "W" };
    const cJSON *prof, *sched, *periods;
    struct profile__period at;
    time_t start = 0;
    long long duration = 0, elapsed = 0;
    int kind, rec = -1, unit, rc, has_start, has_duration;
    bool found, first;

    if ((rc = ocpp_msg__need(profile__id(root, v == OCPP_16 ? "connectorId" : "evseId",
                                         &out->connector))) < 0 ||
        (rc = ocpp_msg__need(ocpp_msg__child(root, v == OCPP_16 ? "csChargingProfiles"
                                                                : "chargingProfile",
                                             cJSON_Object, &prof))) < 0 ||
        (rc = ocpp_msg__need(profile__id(prof, v == OCPP_16 ? "chargingProfileId" : "id",
                                         &out->profile_id))) < 0 ||
        (rc = ocpp_msg__need(profile__id(prof, "stackLevel", &out->stack_level))) < 0 ||
        (rc = ocpp_msg__need(profile__purpose(v, prof, "chargingProfilePurpose",
                                              &out->purpose))) < 0 ||
        (rc = ocpp_msg__need(ocpp_msg__enum(prof, "chargingProfileKind", kinds, N_(kinds),
                                            &kind))) < 0 ||
        (rc = ocpp_msg__enum(prof, "recurrencyKind", recurrency, N_(recurrency), &rec)) < 0 ||
        (rc = ocpp_msg__time(prof, "validFrom", &out->valid_from)) < 0 ||
        (rc = ocpp_msg__time(prof, "validTo", &out->valid_to)) < 0)
        return rc;
    if (v == OCPP_16) {
        long long tx;

        if ((rc = ocpp_msg__int(prof, "transactionId", -9007199254740992LL,
                                9007199254740992LL, &tx)) < 0)
            return rc;
        if (rc == 0)
            snprintf(out->transaction_id, sizeof out->transaction_id, "%lld", tx);
        if ((rc = ocpp_msg__need(ocpp_msg__child(prof, "chargingSchedule", cJSON_Object,
                                                 &sched))) < 0)
            return rc;
    } else {
        const char *tx;
        int n;

        if ((rc = ocpp_msg__str(prof, "transactionId", 36, &tx)) < 0)
            return rc;
        if (rc == 0)
            ocpp_msg__copy(out->transaction_id, sizeof out->transaction_id, tx);
        if ((rc = ocpp_msg__need(ocpp_msg__child(prof, "chargingSchedule", cJSON_Array,
                                                 &sched))) < 0)
            return rc;
        n = cJSON_GetArraySize(sched);
        if (n < 1 || n > 3) /* minItems 1, maxItems 3 */
            return -EPROTO;
        sched = cJSON_GetArrayItem(sched, 0);
        if (!cJSON_IsObject(sched))
            return -EPROTO;
    }
    if ((has_duration = ocpp_msg__int(sched, "duration", 0, 2147483647LL, &duration)) < 0)
        return has_duration;
    if ((has_start = ocpp_msg__time(sched, "startSchedule", &start)) < 0)
        return has_start;
    if ((rc = ocpp_msg__need(ocpp_msg__enum(sched, "chargingRateUnit", units, N_(units),
                                            &unit))) < 0 ||
        (rc = ocpp_msg__need(ocpp_msg__child(sched, "chargingSchedulePeriod", cJSON_Array,
                                             &periods))) < 0)
        return rc;
    out->unit = unit == 0 ? 'A' : 'W';
    /* 1.6 §3.13.1, 2.0.1 K01.FR.38: charger-wide purposes only on connector/EVSE 0. */
    if ((out->purpose == OCPP_PURPOSE_CHARGER_MAX || out->purpose == OCPP_PURPOSE_EXTERNAL) &&
        out->connector != 0)
        return -EPROTO;

    /* Keep now - start far from overflow: start is a year 0..9999. */
    if (now > (time_t)(INT64_C(1) << 40))
        now = (time_t)(INT64_C(1) << 40);
    if (now < -(time_t)(INT64_C(1) << 40))
        now = -(time_t)(INT64_C(1) << 40);
    first = true;
    if (has_start == 0 && kind == 0) {
        elapsed = (long long)now - (long long)start;
        first = false;
    } else if (has_start == 0 && kind == 1 && rec >= 0) {
        long long period = rec == 0 ? 86400 : 7 * 86400;

        elapsed = ((long long)now - (long long)start) % period;
        if (elapsed < 0)
            elapsed += period;
        first = false;
    }
    if ((rc = profile__periods(v, periods, first, elapsed, &at, &found)) < 0)
        return rc;
    if (!found)
        return 0; /* not started yet */
    if (!first && has_duration == 0 && elapsed >= duration)
        return 0; /* over */
    if ((out->valid_from && now < out->valid_from) || (out->valid_to && now >= out->valid_to))
        return 0;
    out->limit_now = at.limit;
    out->phases = at.phases;
    return 0;
}

int ocpp_parse_set_profile(enum ocpp_version v, const char *payload, size_t len, time_t now,
                           struct ocpp_csms_profile *out)
{
    cJSON *root;
    int rc;

    profile__csms_init(out);
    if (v != OCPP_16 && v != OCPP_201)
        return -EINVAL;
    if ((rc = ocpp_msg__parse(payload, len, &root)) < 0)
        return rc;
    rc = profile__parse_set(v, root, now, out);
    ocpp_msg__release(root);
    if (rc < 0)
        profile__csms_init(out);
    return rc;
}

int ocpp_parse_clear_profile(enum ocpp_version v, const char *payload, size_t len,
                             struct ocpp_clear_filter *out)
{
    const cJSON *root_c, *crit;
    cJSON *root;
    int rc;

    out->profile_id = out->connector = out->stack_level = -1;
    out->has_purpose = false;
    out->purpose = OCPP_PURPOSE_CHARGER_MAX;
    if (v != OCPP_16 && v != OCPP_201)
        return -EINVAL;
    if ((rc = ocpp_msg__parse(payload, len, &root)) < 0)
        return rc;
    root_c = root;
    crit = root_c;
    if ((rc = profile__id(root_c, v == OCPP_16 ? "id" : "chargingProfileId",
                          &out->profile_id)) < 0)
        goto done;
    if (v == OCPP_201) {
        rc = ocpp_msg__child(root_c, "chargingProfileCriteria", cJSON_Object, &crit);
        if (rc != 0) {
            rc = rc < 0 ? rc : 0;
            goto done;
        }
    }
    if ((rc = profile__id(crit, v == OCPP_16 ? "connectorId" : "evseId", &out->connector)) < 0 ||
        (rc = profile__id(crit, "stackLevel", &out->stack_level)) < 0 ||
        (rc = profile__purpose(v, crit, "chargingProfilePurpose", &out->purpose)) < 0)
        goto done;
    out->has_purpose = rc == 0;
    rc = 0;
done:
    ocpp_msg__release(root);
    if (rc < 0) {
        out->profile_id = out->connector = out->stack_level = -1;
        out->has_purpose = false;
        out->purpose = OCPP_PURPOSE_CHARGER_MAX;
    }
    return rc;
}
