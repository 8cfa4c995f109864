/* Aggregate mode: the CSMS's CALLs to the site (aggregate.h). A CALL about
 * one connector goes to the charger that owns it, with the connector id
 * translated both ways; a CALL about the whole site is fanned out to every
 * charger or answered by the gateway itself. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg_int.h"
#include "aggregate.h"
#include "charger_calls.h"
#include "log.h"
#include "session.h"
#include "store.h"

#define AGG_CSMS__FRAME_MAX 65536

void agg__reply(struct aggregate *a, const char *id, cJSON *payload)
{
    if (!a->site)
        return; /* shutting down */
    char *text = cJSON_PrintUnformatted(payload);
    size_t len = text ? strlen(text) : 0;
    size_t cap = len + FRAME_ID_MAX + 16;
    char *frame = text ? malloc(cap) : NULL;
    int n = frame ? frame_write_result(frame, cap, id, text, len) : -ENOMEM;
    if (n < 0 || link_send(&a->site->up, frame, (size_t)n) < 0)
        a->proxy->stats.dropped_frames++;
    free(frame);
    free(text);
}

void agg__reply_status(struct aggregate *a, const char *id, const char *status)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", status);
    agg__reply(a, id, o);
    cJSON_Delete(o);
}

void agg__refuse(struct aggregate *a, const char *id, const char *code, const char *why)
{
    if (!a->site)
        return;
    relay_send_error(a->site, SESSION_UP, id, bridge_error_code(agg__version(a), code), why);
}

/* --- one charger ----------------------------------------------------------- */

/* The charger's answer, back to the CSMS under the CSMS's id (the same id
 * went down); a connectorId in it becomes the site's number again. */
static void agg__routed_answer(void *ctx, const struct pending_call *call, const struct frame *f)
{
    struct session *c = ctx;
    struct aggregate *a = agg__of(c);
    if (!a)
        return;
    if (!f) {
        agg__refuse(a, call->id, "GenericError", "the charger did not answer");
        return;
    }
    if (f->type == FRAME_ERROR) {
        agg__refuse(a, call->id, f->error_code, "the charger refused it");
        return;
    }
    cJSON *payload = cJSON_ParseWithLength(f->payload.ptr, f->payload.len);
    cJSON *connector = cJSON_GetObjectItemCaseSensitive(payload, "connectorId");
    if (cJSON_IsNumber(connector) && connector->valueint > 0) {
        int number = agg_map_number(&a->map, c->id, connector->valueint);
        if (number > 0)
            cJSON_SetNumberValue(connector, number);
    }
    if (payload)
        agg__reply(a, call->id, payload);
    else
        agg__refuse(a, call->id, "GenericError", "the charger's answer is not JSON");
    cJSON_Delete(payload);
}

void agg__to_charger(struct aggregate *a, const struct frame *f, struct session *c, const cJSON *payload)
{
    if (!c || !c->down) {
        agg__refuse(a, f->id, "GenericError", "the charger is not connected");
        return;
    }
    if (charger_calls_has_id(c, f->id)) {
        agg__refuse(a, f->id, "GenericError", "message id already in flight");
        return;
    }
    /* In the charger's version (agg_down.c). */
    struct agg_down down;
    int mapped = agg__down(a, c, f->action, payload, &down);
    if (mapped < 0) {
        agg__down_refuse(a, f->id, f->action, mapped);
        return;
    }
    char *text = down.text;
    char *frame = text ? malloc(AGG_CSMS__FRAME_MAX) : NULL;
    int n = frame ? frame_write_call(frame, AGG_CSMS__FRAME_MAX, f->id, down.action, text, strlen(text))
                  : -ENOMEM;
    /* As in passthrough: the balancer hears of the CSMS's limits, and a
     * limit the gateway holds for the charger is answered by the gateway. */
    struct frame translated;
    if (n > 0 && frame_parse(frame, (size_t)n, &translated) == FRAME_OK && smart_csms_call(c, &translated)) {
        free(frame);
        agg__down_free(&down);
        return;
    }
    int rc = n < 0 ? n
                   : charger_calls_push(c, f->id, down.action, frame, (size_t)n,
                                        down.call ? agg__down_answer : agg__routed_answer,
                                        down.call ? (void *)down.call : c, -1);
    if (rc < 0) {
        agg__refuse(a, f->id, "GenericError", "cannot pass it to the charger");
    } else {
        down.call = NULL; /* the answer's now */
        smart_send(c);    /* the gateway's own profiles again, behind a clear */
    }
    charger_calls_pump(c);
    free(frame);
    agg__down_free(&down);
}

