/* Charging profiles and composite schedules in the other version's shape:
 * 1.6 has one schedule per profile and limits in multiples of 0.1, 2.0.1 a
 * list of up to three schedules with their own ids, and different names. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bridge_int.h"
#include "ocpp_msg_util.h"

#define BRIDGE__INT_MAX 2147483647LL

static const struct bridge__pair bridge__purpose_16[] = {
    { "ChargingStationMaxProfile", "ChargePointMaxProfile" },
    { "TxDefaultProfile", "TxDefaultProfile" }, { "TxProfile", "TxProfile" },
};
static const struct bridge__pair bridge__purpose_201[] = {
    { "ChargePointMaxProfile", "ChargingStationMaxProfile" },
    { "TxDefaultProfile", "TxDefaultProfile" }, { "TxProfile", "TxProfile" },
};
static const char *const bridge__kinds[] = { "Absolute", "Recurring", "Relative" };
static const char *const bridge__recurrency[] = { "Daily", "Weekly" };
static const char *const bridge__units[] = { "A", "W" };

/* A number as 1.6 writes it: a multiple of 0.1, rounded down. */
static cJSON *bridge__tenths(double v)
{
    return cJSON_CreateNumber((double)ocpp_msg__floor_tenths(v) / 10.0);
}

/* The members both versions share in one schedule: duration, startSchedule,
 * chargingRateUnit, the periods (startPeriod, limit, numberPhases) and
 * minChargingRate. to16: limits rounded down to 0.1. */
static int bridge__schedule(const cJSON *in, bool to16, cJSON *out)
{
    const cJSON *periods = cJSON_GetObjectItemCaseSensitive(in, "chargingSchedulePeriod"), *p;
    long long x;
    int unit;
    time_t t;
    double min_rate = 0;
    if (!cJSON_IsObject(in) || bridge__int(in, "duration", 0, BRIDGE__INT_MAX, false, &x) < 0 ||
        ocpp_msg__time(in, "startSchedule", &t) < 0 ||
        ocpp_msg__need(ocpp_msg__enum(in, "chargingRateUnit", bridge__units, 2, &unit)) < 0 ||
        ocpp_msg__num(in, "minChargingRate", &min_rate) < 0 || !cJSON_IsArray(periods) ||
        cJSON_GetArraySize(periods) < 1 || cJSON_GetArraySize(periods) > 1024)
        return -EPROTO;
    bool ok = bridge__copy(out, in, "duration", NULL) && bridge__copy(out, in, "startSchedule", NULL) &&
              cJSON_AddStringToObject(out, "chargingRateUnit", bridge__units[unit]);
    cJSON *list = ok ? cJSON_AddArrayToObject(out, "chargingSchedulePeriod") : NULL;
    ok = list != NULL;
    cJSON_ArrayForEach(p, periods) {
        double limit;
        long long start, phases;
        if (!cJSON_IsObject(p) || bridge__int(p, "startPeriod", 0, BRIDGE__INT_MAX, true, &start) < 0 ||
            ocpp_msg__need(ocpp_msg__num(p, "limit", &limit)) < 0 || limit < 0 || limit > 1e12 ||
            bridge__int(p, "numberPhases", 1, 3, false, &phases) < 0)
            return -EPROTO;
        cJSON *one = ok ? cJSON_CreateObject() : NULL;
        ok = one && cJSON_AddNumberToObject(one, "startPeriod", (double)start) &&
             cJSON_AddItemToObject(one, "limit", to16 ? bridge__tenths(limit) : cJSON_CreateNumber(limit)) &&
             bridge__copy(one, p, "numberPhases", NULL);
        if (one)
            cJSON_AddItemToArray(list, one);
        if (!ok)
            break;
    }
    if (ok && cJSON_GetObjectItemCaseSensitive(in, "minChargingRate"))
        ok = cJSON_AddItemToObject(out, "minChargingRate",
                                   to16 ? bridge__tenths(min_rate) : cJSON_CreateNumber(min_rate));
    return ok ? 0 : -ENOMEM;
}

/* The profile's own members: id, stackLevel, purpose, kind, recurrency,
 * validity. */
