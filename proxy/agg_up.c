/* Aggregate mode: the CALLs of a charger whose version is not the site's (or
 * that speaks 2.0.1, whose EVSE ids are renumbered), on their way up, and
 * their answers on the way back. The payloads are mapped by bridge.h; the
 * transactions' state (ids, seqNo, remote starts) is agg_btx.h's. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg_int.h"
#include "log.h"
#include "session.h"

/* One charger CALL being carried. */
struct agg_up {
    struct aggregate *a;
    struct session *c;
    const struct frame *f;
    const cJSON *in;
    struct bridge_ctx ctx;
};

/* What a 2.0.1 charger tells that the site has no use for: answered here. */
static const struct { const char *action, *answer; } agg__local201[] = {
    { "NotifyEvent", "{}" }, { "NotifyReport", "{}" }, { "NotifyMonitoringReport", "{}" },
    { "SecurityEventNotification", "{}" }, { "LogStatusNotification", "{}" },
    { "NotifyChargingLimit", "{}" }, { "ClearedChargingLimit", "{}" },
    { "NotifyCustomerInformation", "{}" }, { "NotifyDisplayMessages", "{}" },
    { "PublishFirmwareStatusNotification", "{}" }, { "ReportChargingProfiles", "{}" },
    { "NotifyEVChargingSchedule", "{\"status\":\"Rejected\"}" },
};

bool agg__bridged(const struct aggregate *a, const struct session *c)
{
    return c->version == OCPP_201 || agg__version(a) == OCPP_201;
}

static struct bridge_ctx agg__ctx(const struct aggregate *a, int connector)
{
    struct bridge_ctx ctx = {
        .connector = connector, .remote_start_id = -1, .meter_wh = NAN, .now = time(NULL),
        .token_type = a->proxy->cfg->aggregate.id_token_type,
    };
    return ctx;
}

/* ---- sending up, answering here ---- */

static void agg__up_send(struct agg_up *u, const char *up_action, const cJSON *payload, int64_t tx)
{
    char *text = cJSON_PrintUnformatted(payload);
    if (!text) {
        relay_send_error(u->c, SESSION_DOWN, u->f->id, "InternalError", "out of memory");
        return;
    }
    char id[FRAME_ID_MAX + 1];
    struct agg_route *r = agg__route_new(u->a, id);
    snprintf(r->charger, sizeof(r->charger), "%s", u->c->id);
    snprintf(r->id, sizeof(r->id), "%s", u->f->id);
    snprintf(r->action, sizeof(r->action), "%s", u->f->action);
    snprintf(r->up_action, sizeof(r->up_action), "%s", up_action);
    r->conn_serial = u->c->down ? u->c->down->serial : 0;
    r->bridged = true;
    r->version = u->c->version;
    r->tx = tx;
    r->connector = u->ctx.connector;
    agg__up(u->a, id, up_action, text);
    free(text);
}

/* A CALL the bridge could not map: the CALLERROR that says why. */
static void agg__up_refuse(struct agg_up *u, int rc)
{
    const char *code, *why;
    switch (rc) {
    case -EINVAL: code = "FormationViolation"; why = "a required field is missing"; break;
    case -EPROTO: code = "PropertyConstraintViolation"; why = "a field is not valid"; break;
    case -ERANGE: code = "PropertyConstraintViolation"; why = "a value the site's OCPP version cannot carry"; break;
    case -ENOENT: code = "PropertyConstraintViolation"; why = "unknown transaction"; break;
    case -ENOTSUP: code = "NotSupported"; why = "no equivalent in the site's OCPP version"; break;
    default: code = "InternalError"; why = "cannot map it"; break;
    }
    log_info("proxy", "charger's CALL not carried to the site charger=%s action=%s reason=%s", u->c->id,
             u->f->action, why);
    relay_send_error(u->c, SESSION_DOWN, u->f->id, bridge_error_code(u->c->version, code), why);
}