/* The charger of a site connector, with the connectorId put in its numbering. */
static struct session *agg__owner(struct aggregate *a, cJSON *connector)
{
    const struct agg_slot *slot = agg_map_slot(&a->map, connector->valueint);
    if (!slot)
        return NULL;
    cJSON_SetNumberValue(connector, slot->connector);
    return proxy__find(a->proxy, slot->charger);
}

/* --- every charger --------------------------------------------------------- */

struct agg_fanout {
    struct aggregate *a;
    char id[FRAME_ID_MAX + 1];
    char action[FRAME_NAME_MAX + 1];
    int outstanding;
    int accepted, rejected, scheduled, other;
};

static void agg__fanout_done(struct agg_fanout *fo)
{
    const char *status;
    if (strcmp(fo->action, "ChangeAvailability") == 0)
        status = fo->rejected || fo->other || !fo->accepted ? "Rejected"
                 : fo->scheduled ? "Scheduled" : "Accepted";
    else if (strcmp(fo->action, "ClearChargingProfile") == 0)
        status = fo->accepted ? "Accepted" : "Unknown";
    else
        status = fo->accepted && !fo->rejected && !fo->other ? "Accepted" : "Rejected";
    log_info("proxy", "site-wide %s answered site=%s status=%s accepted=%d refused=%d", fo->action,
             fo->a->site->id, status, fo->accepted, fo->rejected + fo->other);
    if (strcmp(fo->action, "Reset") != 0) /* Reset was answered before it went out */
        agg__reply_status(fo->a, fo->id, status);
    free(fo);
}

static void agg__fanout_release(struct agg_fanout *fo)
{
    if (--fo->outstanding == 0)
        agg__fanout_done(fo);
}

static void agg__fanout_answer(void *ctx, const struct pending_call *call, const struct frame *f)
{
    struct agg_fanout *fo = ctx;
    (void)call;
    cJSON *payload = f && f->type == FRAME_RESULT ? cJSON_ParseWithLength(f->payload.ptr, f->payload.len)
                                                  : NULL;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(payload, "status");
    const char *s = cJSON_IsString(status) ? status->valuestring : "";
    if (strcmp(s, "Accepted") == 0)
        fo->accepted++;
    else if (strcmp(s, "Scheduled") == 0)
        fo->scheduled++;
    else if (strcmp(s, "Rejected") == 0)
        fo->rejected++;
    else if (strcmp(s, "Unknown") != 0)
        fo->other++;
    cJSON_Delete(payload);
    agg__fanout_release(fo);
}

void agg__fan_out(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    struct proxy *p = a->proxy;
    struct agg_fanout *fo = calloc(1, sizeof(*fo));
    if (!fo) {
        agg__refuse(a, f->id, "InternalError", "out of memory");
        return;
    }
    fo->a = a;
    snprintf(fo->id, sizeof(fo->id), "%s", f->id);
    snprintf(fo->action, sizeof(fo->action), "%s", f->action);
    fo->outstanding = 1; /* held until every charger got its copy */
    bool profiles = strcmp(f->action, "SetChargingProfile") == 0 ||
                    strcmp(f->action, "ClearChargingProfile") == 0;
    for (size_t b = 0; b < p->n_buckets; b++) {
        for (struct session *c = p->buckets[b]; c; c = c->next) {
            struct agg_down down; /* in the charger's version */
            if (!c->down || c->site || agg__down(a, c, f->action, payload, &down) < 0)
                continue;
            /* As in passthrough: the balancer hears of the CSMS's limits,
             * and the gateway's own profiles go again behind a clear. */
            if (profiles)
                agg__down_smart(c, f->id, &down);
            int rc = charger_calls_own(c, down.action, down.text, strlen(down.text), agg__fanout_answer, fo, -1);
            agg__down_free(&down);
            if (rc < 0)
                continue;
            fo->outstanding++;
            if (profiles)
                smart_send(c);
            charger_calls_pump(c);
        }
    }
    agg__fanout_release(fo);
}