static int bridge__profile_head(const cJSON *in, bool to16, cJSON *out, const char **purpose)
{
    long long id, level;
    int kind, rec;
    time_t t;
    const char *p;
    if (!cJSON_IsObject(in) ||
        bridge__int(in, to16 ? "id" : "chargingProfileId", 0, BRIDGE__INT_MAX, true, &id) < 0 ||
        bridge__int(in, "stackLevel", 0, BRIDGE__INT_MAX, true, &level) < 0 ||
        bridge__str(in, "chargingProfilePurpose", 64, true, &p) < 0 ||
        ocpp_msg__need(ocpp_msg__enum(in, "chargingProfileKind", bridge__kinds, 3, &kind)) < 0 ||
        ocpp_msg__enum(in, "recurrencyKind", bridge__recurrency, 2, &rec) < 0 ||
        ocpp_msg__time(in, "validFrom", &t) < 0 || ocpp_msg__time(in, "validTo", &t) < 0)
        return -EPROTO;
    *purpose = to16 ? bridge__map(bridge__purpose_16, BRIDGE__N(bridge__purpose_16), p)
                    : bridge__map(bridge__purpose_201, BRIDGE__N(bridge__purpose_201), p);
    if (!*purpose)
        return to16 && strcmp(p, "ChargingStationExternalConstraints") == 0 ? -ENOTSUP : -EPROTO;
    bool ok = cJSON_AddNumberToObject(out, to16 ? "chargingProfileId" : "id", (double)id) &&
              cJSON_AddNumberToObject(out, "stackLevel", (double)level) &&
              cJSON_AddStringToObject(out, "chargingProfilePurpose", *purpose) &&
              cJSON_AddStringToObject(out, "chargingProfileKind", bridge__kinds[kind]) &&
              bridge__copy(out, in, "recurrencyKind", NULL) && bridge__copy(out, in, "validFrom", NULL) &&
              bridge__copy(out, in, "validTo", NULL);
    return ok ? 0 : -ENOMEM;
}

int bridge__profile_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *purpose = NULL, *tx;
    const cJSON *schedules = cJSON_GetObjectItemCaseSensitive(in, "chargingSchedule");
    int rc = bridge__object(out);
    if (rc == 0)
        rc = bridge__profile_head(in, true, *out, &purpose);
    if (rc == 0 && (bridge__str(in, "transactionId", 36, false, &tx) < 0 || !cJSON_IsArray(schedules) ||
                    cJSON_GetArraySize(schedules) < 1 || cJSON_GetArraySize(schedules) > 3))
        rc = -EPROTO;
    /* 1.6 has one schedule per profile: the others (ISO 15118 alternatives)
     * cannot be carried. */
    if (rc == 0 && cJSON_GetArraySize(schedules) > 1)
        rc = -ENOTSUP;
    bool ok = true;
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(in, "transactionId")) {
        if (ctx->tx16 == 0)
            rc = -ENOENT;
        else
            ok = cJSON_AddNumberToObject(*out, "transactionId", (double)ctx->tx16) != NULL;
    }
    cJSON *sched = rc == 0 && ok ? cJSON_AddObjectToObject(*out, "chargingSchedule") : NULL;
    if (rc == 0 && ok)
        rc = sched ? bridge__schedule(cJSON_GetArrayItem(schedules, 0), true, sched) : -ENOMEM;
    return bridge__done(rc, ok, out);
}

int bridge__profile_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *purpose = NULL;
    long long tx, id = 0;
    int rc = bridge__object(out);
    if (rc == 0)
        rc = bridge__profile_head(in, false, *out, &purpose);
    if (rc == 0 && (bridge__int(in, "transactionId", INT32_MIN, INT32_MAX, false, &tx) < 0 ||
                    bridge__int(in, "chargingProfileId", 0, BRIDGE__INT_MAX, true, &id) < 0))
        rc = -EPROTO;
    bool ok = true;
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(in, "transactionId")) {
        if (!ctx->tx201)
            rc = -ENOENT;
        else
            ok = cJSON_AddStringToObject(*out, "transactionId", ctx->tx201) != NULL;
    }
    cJSON *list = rc == 0 && ok ? cJSON_AddArrayToObject(*out, "chargingSchedule") : NULL;
    cJSON *sched = list ? cJSON_CreateObject() : NULL;
    if (sched)
        cJSON_AddItemToArray(list, sched);
    /* The schedule's id is required in 2.0.1: the profile's is as unique. */
    if (rc == 0 && ok)
        ok = sched && cJSON_AddNumberToObject(sched, "id", (double)id);
    if (rc == 0 && ok)
        rc = bridge__schedule(cJSON_GetObjectItemCaseSensitive(in, "chargingSchedule"), false, sched);
    return bridge__done(rc, ok, out);
}

