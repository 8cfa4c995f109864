/* Aggregate mode (aggregate.h): the site session, the site's own messages
 * (boot, heartbeats, statuses, the grid meter), and the chargers' CALLs on
 * their way up and their answers on the way back. The CSMS's CALLs are
 * agg_csms.c's. */
#include "aggregate.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg_int.h"
#include "charger_calls.h"
#include "log.h"
#include "session.h"
#include "store.h"

#define AGG__PAYLOAD_MAX 4096
#define AGG__RETRY_BOOT_S 30 /* a BootNotification the CSMS did not accept, again */

struct aggregate *agg__of(const struct session *s)
{
    return s->proxy->agg;
}

enum ocpp_version agg__version(const struct aggregate *a)
{
    return a->proxy->cfg->upstream.ocpp_version == CONFIG_OCPP_201 ? OCPP_201 : OCPP_16;
}

void agg__now(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void agg__ref_put(struct agg_ref *refs, size_t *next, const char *key, const char *charger,
                  int connector)
{
    struct agg_ref *r = NULL;
    for (size_t i = 0; i < AGG_REFS && !r; i++)
        if (strcmp(refs[i].key, key) == 0)
            r = &refs[i];
    if (!r)
        r = &refs[(*next)++ % AGG_REFS]; /* the oldest goes */
    snprintf(r->key, sizeof(r->key), "%s", key);
    snprintf(r->charger, sizeof(r->charger), "%s", charger);
    r->connector = connector;
}

const struct agg_ref *agg__ref_get(const struct agg_ref *refs, const char *key)
{
    for (size_t i = 0; i < AGG_REFS; i++)
        if (refs[i].key[0] && strcmp(refs[i].key, key) == 0)
            return &refs[i];
    return NULL;
}

#define AGG__TX_NS "aggregate_tx"

void agg__tx_put(struct aggregate *a, const char *tx, const char *charger, int connector)
{
    const struct agg_ref *known = agg__ref_get(a->txs, tx);
    if (known && known->connector == connector && strcmp(known->charger, charger) == 0)
        return;
    agg__ref_put(a->txs, &a->next_tx, tx, charger, connector);
    char value[CONFIG_ID_MAX + 16];
    snprintf(value, sizeof(value), "%d/%s", connector, charger);
    if (a->proxy->store)
        store_kv_put(a->proxy->store, AGG__TX_NS, tx, value);
}

void agg__tx_start(struct aggregate *a, const char *tx, const char *charger, int connector)
{
    /* A connector runs one transaction at a time: one of it whose stop never
     * came (a charger that lost it in a reboot) is over. Without this the
     * store would keep such entries for ever. */
    for (size_t i = 0; i < AGG_REFS; i++) {
        struct agg_ref *r = &a->txs[i];
        if (r->key[0] && r->connector == connector && strcmp(r->charger, charger) == 0 &&
            strcmp(r->key, tx) != 0)
            r->key[0] = '\0';
    }
    agg__tx_put(a, tx, charger, connector);
    char value[CONFIG_ID_MAX + 16];
    snprintf(value, sizeof(value), "%d/%s", connector, charger);
    int gone = a->proxy->store ? store_kv_delete_value(a->proxy->store, AGG__TX_NS, value, tx) : 0;
    if (gone > 0)
        log_info("proxy", "forgot transactions never stopped charger=%s connector=%d count=%d", charger,
                 connector, gone);
}

const struct agg_ref *agg__tx_get(struct aggregate *a, const char *tx)
{
    const struct agg_ref *ref = agg__ref_get(a->txs, tx);
    char *value = NULL;
    if (ref || !a->proxy->store || store_kv_get(a->proxy->store, AGG__TX_NS, tx, &value) < 0)
        return ref;
    const char *slash = strchr(value, '/');
    if (slash)
        agg__ref_put(a->txs, &a->next_tx, tx, slash + 1, atoi(value));
    free(value);
    return slash ? agg__ref_get(a->txs, tx) : NULL;
}

void agg__tx_end(struct aggregate *a, const char *tx)
{
    if (a->proxy->store)
        store_kv_delete(a->proxy->store, AGG__TX_NS, tx);
}

/* --- the site's own CALLs ------------------------------------------------- */

/* Boot and Heartbeat: only while the socket is up, never stored. */
static int agg__call_up(struct aggregate *a, const char *action, const char *payload,
                        pending_cb cb, bool first)
{
    struct session *site = a->site;
    struct proxy *p = a->proxy;
    if (!site || p->draining)
        return -ESHUTDOWN;
    struct pending_call call = { .on_answer = cb, .ctx = a };
    snprintf(call.id, sizeof(call.id), "sg-%" PRIx64, ++p->next_call_id);
    snprintf(call.action, sizeof(call.action), "%s", action);
    call.sent_ms = uv_now(p->loop);
    call.deadline_ms = call.sent_ms + (uint64_t)p->cfg->upstream.call_timeout_s * 1000;
    char frame[AGG__PAYLOAD_MAX];
    int n = frame_write_call(frame, sizeof(frame), call.id, action, payload, strlen(payload));
    int rc = n < 0 ? n : pending_add(&site->to_csms, &call);
    if (rc == 0) {
        rc = first ? link_send_first(&site->up, frame, (size_t)n, call.id)
                   : link_send_call(&site->up, frame, (size_t)n, call.id);
        if (rc < 0) {
            struct pending_call undo;
            pending_take(&site->to_csms, call.id, &undo);
        }
    }
    if (rc < 0)
        log_warn("proxy", "cannot send the site's %s site=%s", action, site->id);
    return rc;
}

static void agg__boot_retry(uv_timer_t *t)
{
    struct aggregate *a = t->data;
    agg__send_boot(a);
}

static void agg__boot_answer(void *ctx, const struct pending_call *call, const struct frame *f)
{
    struct aggregate *a = ctx;
    (void)call;
    cJSON *payload = f && f->type == FRAME_RESULT ? cJSON_ParseWithLength(f->payload.ptr, f->payload.len)
                                                  : NULL;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(payload, "status");
    const cJSON *interval = cJSON_GetObjectItemCaseSensitive(payload, "interval");
    bool accepted = cJSON_IsString(status) && strcmp(status->valuestring, "Accepted") == 0;
    int wait_s = cJSON_IsNumber(interval) && interval->valueint > 0 ? interval->valueint : AGG__RETRY_BOOT_S;
    if (!f) {
        cJSON_Delete(payload);
        return; /* the socket went: the next one boots again */
    }
    log_info("proxy", "site booted site=%s status=%s interval=%d", a->site->id,
             cJSON_IsString(status) ? status->valuestring : "invalid", wait_s);
    cJSON_Delete(payload);
    if (!accepted) {
        /* Pending or Rejected: ask again after the interval it gave. */
        uv_timer_start(&a->heartbeat, agg__boot_retry, (uint64_t)wait_s * 1000, 0);
        return;
    }
    a->booted = true;
    a->boot_reason = "Unknown"; /* a later socket is no reboot of the site */
    a->heartbeat_s = wait_s;
    agg__heartbeat_timer(a);
    agg__emit_statuses(a);
    agg__meter_timer(a);
    offline_upstream_open(a->site); /* what waits in the store may go now */
}

void agg__send_boot(struct aggregate *a)
{
    const struct config *cfg = a->proxy->cfg;
    cJSON *o = cJSON_CreateObject();
    if (agg__version(a) == OCPP_201) {
        char serial[26]; /* serialNumber: at most 25 characters */
        snprintf(serial, sizeof(serial), "%.25s", cfg->site.id);
        cJSON *station = cJSON_AddObjectToObject(o, "chargingStation");
        cJSON_AddStringToObject(station, "model", cfg->aggregate.model);
        cJSON_AddStringToObject(station, "vendorName", cfg->aggregate.vendor);
        cJSON_AddStringToObject(station, "serialNumber", serial);
        cJSON_AddStringToObject(station, "firmwareVersion", SITEGATE_VERSION);
        cJSON_AddStringToObject(o, "reason", a->boot_reason);
    } else {
        cJSON_AddStringToObject(o, "chargePointVendor", cfg->aggregate.vendor);
        cJSON_AddStringToObject(o, "chargePointModel", cfg->aggregate.model);
        cJSON_AddStringToObject(o, "chargePointSerialNumber", cfg->site.id);
        cJSON_AddStringToObject(o, "firmwareVersion", SITEGATE_VERSION);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text)
        agg__call_up(a, "BootNotification", text, agg__boot_answer, !a->site->up.wsi);
    free(text);
}

static void agg__heartbeat_cb(uv_timer_t *t)
{
    agg__send_heartbeat(t->data);
}

void agg__send_heartbeat(struct aggregate *a)
{
    if (a->booted)
        agg__call_up(a, "Heartbeat", "{}", NULL, false);
}

void agg__heartbeat_timer(struct aggregate *a)
{
    uint64_t ms = (uint64_t)(a->heartbeat_s > 0 ? a->heartbeat_s : AGG__RETRY_BOOT_S) * 1000;
    uv_timer_start(&a->heartbeat, agg__heartbeat_cb, ms, ms);
}

/* --- the site's messages the CSMS must see -------------------------------- */

struct agg_route *agg__route_new(struct aggregate *a, char site_id[FRAME_ID_MAX + 1])
{
    uint64_t seq = ++a->next_seq;
    struct agg_route *r = &a->routes[seq % AGG_ROUTES];
    if (r->seq)
        log_warn("proxy", "answer route reused before its answer came site=%s action=%s", a->site->id,
                 r->action);
    memset(r, 0, sizeof(*r));
    r->seq = seq;
    snprintf(site_id, FRAME_ID_MAX + 1, "a%" PRIx64, seq);
    return r;
}

/* Sends a CALL up through the site session (the relay's whole path: held,
 * stored and answered locally while the CSMS is away, replayed after). */
void agg__up(struct aggregate *a, const char *site_id, const char *action, const char *payload)
{
    if (!a->site)
        return; /* shutting down: the charger's CALL goes unanswered, it sends it again */
    size_t len = strlen(payload);
    size_t cap = len + FRAME_ID_MAX + FRAME_NAME_MAX + 16;
    char *frame = malloc(cap);
    int n = frame ? frame_write_call(frame, cap, site_id, action, payload, len) : -ENOMEM;
    if (n > 0)
        relay_from_charger(a->site, frame, (size_t)n);
    else
        log_warn("proxy", "cannot send up site=%s action=%s", a->site->id, action);
    free(frame);
}

void agg__emit(struct aggregate *a, const char *action, const cJSON *payload)
{
    if (!a->site || a->proxy->draining)
        return;
    char id[FRAME_ID_MAX + 1];
    struct agg_route *r = agg__route_new(a, id);
    snprintf(r->action, sizeof(r->action), "%s", action);
    char *text = cJSON_PrintUnformatted(payload);
    if (text)
        agg__up(a, id, action, text);
    free(text);
}

void agg__emit_status(struct aggregate *a, int number)
{
    if (number == 0 && agg__version(a) == OCPP_201)
        return; /* 2.0.1 statuses are the EVSEs' connectors' */
    const struct agg_status *st = &a->status[number];
    char now[32];
    agg__now(now);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "connectorId", number);
    cJSON_AddStringToObject(o, "errorCode", st->error[0] ? st->error : "NoError");
    cJSON_AddStringToObject(o, "status", st->status[0] ? st->status : "Unavailable");
    cJSON_AddStringToObject(o, "timestamp", now);
    agg__emit_bridged(a, "StatusNotification", o, number);
    cJSON_Delete(o);
}