/* Sends what fn makes of the CALL (fn NULL: the CALL as it is) as up_action,
 * or refuses it; -ENODATA (nothing the site can use) is answered here with an
 * empty answer. */
static int agg__up_map(struct agg_up *u, bridge_fn fn, const char *up_action, int64_t tx)
{
    cJSON *out = NULL;
    int rc = fn ? fn(u->in, &u->ctx, &out) : 0;
    if (rc == 0)
        agg__up_send(u, up_action, fn ? out : u->in, tx);
    else if (rc == -ENODATA)
        agg__answer(u->c, u->f->id, "{}");
    else
        agg__up_refuse(u, rc);
    cJSON_Delete(out);
    return rc;
}

/* The site's number of a charger's connector; 0 after refusing the CALL. */
static int agg__up_number(struct agg_up *u, int local)
{
    int number = local > 0 ? agg_map_number(&u->a->map, u->c->id, local) : -EINVAL;
    if (number > 0)
        return number;
    relay_send_error(u->c, SESSION_DOWN, u->f->id, bridge_error_code(u->c->version, "PropertyConstraintViolation"),
                     "no site connector for it");
    return 0;
}

static int agg__int_of(const cJSON *o, const char *name, int dflt)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(it) ? it->valueint : dflt;
}

/* Emits a message of the site's own, written in 1.6, in the site's version
 * (number: the connector it is about). */
void agg__emit_bridged(struct aggregate *a, const char *action, const cJSON *payload16, int number)
{
    if (agg__version(a) == OCPP_16) {
        agg__emit(a, action, payload16);
        return;
    }
    const struct bridge_rule *rule = bridge_rule(OCPP_16, OCPP_201, action);
    struct bridge_ctx ctx = agg__ctx(a, number);
    cJSON *out = NULL;
    int rc = rule ? rule->call(payload16, &ctx, &out) : -ENOTSUP;
    if (rc == 0)
        agg__emit(a, rule->out_action, out);
    else if (rc != -ENODATA)
        log_warn("proxy", "cannot write the site's %s in 2.0.1 site=%s", action, a->site->id);
    cJSON_Delete(out);
}

/* ---- a 1.6 charger behind a 2.0.1 site ---- */

/* The site reports a change of charging state of a transaction (2.0.1). */
static void agg__state_event(struct aggregate *a, struct agg_btx *x, const char *state)
{
    if (!state || strcmp(x->state, state) == 0)
        return;
    struct bridge_ctx ctx = agg__ctx(a, x->number);
    ctx.tx201 = x->id201;
    ctx.seq_no = x->seq_no;
    ctx.charging_state = state;
    cJSON *ev = NULL;
    if (bridge_charging_state_201(NULL, &ctx, &ev) == 0) {
        x->seq_no++;
        snprintf(x->state, sizeof(x->state), "%s", state);
        agg_btx_save(&a->bridged, x);
        agg__emit(a, "TransactionEvent", ev);
    }
    cJSON_Delete(ev);
}

static void agg__up_status16(struct agg_up *u)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(u->in, "status");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(u->in, "errorCode");
    const char *st = cJSON_IsString(status) ? status->valuestring : NULL;
    int local = agg__int_of(u->in, "connectorId", -1);
    if (local == 0 && st) {
        agg__charger_status(u->a, u->c, st, cJSON_IsString(error) ? error->valuestring : NULL);
        agg__answer(u->c, u->f->id, "{}");
        return;
    }
    int number = agg__up_number(u, local);
    if (!number)
        return;
    u->ctx.connector = number;
    /* 2.0.1 tells a change of the connector's status: Preparing, Charging
     * and Finishing are all Occupied (the charging state goes with the
     * transaction). */
    const char *was = bridge_status_201(agg__status_of(u->a, number));
    const struct bridge_rule *rule = bridge_rule(OCPP_16, OCPP_201, "StatusNotification");
    if (was && st && bridge_status_201(st) && strcmp(was, bridge_status_201(st)) == 0)
        agg__answer(u->c, u->f->id, "{}");
    else if (agg__up_map(u, rule->call, rule->out_action, 0) < 0)
        return;
    agg__set_status(u->a, number, st, cJSON_IsString(error) ? error->valuestring : NULL);
    struct agg_btx *x = agg_btx_on(&u->a->bridged, number);
    if (x && bridge_status_in_tx(st))
        agg__state_event(u->a, x, bridge_charging_state(st));
}