/* --- the gateway's own configuration keys ----------------------------------- */

struct agg_key {
    const char *name;
    bool readonly;
};

static const struct agg_key agg__keys[] = {
    { "HeartbeatInterval", false },
    { "MeterValueSampleInterval", false },
    { "NumberOfConnectors", true },
    { "SiteGridLimitKw", false },
    { "LocalAuthListEnabled", true },
    { "SupportedFeatureProfiles", true },
};

void agg__key_value(struct aggregate *a, const char *name, char *out, size_t cap)
{
    const struct config *cfg = a->proxy->cfg;
    if (strcmp(name, "HeartbeatInterval") == 0)
        snprintf(out, cap, "%d", a->heartbeat_s);
    else if (strcmp(name, "MeterValueSampleInterval") == 0)
        snprintf(out, cap, "%d", a->meter_s);
    else if (strcmp(name, "NumberOfConnectors") == 0)
        snprintf(out, cap, "%zu", a->map.n);
    else if (strcmp(name, "SiteGridLimitKw") == 0)
        snprintf(out, cap, "%g", isnan(a->grid_limit_kw) ? cfg->site.grid_limit_kw : a->grid_limit_kw);
    else if (strcmp(name, "LocalAuthListEnabled") == 0)
        snprintf(out, cap, "true");
    else
        snprintf(out, cap, "Core,LocalAuthListManagement,RemoteTrigger,Reservation,SmartCharging");
}

static const struct agg_key *agg__key(const char *name)
{
    for (size_t i = 0; i < sizeof(agg__keys) / sizeof(agg__keys[0]); i++)
        if (strcmp(agg__keys[i].name, name) == 0)
            return &agg__keys[i];
    return NULL;
}

static void agg__get_configuration(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    const cJSON *wanted = cJSON_GetObjectItemCaseSensitive(payload, "key");
    cJSON *o = cJSON_CreateObject();
    cJSON *known = cJSON_AddArrayToObject(o, "configurationKey");
    cJSON *unknown = cJSON_CreateArray();
    char value[128];
    size_t n = wanted ? (size_t)cJSON_GetArraySize(wanted) : sizeof(agg__keys) / sizeof(agg__keys[0]);
    for (size_t i = 0; i < n; i++) {
        const cJSON *w = wanted ? cJSON_GetArrayItem(wanted, (int)i) : NULL;
        const char *name = wanted ? (cJSON_IsString(w) ? w->valuestring : "") : agg__keys[i].name;
        const struct agg_key *k = agg__key(name);
        if (!k) {
            cJSON_AddItemToArray(unknown, cJSON_CreateString(name));
            continue;
        }
        agg__key_value(a, k->name, value, sizeof(value));
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "key", k->name);
        cJSON_AddBoolToObject(e, "readonly", k->readonly);
        cJSON_AddStringToObject(e, "value", value);
        cJSON_AddItemToArray(known, e);
    }
    if (cJSON_GetArraySize(unknown) > 0)
        cJSON_AddItemToObject(o, "unknownKey", unknown);
    else
        cJSON_Delete(unknown);
    agg__reply(a, f->id, o);
    cJSON_Delete(o);
}