/* The status table covers every number the map has. */
static int agg__status_fit(struct aggregate *a)
{
    size_t need = a->map.n + 1;
    if (need <= a->n_status)
        return 0;
    struct agg_status *grown = realloc(a->status, need * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    memset(grown + a->n_status, 0, (need - a->n_status) * sizeof(*grown));
    a->status = grown;
    a->n_status = need;
    return 0;
}

const char *agg__status_of(struct aggregate *a, int number)
{
    if (agg__status_fit(a) < 0 || number < 0 || (size_t)number >= a->n_status)
        return "";
    return a->status[number].status;
}

void agg__set_status(struct aggregate *a, int number, const char *status, const char *error)
{
    if (!status || agg__status_fit(a) < 0 || number < 0 || (size_t)number >= a->n_status)
        return;
    snprintf(a->status[number].status, sizeof(a->status[0].status), "%s", status);
    snprintf(a->status[number].error, sizeof(a->status[0].error), "%s", error ? error : "NoError");
}

void agg__emit_statuses(struct aggregate *a)
{
    if (agg__status_fit(a) < 0)
        return;
    agg__set_status(a, 0, "Available", "NoError");
    for (size_t i = 0; i < a->n_status; i++)
        if (i == 0 || agg_map_slot(&a->map, (int)i))
            agg__emit_status(a, (int)i);
}

static void agg__sample(cJSON *values, const char *measurand, const char *phase, const char *unit,
                        double v)
{
    if (isnan(v))
        return;
    char text[32];
    snprintf(text, sizeof(text), "%.1f", v);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "value", text);
    cJSON_AddStringToObject(s, "context", "Sample.Periodic");
    cJSON_AddStringToObject(s, "measurand", measurand);
    if (phase)
        cJSON_AddStringToObject(s, "phase", phase);
    cJSON_AddStringToObject(s, "location", "Inlet");
    cJSON_AddStringToObject(s, "unit", unit);
    cJSON_AddItemToArray(values, s);
}