static void agg__up_start16(struct agg_up *u)
{
    struct aggregate *a = u->a;
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(u->in, "idTag");
    int local = agg__int_of(u->in, "connectorId", -1);
    int number = agg__up_number(u, local);
    if (!number)
        return;
    struct agg_btx *x = agg_btx_new(&a->bridged, u->c->id, local, number, NULL);
    if (!x) {
        relay_send_error(u->c, SESSION_DOWN, u->f->id, "InternalError", "cannot keep the transaction");
        return;
    }
    struct agg_remote remote;
    bool remote_start = cJSON_IsString(tag) && agg_btx_remote_take(&a->bridged, number, tag->valuestring, &remote);
    const char *state = bridge_charging_state(agg__status_of(a, number));
    u->ctx.connector = number;
    u->ctx.tx201 = x->id201;
    u->ctx.seq_no = x->seq_no;
    u->ctx.remote_start_id = remote_start ? remote.id : -1;
    u->ctx.token_type = remote_start ? remote.type : u->ctx.token_type;
    u->ctx.charging_state = state ? state : "EVConnected";
    int64_t handle = x->handle;
    if (agg__up_map(u, bridge_start_16_201, "TransactionEvent", handle) < 0) {
        agg_btx_end(&a->bridged, x);
        return;
    }
    x->seq_no++;
    snprintf(x->state, sizeof(x->state), "%s", u->ctx.charging_state);
    agg_btx_save(&a->bridged, x);
    log_info("proxy", "transaction started charger=%s connector=%d site_connector=%d tx=%lld site_tx=%s",
             u->c->id, local, number, (long long)handle, x->id201);
}

static struct agg_btx *agg__tx16(struct agg_up *u)
{
    const cJSON *tx = cJSON_GetObjectItemCaseSensitive(u->in, "transactionId");
    return cJSON_IsNumber(tx) ? agg_btx_by_handle(&u->a->bridged, u->c->id, (int64_t)tx->valuedouble) : NULL;
}

static void agg__up_meter16(struct agg_up *u)
{
    int local = agg__int_of(u->in, "connectorId", -1);
    if (local == 0) {
        agg__answer(u->c, u->f->id, "{}"); /* the site's EVSE 0 is the grid meter's */
        return;
    }
    struct agg_btx *x = agg__tx16(u);
    int number = x ? x->number : agg__up_number(u, local);
    if (!number)
        return;
    u->ctx.connector = number;
    if (!x) {
        const struct bridge_rule *rule = bridge_rule(OCPP_16, OCPP_201, "MeterValues");
        agg__up_map(u, rule->call, rule->out_action, 0);
        return;
    }
    u->ctx.tx201 = x->id201;
    u->ctx.seq_no = x->seq_no;
    if (agg__up_map(u, bridge_meter_tx_16_201, "TransactionEvent", 0) == 0) {
        x->seq_no++;
        agg_btx_save(&u->a->bridged, x);
    }
}

static void agg__up_stop16(struct agg_up *u)
{
    struct agg_btx *x = agg__tx16(u);
    if (!x) {
        /* Not one of the gateway's (or its stop went up already): the
         * charger must not keep it forever. */
        log_warn("proxy", "stop of an unknown transaction answered charger=%s", u->c->id);
        agg__answer(u->c, u->f->id, "{}");
        return;
    }
    u->ctx.connector = x->number;
    u->ctx.tx201 = x->id201;
    u->ctx.seq_no = x->seq_no;
    if (agg__up_map(u, bridge_stop_16_201, "TransactionEvent", 0) == 0) {
        log_info("proxy", "transaction ended charger=%s tx=%lld site_tx=%s seq_no=%d", u->c->id,
                 (long long)x->handle, x->id201, x->seq_no);
        agg_btx_end(&u->a->bridged, x);
    }
}