/* ---- the CALLs that carry them ---- */

/* SetChargingProfile: the profile under from_key, converted, under to_key,
 * next to the connector (1.6) or EVSE (2.0.1) id. */
static int bridge__set_profile(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out,
                               const char *from_key, const char *id_key, const char *to_key,
                               int (*convert)(const cJSON *, const struct bridge_ctx *, cJSON **))
{
    cJSON *profile = NULL;
    int rc = bridge__object(out);
    if (rc == 0)
        rc = convert(cJSON_GetObjectItemCaseSensitive(in, from_key), ctx, &profile);
    bool ok = rc < 0 || (cJSON_AddNumberToObject(*out, id_key, ctx->connector) &&
                         cJSON_AddItemToObject(*out, to_key, profile));
    if (!ok)
        cJSON_Delete(profile);
    return bridge__done(rc, ok, out);
}

int bridge__set_profile_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    return bridge__set_profile(in, ctx, out, "chargingProfile", "connectorId", "csChargingProfiles",
                               bridge__profile_16);
}

int bridge__set_profile_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    return bridge__set_profile(in, ctx, out, "csChargingProfiles", "evseId", "chargingProfile",
                               bridge__profile_201);
}

/* The criteria both versions share, ids and connectors aside. */
static bool bridge__clear_criteria(const cJSON *in, bool to16, cJSON *out)
{
    const char *p = NULL;
    if (bridge__str(in, "chargingProfilePurpose", 64, false, &p) != 0)
        return bridge__copy(out, in, "stackLevel", NULL);
    const char *mapped = to16 ? bridge__map(bridge__purpose_16, BRIDGE__N(bridge__purpose_16), p)
                              : bridge__map(bridge__purpose_201, BRIDGE__N(bridge__purpose_201), p);
    return mapped && cJSON_AddStringToObject(out, "chargingProfilePurpose", mapped) &&
           bridge__copy(out, in, "stackLevel", NULL);
}

int bridge__clear_profile_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const cJSON *crit = cJSON_GetObjectItemCaseSensitive(in, "chargingProfileCriteria");
    long long x;
    const char *p = NULL;
    int rc = bridge__object(out);
    if (rc == 0 && (bridge__int(in, "chargingProfileId", 0, BRIDGE__INT_MAX, false, &x) < 0 ||
                    (crit && (!cJSON_IsObject(crit) ||
                              bridge__int(crit, "evseId", 0, BRIDGE__INT_MAX, false, &x) < 0 ||
                              bridge__int(crit, "stackLevel", 0, BRIDGE__INT_MAX, false, &x) < 0 ||
                              bridge__str(crit, "chargingProfilePurpose", 64, false, &p) < 0))))
        rc = -EPROTO;
    if (rc == 0 && p && !bridge__map(bridge__purpose_16, BRIDGE__N(bridge__purpose_16), p))
        rc = strcmp(p, "ChargingStationExternalConstraints") == 0 ? -ENOTSUP : -EPROTO;
    bool ok = rc < 0 || (bridge__copy(*out, in, "chargingProfileId", "id") &&
                         (!cJSON_GetObjectItemCaseSensitive(crit, "evseId") ||
                          cJSON_AddNumberToObject(*out, "connectorId", ctx->connector)) &&
                         (!crit || bridge__clear_criteria(crit, true, *out)));
    return bridge__done(rc, ok, out);
}

int bridge__clear_profile_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    long long x;
    const char *p = NULL;
    int rc = bridge__object(out);
    if (rc == 0 && (bridge__int(in, "id", 0, BRIDGE__INT_MAX, false, &x) < 0 ||
                    bridge__int(in, "connectorId", 0, BRIDGE__INT_MAX, false, &x) < 0 ||
                    bridge__int(in, "stackLevel", 0, BRIDGE__INT_MAX, false, &x) < 0 ||
                    bridge__str(in, "chargingProfilePurpose", 64, false, &p) < 0 ||
                    (p && !bridge__map(bridge__purpose_201, BRIDGE__N(bridge__purpose_201), p))))
        rc = -EPROTO;
    bool any = cJSON_GetObjectItemCaseSensitive(in, "connectorId") || p ||
               cJSON_GetObjectItemCaseSensitive(in, "stackLevel");
    cJSON *crit = rc == 0 && any ? cJSON_AddObjectToObject(*out, "chargingProfileCriteria") : NULL;
    bool ok = rc < 0 || (bridge__copy(*out, in, "id", "chargingProfileId") &&
                         (!any || (crit && (!cJSON_GetObjectItemCaseSensitive(in, "connectorId") ||
                                            cJSON_AddNumberToObject(crit, "evseId", ctx->connector)) &&
                                   bridge__clear_criteria(in, false, crit))));
    return bridge__done(rc, ok, out);
}