void agg__emit_meter(struct aggregate *a)
{
    const struct proxy_observer *ob = &a->proxy->observer;
    struct proxy_site_reading r;
    if (!ob->site_reading || !ob->site_reading(ob->ctx, &r))
        return;
    static const char *const phases[] = { "L1", "L2", "L3" };
    char now[32];
    agg__now(now);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "connectorId", 0);
    cJSON *mv = cJSON_AddArrayToObject(o, "meterValue");
    cJSON *one = cJSON_CreateObject();
    cJSON_AddItemToArray(mv, one);
    cJSON_AddStringToObject(one, "timestamp", now);
    cJSON *values = cJSON_AddArrayToObject(one, "sampledValue");
    agg__sample(values, "Power.Active.Import", NULL, "W", r.power_w);
    for (int i = 0; i < 3; i++)
        agg__sample(values, "Current.Import", phases[i], "A", r.current_a[i]);
    agg__sample(values, "Energy.Active.Import.Register", NULL, "Wh", r.energy_wh);
    if (cJSON_GetArraySize(values) > 0)
        agg__emit_bridged(a, "MeterValues", o, 0);
    cJSON_Delete(o);
}

static void agg__meter_cb(uv_timer_t *t)
{
    agg__emit_meter(t->data);
}

void agg__meter_timer(struct aggregate *a)
{
    uv_timer_stop(&a->meter);
    if (a->meter_s > 0)
        uv_timer_start(&a->meter, agg__meter_cb, (uint64_t)a->meter_s * 1000,
                       (uint64_t)a->meter_s * 1000);
}