/* ---- a 2.0.1 charger ---- */

/* What "Occupied" means in 1.6 on that connector now. */
static const char *agg__occupied_as(struct aggregate *a, int number)
{
    const struct agg_btx *x = agg_btx_on(&a->bridged, number);
    const char *now = agg__status_of(a, number);
    if (x && x->started)
        return bridge_status_in_tx(now) ? now : "Charging";
    return strcmp(now, "Finishing") == 0 ? "Finishing" : "Preparing";
}

static void agg__up_status201(struct agg_up *u)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(u->in, "connectorStatus");
    int local = agg__int_of(u->in, "evseId", -1);
    if (local == 0 && cJSON_IsString(status)) {
        bool fault = strcmp(status->valuestring, "Faulted") == 0;
        agg__charger_status(u->a, u->c, fault ? "Faulted" : "Available", fault ? "OtherError" : NULL);
        agg__answer(u->c, u->f->id, "{}");
        return;
    }
    int number = agg__up_number(u, local);
    if (!number)
        return;
    u->ctx.connector = number;
    u->ctx.occupied_as = agg__occupied_as(u->a, number);
    /* In 1.6 words: the site's table (either version), and a 1.6 site's message. */
    cJSON *as16 = NULL;
    int rc = bridge_rule(OCPP_201, OCPP_16, "StatusNotification")->call(u->in, &u->ctx, &as16);
    if (rc == 0) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(as16, "status");
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(as16, "errorCode");
        agg__set_status(u->a, number, st->valuestring, err->valuestring);
    }
    if (agg__version(u->a) == OCPP_201)
        agg__up_map(u, bridge_rule(OCPP_201, OCPP_201, "StatusNotification")->call, "StatusNotification", 0);
    else if (rc == 0)
        agg__up_send(u, "StatusNotification", as16, 0);
    else
        agg__up_refuse(u, rc);
    cJSON_Delete(as16);
}

/* A 2.0.1 charger's transaction as the site's state knows it, made when its
 * first event comes. */
static struct agg_btx *agg__tx201(struct agg_up *u, const struct bridge_event *ev)
{
    struct agg_btx *x = agg_btx_by_id201(&u->a->bridged, u->c->id, ev->tx_id);
    int local = ev->evse > 0 ? ev->evse : u->c->cfg->connectors == 1 ? 1 : -1;
    if (x)
        return x;
    int number = agg__up_number(u, local);
    if (!number)
        return NULL;
    x = agg_btx_new(&u->a->bridged, u->c->id, local, number, ev->tx_id);
    if (!x)
        relay_send_error(u->c, SESSION_DOWN, u->f->id, "InternalError", "cannot keep the transaction");
    return x;
}

/* Toward a 1.6 site: Start once there is an idToken, then MeterValues, then Stop. */
static void agg__up_event16(struct agg_up *u, const struct bridge_event *ev, struct agg_btx *x)
{
    struct aggregate *a = u->a;
    int number = x->number;
    u->ctx.connector = number;
    u->ctx.tx16 = x->id16;
    u->ctx.meter_wh = x->meter_wh;
    double wh = bridge_energy_wh(OCPP_201, cJSON_GetObjectItemCaseSensitive(u->in, "meterValue"));
    if (!isnan(wh))
        x->meter_wh = wh;
    bool ended = ev->type == BRIDGE_ENDED;
    if (!x->started && ev->id_token && !ended) {
        if (agg__up_map(u, bridge_event_start_201_16, "StartTransaction", x->handle) == 0)
            x->started = true;
    } else if (ended && x->started) {
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)x->id16);
        if (agg__up_map(u, bridge_event_stop_201_16, "StopTransaction", x->handle) == 0)
            agg__tx_end(a, key);
    } else if (x->started && cJSON_GetObjectItemCaseSensitive(u->in, "meterValue")) {
        agg__up_map(u, bridge_event_meter_201_16, "MeterValues", x->handle);
    } else {
        agg__answer(u->c, u->f->id, "{}"); /* nothing a 1.6 site is told of */
    }
    /* The connector's status follows the charging state (1.6 has no other way). */
    const char *status = ended ? (ev->charging_state && strcmp(ev->charging_state, "Idle") == 0 ? "Available"
                                                                                                : "Finishing")
                               : bridge_state_status16(ev->charging_state, x->started);
    if (ended)
        agg_btx_end(&a->bridged, x);
    else
        agg_btx_save(&a->bridged, x);
    if (status && strcmp(status, agg__status_of(a, number)) != 0) {
        agg__set_status(a, number, status, "NoError");
        agg__emit_status(a, number);
    }
}