/* GetCompositeSchedule: only the connector's key differs between versions. */
static int bridge__composite(const cJSON *in, const struct bridge_ctx *ctx, const char *connector_key, cJSON **out)
{
    long long x;
    int unit;
    int rc = bridge__object(out);
    if (rc == 0 && (bridge__int(in, "duration", 0, BRIDGE__INT_MAX, true, &x) < 0 ||
                    ocpp_msg__enum(in, "chargingRateUnit", bridge__units, 2, &unit) < 0))
        rc = -EPROTO;
    bool ok = rc < 0 || (cJSON_AddNumberToObject(*out, connector_key, ctx->connector) &&
                         bridge__copy(*out, in, "duration", NULL) &&
                         bridge__copy(*out, in, "chargingRateUnit", NULL));
    return bridge__done(rc, ok, out);
}

int bridge__composite_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    return bridge__composite(in, ctx, "connectorId", out);
}

int bridge__composite_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    return bridge__composite(in, ctx, "evseId", out);
}

static const char *const bridge__generic[] = { "Accepted", "Rejected" };

/* A 1.6 charger's composite schedule for a 2.0.1 site (ctx: the site's EVSE,
 * the duration asked, now). */
int bridge__composite_answer_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(in, "chargingSchedule");
    int st;
    time_t t;
    int rc = bridge__object(out);
    if (rc == 0 && (ocpp_msg__need(ocpp_msg__enum(in, "status", bridge__generic, 2, &st)) < 0 ||
                    ocpp_msg__time(in, "scheduleStart", &t) < 0))
        rc = -EPROTO;
    bool ok = rc < 0 || cJSON_AddStringToObject(*out, "status", bridge__generic[st]);
    cJSON *sched = rc == 0 && ok && st == 0 && cs ? cJSON_AddObjectToObject(*out, "schedule") : NULL;
    if (sched) {
        rc = bridge__schedule(cs, false, sched);
        cJSON_DeleteItemFromObjectCaseSensitive(sched, "startSchedule");
        cJSON_DeleteItemFromObjectCaseSensitive(sched, "minChargingRate");
        ok = cJSON_AddNumberToObject(sched, "evseId", ctx->connector) &&
             (cJSON_GetObjectItemCaseSensitive(sched, "duration") ||
              cJSON_AddNumberToObject(sched, "duration", ctx->duration));
        if (ok && cJSON_GetObjectItemCaseSensitive(in, "scheduleStart"))
            ok = bridge__copy(sched, in, "scheduleStart", NULL);
        else if (ok && cJSON_GetObjectItemCaseSensitive(cs, "startSchedule"))
            ok = bridge__copy(sched, cs, "startSchedule", "scheduleStart");
        else if (ok)
            ok = bridge__add_time(sched, "scheduleStart", ctx->now);
    } else if (rc == 0 && ok && st == 0 && cs) {
        ok = false;
    }
    return bridge__done(rc, ok, out);
}

/* A 2.0.1 charger's composite schedule for a 1.6 site (ctx: the site's connector). */
int bridge__composite_answer_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const cJSON *sched = cJSON_GetObjectItemCaseSensitive(in, "schedule");
    int st;
    time_t t;
    int rc = bridge__object(out);
    if (rc == 0 && (ocpp_msg__need(ocpp_msg__enum(in, "status", bridge__generic, 2, &st)) < 0 ||
                    (sched && (ocpp_msg__need(ocpp_msg__time(sched, "scheduleStart", &t)) < 0))))
        rc = -EPROTO;
    bool ok = rc < 0 || cJSON_AddStringToObject(*out, "status", bridge__generic[st]);
    if (rc == 0 && ok && st == 0 && sched) {
        cJSON *cs = cJSON_CreateObject();
        rc = cs ? bridge__schedule(sched, true, cs) : -ENOMEM;
        ok = cs && cJSON_AddItemToObject(*out, "chargingSchedule", cs) &&
             cJSON_AddNumberToObject(*out, "connectorId", ctx->connector) &&
             bridge__copy(*out, sched, "scheduleStart", NULL);
    }
    return bridge__done(rc, ok, out);
}