/* --- the chargers' CALLs --------------------------------------------------- */

void agg__answer(struct session *c, const char *id, const char *payload)
{
    char frame[AGG__PAYLOAD_MAX];
    int n = frame_write_result(frame, sizeof(frame), id, payload, strlen(payload));
    if (n > 0 && session_send(c, SESSION_DOWN, frame, (size_t)n) < 0)
        c->proxy->stats.dropped_frames++;
}

static void agg__answer_boot(struct aggregate *a, struct session *c, const struct frame *f)
{
    char now[32], payload[128], frame[256];
    agg__now(now);
    int interval = a->heartbeat_s > 0 ? a->heartbeat_s : a->proxy->cfg->offline.heartbeat_interval_s;
    snprintf(payload, sizeof(payload), "{\"status\":\"Accepted\",\"currentTime\":\"%s\",\"interval\":%d}",
             now, interval);
    agg__answer(c, f->id, payload);
    /* As if the CSMS had accepted it: the gateway may now ask the charger
     * about its smart charging. */
    struct pending_call call = { .on_answer = NULL };
    snprintf(call.action, sizeof(call.action), "BootNotification");
    struct frame answer;
    int n = frame_write_result(frame, sizeof(frame), f->id, payload, strlen(payload));
    if (n > 0 && frame_parse(frame, (size_t)n, &answer) == FRAME_OK)
        smart_csms_answer(c, &call, &answer);
}