/* A whole number (an OCPP configuration value is a string). */
static bool agg__int_value(const char *text, long min, long max, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

const char *agg__change_key(struct aggregate *a, const char *name, const char *text)
{
    struct proxy *p = a->proxy;
    const struct agg_key *k = agg__key(name);
    long v;
    if (!k)
        return "NotSupported";
    if (k->readonly)
        return "Rejected";
    if (strcmp(name, "HeartbeatInterval") == 0) {
        if (!agg__int_value(text, 1, 86400, &v))
            return "Rejected";
        a->heartbeat_s = (int)v;
        if (a->booted)
            agg__heartbeat_timer(a);
        return "Accepted";
    }
    if (strcmp(name, "MeterValueSampleInterval") == 0) {
        if (!agg__int_value(text, 0, 86400, &v) || (p->store && store_kv_put(p->store, "aggregate", name, text) < 0))
            return "Rejected";
        a->meter_s = (int)v;
        agg__meter_timer(a);
        return "Accepted";
    }
    /* SiteGridLimitKw: the CSMS may lower the site's cap, never raise it
     * above the one the site manager configured. */
    char *end;
    double kw = strtod(text, &end);
    if (!*text || *end || !(kw > 0) || kw > p->cfg->site.grid_limit_kw ||
        (p->store && store_kv_put(p->store, "aggregate", name, text) < 0))
        return "Rejected";
    a->grid_limit_kw = kw == p->cfg->site.grid_limit_kw ? NAN : kw;
    log_info("proxy", "CSMS set the site's cap site=%s grid_limit_kw=%.1f", a->site->id, kw);
    if (p->observer.site_limit_kw)
        p->observer.site_limit_kw(p->observer.ctx, a->grid_limit_kw);
    return "Accepted";
}

/* --- answered by the gateway ------------------------------------------------ */

double agg__site_limit(struct aggregate *a, bool amps)
{
    const struct proxy_observer *ob = &a->proxy->observer;
    double kw = ob->site_cap_kw ? ob->site_cap_kw(ob->ctx) : a->proxy->cfg->site.grid_limit_kw;
    /* A three-phase site: A per phase from kW, rounded down to 0.1. */
    return amps ? floor(kw * 1000 / (3 * a->proxy->cfg->site.voltage_v) * 10) / 10
                : floor(kw * 1000 * 10) / 10;
}

static void agg__composite_schedule(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    const cJSON *duration = cJSON_GetObjectItemCaseSensitive(payload, "duration");
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(payload, "chargingRateUnit");
    bool amps = cJSON_IsString(unit) && strcmp(unit->valuestring, "A") == 0;
    double limit = agg__site_limit(a, amps);
    char now[32];
    agg__now(now);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "Accepted");
    cJSON_AddNumberToObject(o, "connectorId", 0);
    cJSON_AddStringToObject(o, "scheduleStart", now);
    cJSON *sched = cJSON_AddObjectToObject(o, "chargingSchedule");
    if (cJSON_IsNumber(duration) && duration->valueint > 0)
        cJSON_AddNumberToObject(sched, "duration", duration->valueint);
    cJSON_AddStringToObject(sched, "chargingRateUnit", amps ? "A" : "W");
    cJSON *periods = cJSON_AddArrayToObject(sched, "chargingSchedulePeriod");
    cJSON *period = cJSON_CreateObject();
    cJSON_AddNumberToObject(period, "startPeriod", 0);
    cJSON_AddNumberToObject(period, "limit", limit);
    cJSON_AddItemToArray(periods, period);
    agg__reply(a, f->id, o);
    cJSON_Delete(o);
}

/* TriggerMessage for what the site itself sends; false: the charger's. */
static bool agg__trigger_own(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    const cJSON *what = cJSON_GetObjectItemCaseSensitive(payload, "requestedMessage");
    const cJSON *connector = cJSON_GetObjectItemCaseSensitive(payload, "connectorId");
    int number = cJSON_IsNumber(connector) ? connector->valueint : 0;
    const char *m = cJSON_IsString(what) ? what->valuestring : "";
    if (number > 0 && (strcmp(m, "MeterValues") == 0 || strcmp(m, "StatusNotification") == 0))
        return false;
    agg__reply_status(a, f->id, "Accepted");
    if (strcmp(m, "BootNotification") == 0) {
        agg__send_boot(a);
    } else if (strcmp(m, "Heartbeat") == 0) {
        agg__send_heartbeat(a);
    } else if (strcmp(m, "StatusNotification") == 0) {
        agg__emit_statuses(a);
    } else if (strcmp(m, "MeterValues") == 0) {
        agg__emit_meter(a);
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "Idle");
        agg__emit(a, m, o); /* Firmware-/DiagnosticsStatusNotification */
        cJSON_Delete(o);
    }
    return true;
}