static void agg__up_event201(struct agg_up *u)
{
    struct bridge_event ev;
    int rc = bridge_event_read(u->in, &ev);
    if (rc < 0) {
        agg__up_refuse(u, rc);
        return;
    }
    struct agg_btx *x = agg__tx201(u, &ev);
    if (!x)
        return;
    if (agg__version(u->a) == OCPP_16) {
        agg__up_event16(u, &ev, x);
        return;
    }
    /* Toward a 2.0.1 site: the charger's own ids and seqNo, the EVSE renumbered. */
    u->ctx.connector = x->number;
    const char *status = bridge_state_status16(ev.charging_state, true);
    if (status)
        agg__set_status(u->a, x->number, status, "NoError");
    if (ev.type == BRIDGE_ENDED)
        agg_btx_end(&u->a->bridged, x);
    agg__up_map(u, bridge_rule(OCPP_201, OCPP_201, "TransactionEvent")->call, "TransactionEvent", 0);
}

static void agg__up_charger201(struct agg_up *u)
{
    const char *act = u->f->action;
    enum ocpp_version site = agg__version(u->a);
    for (size_t i = 0; i < sizeof(agg__local201) / sizeof(agg__local201[0]); i++) {
        if (strcmp(agg__local201[i].action, act) == 0) {
            agg__answer(u->c, u->f->id, agg__local201[i].answer);
            return;
        }
    }
    if (strcmp(act, "StatusNotification") == 0) {
        agg__up_status201(u);
        return;
    }
    if (strcmp(act, "TransactionEvent") == 0) {
        agg__up_event201(u);
        return;
    }
    int evse = agg__int_of(u->in, "evseId", -1);
    if (evse == 0 && strcmp(act, "MeterValues") == 0) {
        agg__answer(u->c, u->f->id, "{}"); /* the site's connector 0 is the grid meter's */
        return;
    }
    const struct bridge_rule *rule = bridge_rule(OCPP_201, site, act);
    if (!rule) {
        /* A 1.6 site has no use for EV charging needs; the balancer read them. */
        if (strcmp(act, "NotifyEVChargingNeeds") == 0 || strcmp(act, "ReservationStatusUpdate") == 0) {
            agg__answer(u->c, u->f->id, act[0] == 'N' ? "{\"status\":\"Rejected\"}" : "{}");
            return;
        }
        agg__up_refuse(u, -ENOTSUP);
        return;
    }
    if (evse >= 0 && !(u->ctx.connector = agg__up_number(u, evse)))
        return;
    agg__up_map(u, rule->call, rule->out_action, 0);
}

void agg__up_bridged(struct aggregate *a, struct session *c, const struct frame *f, const cJSON *payload)
{
    struct agg_up u = { .a = a, .c = c, .f = f, .in = payload, .ctx = agg__ctx(a, 0) };
    if (c->version == OCPP_201) {
        agg__up_charger201(&u);
        return;
    }
    const char *act = f->action;
    if (strcmp(act, "StartTransaction") == 0)
        agg__up_start16(&u);
    else if (strcmp(act, "StopTransaction") == 0)
        agg__up_stop16(&u);
    else if (strcmp(act, "MeterValues") == 0)
        agg__up_meter16(&u);
    else if (strcmp(act, "StatusNotification") == 0)
        agg__up_status16(&u);
    else if (bridge_rule(OCPP_16, OCPP_201, act))
        agg__up_map(&u, bridge_rule(OCPP_16, OCPP_201, act)->call, act, 0);
    else
        agg__up_refuse(&u, -ENOTSUP);
}