/* A charger-level status (connector 0) stands for each of its connectors:
 * a fault shows on all of them, and its end brings their own statuses back. */
void agg__charger_status(struct aggregate *a, struct session *c, const char *status, const char *error)
{
    bool faulted = strcmp(status, "Faulted") == 0;
    for (int k = 1; k <= c->cfg->connectors; k++) {
        int number = agg_map_number(&a->map, c->id, k);
        if (number < 0 || agg__status_fit(a) < 0)
            continue;
        if (faulted) {
            agg__set_status(a, number, "Faulted", error ? error : "OtherError");
            agg__emit_status(a, number);
        } else if (strcmp(a->status[number].status, "Faulted") == 0) {
            agg__set_status(a, number, "Available", "NoError"); /* until it says otherwise */
            agg__emit_status(a, number);
        }
    }
}

/* Remembers what the CSMS may later name only by id. */
static void agg__learn(struct aggregate *a, struct session *c, const char *action, const cJSON *payload,
                       int connector)
{
    const cJSON *tx = cJSON_GetObjectItemCaseSensitive(payload, "transactionId");
    if (!cJSON_IsNumber(tx))
        return;
    char key[32];
    snprintf(key, sizeof(key), "%.0f", tx->valuedouble);
    if (strcmp(action, "StopTransaction") == 0) {
        agg__tx_end(a, key);
    } else if (strcmp(action, "MeterValues") == 0) {
        const struct agg_ref *known = agg__tx_get(a, key);
        agg__tx_put(a, key, c->id, connector ? connector : known ? known->connector : 0);
    }
}

void aggregate_charger_call(struct session *c, const struct frame *f)
{
    struct aggregate *a = agg__of(c);
    if (strcmp(f->action, "BootNotification") == 0) {
        agg__answer_boot(a, c, f);
        return;
    }
    char now[32], payload_text[64];
    if (strcmp(f->action, "Heartbeat") == 0) {
        agg__now(now);
        snprintf(payload_text, sizeof(payload_text), "{\"currentTime\":\"%s\"}", now);
        agg__answer(c, f->id, payload_text);
        return;
    }
    /* The site has no firmware or diagnostics of its own to report. */
    if (strcmp(f->action, "FirmwareStatusNotification") == 0 ||
        strcmp(f->action, "DiagnosticsStatusNotification") == 0) {
        agg__answer(c, f->id, "{}");
        return;
    }
    cJSON *payload = cJSON_ParseWithLength(f->payload.ptr, f->payload.len);
    if (!cJSON_IsObject(payload)) {
        cJSON_Delete(payload);
        relay_send_error(c, SESSION_DOWN, f->id, bridge_error_code(c->version, "FormationViolation"),
                         "payload is not a JSON object");
        return;
    }
    if (agg__bridged(a, c)) {
        agg__up_bridged(a, c, f, payload);
        cJSON_Delete(payload);
        return;
    }
    cJSON *connector = cJSON_GetObjectItemCaseSensitive(payload, "connectorId");
    int local = cJSON_IsNumber(connector) ? connector->valueint : -1;
    if (local == 0 && strcmp(f->action, "MeterValues") == 0) {
        agg__answer(c, f->id, "{}"); /* the site's connector 0 is the grid meter's */
        cJSON_Delete(payload);
        return;
    }
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(payload, "status");
    if (local == 0 && strcmp(f->action, "StatusNotification") == 0) {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(payload, "errorCode");
        if (cJSON_IsString(status))
            agg__charger_status(a, c, status->valuestring, cJSON_IsString(error) ? error->valuestring : NULL);
        agg__answer(c, f->id, "{}");
        cJSON_Delete(payload);
        return;
    }
    if (local > 0) {
        int number = agg_map_number(&a->map, c->id, local);
        if (number < 0) {
            relay_send_error(c, SESSION_DOWN, f->id, "InternalError", "no site connector for it");
            cJSON_Delete(payload);
            return;
        }
        cJSON_SetNumberValue(connector, number);
        if (strcmp(f->action, "StatusNotification") == 0) {
            const cJSON *error = cJSON_GetObjectItemCaseSensitive(payload, "errorCode");
            if (cJSON_IsString(status))
                agg__set_status(a, number, status->valuestring,
                                cJSON_IsString(error) ? error->valuestring : NULL);
        }
    }
    agg__learn(a, c, f->action, payload, local > 0 ? local : 0);
    char id[FRAME_ID_MAX + 1];
    struct agg_route *r = agg__route_new(a, id);
    snprintf(r->charger, sizeof(r->charger), "%s", c->id);
    snprintf(r->id, sizeof(r->id), "%s", f->id);
    snprintf(r->action, sizeof(r->action), "%s", f->action);
    r->connector = local > 0 ? local : 0;
    r->conn_serial = c->down ? c->down->serial : 0;
    char *text = cJSON_PrintUnformatted(payload);
    cJSON_Delete(payload);
    if (text)
        agg__up(a, id, f->action, text);
    else
        relay_send_error(c, SESSION_DOWN, f->id, "InternalError", "out of memory");
    free(text);
}