void agg__reset(struct aggregate *a, const struct frame *f, const cJSON *payload, const char *hard_type)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(payload, "type");
    bool hard = cJSON_IsString(type) && strcmp(type->valuestring, hard_type) == 0;
    if (hard && !a->proxy->cfg->aggregate.allow_hard_reset) {
        log_warn("proxy", "CSMS asked for a hard reset of the site, refused site=%s type=%s", a->site->id,
                 hard_type);
        agg__reply_status(a, f->id, "Rejected");
        return;
    }
    agg__reply_status(a, f->id, "Accepted");
    if (hard) {
        log_warn("proxy", "CSMS asked for a hard reset of the site, passed to every charger site=%s type=%s",
                 a->site->id, hard_type);
        agg__fan_out(a, f, payload);
        return;
    }
    /* Soft: the site's upstream session starts again (a new BootNotification). */
    log_info("proxy", "CSMS asked for a soft reset, restarting the site's session site=%s", a->site->id);
    a->boot_reason = "RemoteReset"; /* read by 2.0.1's BootNotification only */
    csms_side_close(a->site, LINK_CLOSE_NORMAL);
}

bool agg__site_call(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    struct store *st = a->proxy->store;
    if (strcmp(f->action, "GetConfiguration") == 0) {
        agg__get_configuration(a, f, payload);
    } else if (strcmp(f->action, "ChangeConfiguration") == 0) {
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(payload, "key");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(payload, "value");
        agg__reply_status(a, f->id, cJSON_IsString(key) && cJSON_IsString(value)
                                        ? agg__change_key(a, key->valuestring, value->valuestring)
                                        : "Rejected");
    } else if (strcmp(f->action, "Reset") == 0) {
        agg__reset(a, f, payload, "Hard");
    } else if (strcmp(f->action, "SendLocalList") == 0) {
        agg__reply_status(a, f->id, st ? "Accepted" : "Failed"); /* captured on its way in */
    } else if (strcmp(f->action, "GetLocalListVersion") == 0) {
        int version = 0;
        if (st)
            store_local_list_version(st, a->site->id, &version);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "listVersion", version);
        agg__reply(a, f->id, o);
        cJSON_Delete(o);
    } else if (strcmp(f->action, "ClearCache") == 0) {
        agg__reply_status(a, f->id, st && store_auth_cache_clear(st) == 0 ? "Accepted" : "Rejected");
    } else if (strcmp(f->action, "DataTransfer") == 0) {
        agg__reply_status(a, f->id, "UnknownVendorId");
    } else if (strcmp(f->action, "UpdateFirmware") == 0 || strcmp(f->action, "GetDiagnostics") == 0) {
        agg__refuse(a, f->id, "NotSupported", "the site's chargers are updated one by one");
    } else {
        return false;
    }
    return true;
}

/* --- routing ---------------------------------------------------------------- */

/* The first site connector whose charger is there and which is Available. */
cJSON *agg__free_connector(struct aggregate *a)
{
    for (size_t i = 1; i < a->n_status; i++) {
        const struct agg_slot *slot = agg_map_slot(&a->map, (int)i);
        struct session *c = slot ? proxy__find(a->proxy, slot->charger) : NULL;
        if (c && c->down && strcmp(a->status[i].status, "Available") == 0)
            return cJSON_CreateNumber((double)i);
    }
    return NULL;
}