/* ---- answers on the way back ---- */

/* A 2.0.1 charger's transaction got its 1.6 id from the site (or the
 * gateway's local one): kept, and known for RemoteStopTransaction. */
static void agg__learn_id16(struct aggregate *a, const struct agg_route *r, const cJSON *answer)
{
    const cJSON *tx = cJSON_GetObjectItemCaseSensitive(answer, "transactionId");
    struct agg_btx *x = agg_btx_by_handle(&a->bridged, r->charger, r->tx);
    if (!x || !cJSON_IsNumber(tx))
        return;
    char key[32];
    x->id16 = (int64_t)tx->valuedouble;
    agg_btx_save(&a->bridged, x);
    snprintf(key, sizeof(key), "%.0f", tx->valuedouble);
    agg__tx_start(a, key, r->charger, x->connector);
    log_info("proxy", "transaction started charger=%s evse=%d site_connector=%d tx=%s site_tx=%s", r->charger,
             x->connector, x->number, x->id201, key);
}

static int agg__map_answer(struct aggregate *a, const struct agg_route *r, const cJSON *in, cJSON **out)
{
    struct bridge_ctx ctx = agg__ctx(a, r->connector);
    enum ocpp_version site = agg__version(a);
    if (r->version == OCPP_201 && site == OCPP_201)
        return (*out = cJSON_Duplicate(in, 1)) ? 0 : -ENOMEM;
    if (strcmp(r->up_action, "TransactionEvent") == 0) {
        ctx.tx16 = r->tx;
        return bridge_event_answer_16(in, &ctx, out);
    }
    if (strcmp(r->up_action, "StartTransaction") == 0 || strcmp(r->up_action, "StopTransaction") == 0) {
        if (strcmp(r->up_action, "StartTransaction") == 0)
            agg__learn_id16(a, r, in);
        return bridge_event_answer_201(in, &ctx, out);
    }
    const struct bridge_rule *rule = bridge_rule(r->version, site, r->action);
    if (rule && rule->answer && strcmp(rule->out_action, r->up_action) == 0)
        return rule->answer(in, &ctx, out);
    return (*out = cJSON_Duplicate(in, 1)) ? 0 : -ENOMEM;
}

int agg__answer_bridged(struct aggregate *a, const struct agg_route *r, const struct frame *f, char **out,
                        size_t *len)
{
    const char *code = NULL;
    char *text = NULL;
    if (f->type == FRAME_ERROR) {
        code = bridge_error_code(r->version, f->error_code);
    } else {
        cJSON *in = cJSON_ParseWithLength(f->payload.ptr, f->payload.len), *mapped = NULL;
        int rc = cJSON_IsObject(in) ? agg__map_answer(a, r, in, &mapped) : -EINVAL;
        text = rc == 0 ? cJSON_PrintUnformatted(mapped) : NULL;
        if (!text) {
            code = bridge_error_code(r->version, "InternalError");
            log_warn("proxy", "site's answer not carried to the charger charger=%s action=%s", r->charger,
                     r->action);
        }
        cJSON_Delete(in);
        cJSON_Delete(mapped);
    }
    size_t cap = (text ? strlen(text) : 0) + FRAME_ID_MAX + FRAME_NAME_MAX + 64;
    *out = malloc(cap);
    int n = !*out ? -ENOMEM
            : text ? frame_write_result(*out, cap, r->id, text, strlen(text))
                   : frame_write_error(*out, cap, r->id, code, "");
    free(text);
    if (n < 0) {
        free(*out);
        *out = NULL;
        return n;
    }
    *len = (size_t)n;
    return 0;
}