void aggregate_charger_link(struct session *c, bool up)
{
    struct aggregate *a = agg__of(c);
    for (int k = 1; k <= c->cfg->connectors; k++) {
        int number = agg_map_number(&a->map, c->id, k);
        if (number < 0 || agg__status_fit(a) < 0 || up)
            continue;
        agg__set_status(a, number, "Unavailable", "NoError");
        agg__emit_status(a, number);
    }
    /* A charger that comes back without booting says nothing of its
     * connectors by itself: it is asked. */
    if (up)
        charger_calls_ask_statuses(c);
}

/* --- answers on the way back ----------------------------------------------- */

int aggregate_deliver(struct session *site, const char *frame, size_t len)
{
    struct aggregate *a = agg__of(site);
    if (!a)
        return -ENOTCONN;
    struct frame f;
    if (frame_parse(frame, len, &f) != FRAME_OK || f.type == FRAME_CALL || f.id[0] != 'a')
        return -EINVAL;
    uint64_t seq = strtoull(f.id + 1, NULL, 16);
    struct agg_route *r = &a->routes[seq % AGG_ROUTES];
    if (!seq || r->seq != seq) {
        log_info("proxy", "answer for no charger dropped site=%s id=%s", site->id, f.id);
        return -ENOENT;
    }
    struct agg_route route = *r;
    memset(r, 0, sizeof(*r));
    if (!route.charger[0])
        return 0; /* the site's own message */
    struct session *c = proxy__find(site->proxy, route.charger);
    if (!c || !c->down || c->down->serial != route.conn_serial) {
        log_info("proxy", "answer for a charger's closed socket dropped site=%s charger=%s id=%s",
                 site->id, route.charger, route.id);
        return -ENOTCONN;
    }
    if (route.bridged) {
        char *mapped;
        size_t mapped_len;
        int rc = agg__answer_bridged(a, &route, &f, &mapped, &mapped_len);
        if (rc == 0)
            rc = link_send(&c->down->link, mapped, mapped_len);
        free(mapped);
        return rc;
    }
    if (f.type == FRAME_RESULT && strcmp(route.action, "StartTransaction") == 0) {
        cJSON *payload = cJSON_ParseWithLength(f.payload.ptr, f.payload.len);
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(payload, "transactionId");
        if (cJSON_IsNumber(tx)) {
            char key[32];
            snprintf(key, sizeof(key), "%.0f", tx->valuedouble);
            agg__tx_start(a, key, c->id, route.connector);
        }
        cJSON_Delete(payload);
    }
    size_t cap = len + FRAME_ID_MAX + 16;
    char *out = malloc(cap);
    int n = !out ? -ENOMEM
            : f.type == FRAME_RESULT ? frame_write_result(out, cap, route.id, f.payload.ptr, f.payload.len)
                                     : frame_write_error(out, cap, route.id, f.error_code, "");
    int rc = n > 0 ? link_send(&c->down->link, out, (size_t)n) : n;
    free(out);
    return rc;
}

/* --- the site session ------------------------------------------------------ */