static void agg__route(struct aggregate *a, const struct frame *f, cJSON *payload)
{
    cJSON *connector = cJSON_GetObjectItemCaseSensitive(payload, "connectorId");
    const char *act = f->action;
    if (strcmp(act, "RemoteStartTransaction") == 0 && !connector) {
        connector = agg__free_connector(a);
        if (!connector) {
            agg__reply_status(a, f->id, "Rejected");
            return;
        }
        cJSON_AddItemToObject(payload, "connectorId", connector);
    }
    if (strcmp(act, "RemoteStopTransaction") == 0 || strcmp(act, "CancelReservation") == 0) {
        bool stop = act[0] == 'R';
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(payload, stop ? "transactionId" : "reservationId");
        char text[32];
        snprintf(text, sizeof(text), "%.0f", cJSON_IsNumber(key) ? key->valuedouble : NAN);
        const struct agg_ref *ref = stop ? agg__tx_get(a, text) : agg__ref_get(a->resvs, text);
        if (!ref) {
            agg__reply_status(a, f->id, "Rejected");
            return;
        }
        agg__to_charger(a, f, proxy__find(a->proxy, ref->charger), payload);
        return;
    }
    if (strcmp(act, "SetChargingProfile") == 0 || strcmp(act, "ClearChargingProfile") == 0 ||
        strcmp(act, "ChangeAvailability") == 0) {
        if (!cJSON_IsNumber(connector) || connector->valueint == 0) {
            agg__fan_out(a, f, payload); /* the whole site: every charger as a whole */
            return;
        }
    }
    if (!cJSON_IsNumber(connector) || connector->valueint < 1) {
        if (strcmp(act, "UnlockConnector") == 0)
            agg__reply_status(a, f->id, "NotSupported");
        else
            agg__refuse(a, f->id, "PropertyConstraintViolation", "connectorId names no charger's connector");
        return;
    }
    int number = connector->valueint;
    struct session *c = agg__owner(a, connector);
    if (!c && !agg_map_slot(&a->map, number)) {
        agg__refuse(a, f->id, "PropertyConstraintViolation", "no such connector");
        return;
    }
    if (strcmp(act, "ReserveNow") == 0 && c) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(payload, "reservationId");
        char text[32];
        snprintf(text, sizeof(text), "%.0f", cJSON_IsNumber(id) ? id->valuedouble : NAN);
        agg__ref_put(a->resvs, &a->next_resv, text, c->id, connector->valueint);
    }
    agg__to_charger(a, f, c, payload);
}

static const char *const agg__routed[] = {
    "RemoteStartTransaction", "RemoteStopTransaction", "UnlockConnector", "ChangeAvailability",
    "ReserveNow", "CancelReservation", "TriggerMessage", "SetChargingProfile",
    "ClearChargingProfile", "GetCompositeSchedule",
};

void aggregate_csms_call(struct session *site, const struct frame *f0, const char *msg, size_t len)
{
    struct aggregate *a = agg__of(site);
    (void)msg;
    (void)len;
    /* Local transaction ids put back, the local list captured. */
    char *rewritten;
    size_t rewritten_len;
    struct frame f1;
    const struct frame *f = f0;
    offline_csms_call(site, f0, &rewritten, &rewritten_len);
    if (rewritten && frame_parse(rewritten, rewritten_len, &f1) == FRAME_OK)
        f = &f1;
    /* A ChargePointMaxProfile on connector 0 is a site limit (smart_charging.c). */
    if (smart_csms_call(site, f)) {
        free(rewritten);
        return;
    }
    cJSON *payload = cJSON_ParseWithLength(f->payload.ptr, f->payload.len);
    if (!cJSON_IsObject(payload)) {
        agg__refuse(a, f->id, "FormationViolation", "payload is not a JSON object");
    } else if (site->version == OCPP_201) {
        agg__csms201(a, f, payload); /* agg_csms201.c */
    } else if (agg__site_call(a, f, payload)) {
        /* answered */
    } else if (strcmp(f->action, "GetCompositeSchedule") == 0 &&
               cJSON_GetObjectItemCaseSensitive(payload, "connectorId") &&
               cJSON_GetObjectItemCaseSensitive(payload, "connectorId")->valueint == 0) {
        agg__composite_schedule(a, f, payload);
    } else if (strcmp(f->action, "TriggerMessage") == 0 && agg__trigger_own(a, f, payload)) {
        /* answered */
    } else {
        bool routed = false;
        for (size_t i = 0; i < sizeof(agg__routed) / sizeof(agg__routed[0]) && !routed; i++)
            routed = strcmp(f->action, agg__routed[i]) == 0;
        if (routed)
            agg__route(a, f, payload);
        else
            agg__refuse(a, f->id, "NotImplemented", "not supported by the site");
    }
    cJSON_Delete(payload);
    free(rewritten);
}