struct link *aggregate_up_link(struct session *s)
{
    struct aggregate *a = s->proxy->agg;
    return a && !s->site && a->site ? &a->site->up : &s->up;
}

void aggregate_upstream_opening(struct session *site)
{
    struct aggregate *a = agg__of(site);
    a->booted = false;
    uv_timer_stop(&a->heartbeat);
    agg__send_boot(a);
}

void aggregate_upstream_closed(struct session *site)
{
    struct aggregate *a = agg__of(site);
    a->booted = false;
    uv_timer_stop(&a->heartbeat);
}

bool aggregate_booted(const struct session *site)
{
    return agg__of(site)->booted;
}

void aggregate_site_released(struct session *site)
{
    struct aggregate *a = agg__of(site);
    a->site = NULL;
    uv_timer_stop(&a->heartbeat);
    uv_timer_stop(&a->meter);
}

void aggregate_replayed(struct session *site)
{
    agg__emit_statuses(agg__of(site));
}

static void agg__load_settings(struct aggregate *a)
{
    struct store *st = a->proxy->store;
    char *text = NULL;
    a->meter_s = a->proxy->cfg->aggregate.meter_interval_s;
    a->grid_limit_kw = NAN;
    if (st && store_kv_get(st, "aggregate", "MeterValueSampleInterval", &text) == 0)
        a->meter_s = atoi(text);
    free(text);
    text = NULL;
    if (st && store_kv_get(st, "aggregate", "SiteGridLimitKw", &text) == 0) {
        a->grid_limit_kw = strtod(text, NULL);
        if (!(a->grid_limit_kw > 0 && a->grid_limit_kw <= a->proxy->cfg->site.grid_limit_kw))
            a->grid_limit_kw = NAN;
    }
    free(text);
}

int aggregate_start(struct proxy *p)
{
    const struct config *cfg = p->cfg;
    struct aggregate *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->proxy = p;
    int rc = agg_map_load(&a->map, cfg, p->store);
    if (rc == 0)
        rc = agg__status_fit(a);
    struct session *site = rc == 0 ? proxy__session_new(p, cfg->site.id, &cfg->charger_defaults) : NULL;
    if (!site) {
        agg_map_free(&a->map);
        free(a->status);
        free(a);
        return rc < 0 ? rc : -ENOMEM;
    }
    p->agg = a;
    a->site = site;
    site->site = a;
    site->version = agg__version(a);
    a->boot_reason = "PowerUp";
    if (agg_btx_load(&a->bridged, p->store) < 0)
        log_error("proxy", "cannot read the bridged transactions site=%s", cfg->site.id);
    /* Every charger's CALLs share the site's socket and table. */
    size_t chargers = cfg->n_chargers ? cfg->n_chargers : 1;
    site->to_csms.max = chargers * (size_t)cfg->limits.max_pending_calls;
    if (site->to_csms.max > AGG_ROUTES)
        site->to_csms.max = AGG_ROUTES;
    site->up.max_queued = chargers * (size_t)cfg->limits.hold_frames;
    link_one_call(&site->up); /* OCPP-J: one CALL in flight, whoever sent it */
    uv_timer_init(p->loop, &a->heartbeat);
    uv_timer_init(p->loop, &a->meter);
    a->heartbeat.data = a->meter.data = a;
    agg__load_settings(a);
    if (!isnan(a->grid_limit_kw) && p->observer.site_limit_kw)
        p->observer.site_limit_kw(p->observer.ctx, a->grid_limit_kw);
    log_info("proxy", "aggregate mode site=%s connectors=%zu", cfg->site.id, a->map.n);
    csms_side_connect(site);
    return 0;
}

static void agg__handle_closed(uv_handle_t *h)
{
    struct aggregate *a = h->data;
    if (--a->open_handles == 0) {
        agg_map_free(&a->map);
        free(a->status);
        free(a);
    }
}

void aggregate_free(struct proxy *p)
{
    struct aggregate *a = p->agg;
    if (!a)
        return;
    p->agg = NULL;
    a->open_handles = 2;
    uv_close((uv_handle_t *)&a->heartbeat, agg__handle_closed);
    uv_close((uv_handle_t *)&a->meter, agg__handle_closed);
}
