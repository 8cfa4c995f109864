/* The status API's JSON: the site, one charger, the last hour. Built from the
 * gateway's state on the loop thread, read-only. Units are in the names
 * (_kw, _a, _s); a value that is not known is null. */
#include "status_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "balancer.h"
#include "config.h"
#include "control.h"
#include "dr.h"
#include "metering.h"
#include "proxy.h"
#include "site.h"
#include "store.h"

const char *status_state_name(int state)
{
    static const char *const names[BALANCER_STATE_COUNT] = {
        [BALANCER_AVAILABLE] = "available",           [BALANCER_PREPARING] = "preparing",
        [BALANCER_CHARGING] = "charging",             [BALANCER_SUSPENDED_EV] = "suspended_ev",
        [BALANCER_SUSPENDED_EVSE] = "suspended_evse", [BALANCER_FINISHING] = "finishing",
        [BALANCER_FAULTED] = "faulted",               [BALANCER_UNAVAILABLE] = "unavailable",
    };
    return state >= 0 && state < BALANCER_STATE_COUNT ? names[state] : "unknown";
}

const char *status_meter_state(const struct status *st, size_t i, double *age_s)
{
    const struct metering *m = st->src.metering;
    uint64_t now = uv_now(st->loop);
    uint64_t stale_ms = (uint64_t)st->src.cfg->site.meter_stale_s * 1000;
    uint64_t last = m && i < CONFIG_METERS_MAX ? m->last_ok_ms[i] : 0;
    *age_s = last ? (double)(now - last) / 1000.0 : NAN;
    if (!last)
        return now - st->started_ms < stale_ms ? "waiting" : "stale";
    return now - last > stale_ms ? "stale" : "ok";
}

void status_now(const struct status *st, struct status_now *out)
{
    struct control_report r;
    control_report(st->src.control, &r);
    out->import_kw = r.import_kw;
    out->ev_kw = r.ev_kw;
    out->cap_kw = r.cap_kw;
    out->budget_kw = st->src.control->n_out ? st->src.control->budget.total_w / 1000 : NAN;
}

/* A number rounded to 1/scale, or null when it is not a finite number. */
static cJSON *status__num(cJSON *obj, const char *name, double v, double scale)
{
    cJSON *item = isfinite(v) ? cJSON_CreateNumber(round(v * scale) / scale) : cJSON_CreateNull();
    cJSON_AddItemToObject(obj, name, item);
    return item;
}

static void status__tristate(cJSON *obj, const char *name, int v)
{
    cJSON_AddItemToObject(obj, name, v < 0 ? cJSON_CreateNull() : cJSON_CreateBool(v));
}

/* The draw of a connector: the busiest phase in A, and in kW (every phase of
 * a three-phase charger, the busiest of a single-phase one). */
static void status__draw(const struct site_charger *ch, int k, double voltage_v, double *a,
                         double *kw)
{
    const double *m = ch->conn[k].measured_a;
    double sum = 0, most = NAN;
    for (int p = 0; p < BALANCER_PHASES; p++) {
        if (isnan(m[p]))
            continue;
        sum += m[p];
        most = isnan(most) ? m[p] : fmax(most, m[p]);
    }
    *a = most;
    *kw = isnan(most) ? NAN : (ch->cfg->phases == 1 ? most : sum) * voltage_v / 1000;
}

static cJSON *status__connector(const struct status *st, const struct site_charger *ch, int k,
                                size_t out_index)
{
    const struct control *c = st->src.control;
    const struct site_connector *sc = &ch->conn[k];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", k + 1);
    cJSON_AddStringToObject(o, "state", status_state_name(sc->state));
    bool allocated = out_index < c->n_out;
    status__num(o, "allocation_a", allocated ? c->out[out_index].limit_a : NAN, 10);
    cJSON_AddStringToObject(o, "allocation",
                            allocated ? balancer_status_name(c->out[out_index].status) : "unknown");
    status__num(o, "limit_a", sc->sent_a, 10);
    double draw_a, draw_kw;
    status__draw(ch, k, st->src.cfg->site.voltage_v, &draw_a, &draw_kw);
    status__num(o, "draw_a", draw_a, 10);
    status__num(o, "draw_kw", draw_kw, 100);
    cJSON *phases = cJSON_AddArrayToObject(o, "measured_a");
    for (int p = 0; p < BALANCER_PHASES; p++) {
        double v = sc->measured_a[p];
        cJSON_AddItemToArray(phases, isfinite(v) ? cJSON_CreateNumber(round(v * 10) / 10)
                                                 : cJSON_CreateNull());
    }
    status__num(o, "csms_limit_a", sc->csms_limit_a, 10);
    cJSON_AddItemToObject(o, "transaction",
                          sc->tx_id[0] ? cJSON_CreateString(sc->tx_id) : cJSON_CreateNull());
    return o;
}

static cJSON *status__charger(const struct status *st, const struct site_charger *ch, size_t base)
{
    const struct config *cfg = st->src.cfg;
    struct proxy_charger_view v;
    bool session = proxy_charger_view(st->src.proxy, ch->id, &v) == 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", ch->id);
    cJSON_AddBoolToObject(o, "online", ch->online);
    cJSON_AddItemToObject(o, "ocpp", session && v.connected ? cJSON_CreateString(v.ocpp)
                                                            : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "upstream", session ? v.upstream : "idle");
    cJSON_AddBoolToObject(o, "offline", session && v.offline);
    cJSON_AddNumberToObject(o, "pending_calls",
                            session ? (double)(v.pending_to_csms + v.pending_to_charger) : 0);
    if (cfg->upstream.mode == CONFIG_MODE_AGGREGATE) {
        cJSON_AddNullToObject(o, "queue_depth"); /* one queue, the site's */
    } else {
        uint64_t depth = 0;
        if (session && v.backlog && st->src.store)
            store_queue_stats(st->src.store, ch->id, &depth, NULL, NULL);
        cJSON_AddNumberToObject(o, "queue_depth", (double)depth);
    }
    status__tristate(o, "smart", ch->ready ? ch->smart : -1);
    cJSON_AddStringToObject(o, "profile", session ? v.profile : "");
    status__tristate(o, "following", ch->following);
    cJSON_AddBoolToObject(o, "over_limit", ch->over_limit);
    status__num(o, "limit_a", ch->sent_a, 10);
    status__num(o, "csms_limit_a", ch->csms_max_a, 10);
    cJSON_AddNumberToObject(o, "profile_writes", (double)ch->profile_writes);
    cJSON_AddNumberToObject(o, "profiles_unanswered", session ? v.profiles_unanswered : 0);
    cJSON_AddNumberToObject(o, "phases", ch->cfg->phases);
    status__num(o, "min_current_a", ch->cfg->min_current_a, 10);
    status__num(o, "max_current_a", ch->cfg->max_current_a, 10);
    cJSON_AddNumberToObject(o, "priority", ch->cfg->priority);
    cJSON *conns = cJSON_AddArrayToObject(o, "connectors");
    for (int k = 0; k < ch->n_conn; k++)
        cJSON_AddItemToArray(conns, status__connector(st, ch, k, base + (size_t)k));
    return o;
}

static cJSON *status__limits(const struct status *st)
{
    const struct control *c = st->src.control;
    const struct config *cfg = st->src.cfg;
    bool ran = c->n_out > 0;
    cJSON *o = cJSON_CreateObject();
    struct status_now now;
    status_now(st, &now);
    status__num(o, "cap_kw", now.cap_kw, 100);
    cJSON_AddItemToObject(o, "cap_source",
                          ran ? cJSON_CreateString(balancer_source_name(c->budget.total_source))
                              : cJSON_CreateNull());
    const char *binding = ran ? balancer_binding_name(c->summary.binding) : NULL;
    cJSON_AddItemToObject(o, "binding", binding ? cJSON_CreateString(binding) : cJSON_CreateNull());
    enum balancer_source by = BALANCER_SRC_NONE;
    if (ran && c->summary.binding == BALANCER_BIND_TOTAL)
        by = c->budget.total_source;
    else if (ran && c->summary.binding >= BALANCER_BIND_L1 && c->summary.binding <= BALANCER_BIND_L3)
        by = c->budget.phase_source[c->summary.binding - BALANCER_BIND_L1];
    cJSON_AddItemToObject(o, "binding_source", by != BALANCER_SRC_NONE
                                                   ? cJSON_CreateString(balancer_source_name(by))
                                                   : cJSON_CreateNull());
    cJSON_AddBoolToObject(o, "charger_bound", ran && (c->summary.binding_mask & BALANCER_BINDS_CHARGER));
    status__num(o, "margin_kw", cfg->site.margin_kw, 100);
    status__num(o, "budget_kw", now.budget_kw, 100);
    cJSON *phase = cJSON_AddArrayToObject(o, "budget_phase_a");
    for (int p = 0; p < BALANCER_PHASES; p++) {
        double a = ran ? c->budget.phase_a[p] : NAN;
        cJSON_AddItemToArray(phase, isfinite(a) ? cJSON_CreateNumber(round(a * 10) / 10)
                                                : cJSON_CreateNull());
    }
    status__num(o, "used_kw", ran ? c->summary.used_w / 1000 : NAN, 100);
    cJSON *sources = cJSON_AddObjectToObject(o, "sources");
    for (int src = 0; src < BALANCER_SRC_COUNT; src++) {
        cJSON *s = cJSON_AddObjectToObject(sources, balancer_source_name((enum balancer_source)src));
        status__num(s, "kw", c->caps_kw[src], 100);
        status__num(s, "phase_a", c->phase_caps_a[src], 10);
    }
    return o;
}

static cJSON *status__meters(const struct status *st, const char **grid_state)
{
    const struct config *cfg = st->src.cfg;
    static const char *const roles[] = {
        [CONFIG_METER_GRID] = "grid", [CONFIG_METER_TRANSFORMER] = "transformer",
        [CONFIG_METER_EV_SUBMETER] = "ev_submeter",
    };
    *grid_state = "none";
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < cfg->n_meters && i < CONFIG_METERS_MAX; i++) {
        double age;
        const char *state = status_meter_state(st, i, &age);
        if (cfg->meters[i].role == CONFIG_METER_GRID && strcmp(*grid_state, "none") == 0)
            *grid_state = state;
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "name", cfg->meters[i].name);
        cJSON_AddStringToObject(m, "role", roles[cfg->meters[i].role]);
        cJSON_AddStringToObject(m, "state", state);
        status__num(m, "age_s", age, 10);
        const struct metering *mt = st->src.metering;
        cJSON_AddNumberToObject(m, "poll_errors", mt ? (double)mt->poll_errors[i] : 0);
        cJSON_AddStringToObject(m, "last_error", mt ? mt->last_error[i] : "");
        cJSON_AddItemToArray(a, m);
    }
    return a;
}

static cJSON *status__dr(const struct status *st)
{
    const struct dr *d = st->src.dr;
    if (!d || !d->started)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mqtt", d->mqtt && oadr_mqtt_up(d->mqtt) ? "up" : "down");
    status__num(o, "limit_kw", d->limit_kw, 100);
    bool active = d->limit_event[0] != '\0';
    cJSON_AddItemToObject(o, "event", active ? cJSON_CreateString(d->limit_event) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "interval", active ? cJSON_CreateNumber(d->limit_interval)
                                                : cJSON_CreateNull());
    return o;
}

static cJSON *status__queue(const struct status *st)
{
    cJSON *o = cJSON_CreateObject();
    uint64_t depth = 0, bytes = 0;
    int64_t oldest = 0;
    if (st->src.store && store_queue_stats(st->src.store, NULL, &depth, &oldest, &bytes) == 0) {
        cJSON_AddNumberToObject(o, "depth", (double)depth);
        double age = oldest ? (double)((int64_t)time(NULL) * 1000 - oldest) / 1000.0 : 0;
        status__num(o, "oldest_age_s", age > 0 ? age : 0, 10);
        cJSON_AddNumberToObject(o, "bytes", (double)bytes);
        cJSON_AddNumberToObject(o, "thinned", (double)store_thinned(st->src.store));
    } else {
        cJSON_AddNullToObject(o, "depth");
    }
    return o;
}

static cJSON *status__upstream(const struct status *st)
{
    const struct config *cfg = st->src.cfg;
    struct proxy_totals t;
    proxy_get_totals(st->src.proxy, &t);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", cfg->upstream.mode == CONFIG_MODE_AGGREGATE ? "aggregate"
                                                                                    : "passthrough");
    cJSON_AddStringToObject(o, "url", cfg->upstream.url);
    cJSON_AddNumberToObject(o, "open", (double)t.upstreams_open);
    cJSON_AddNumberToObject(o, "sessions", (double)t.sessions);
    cJSON_AddNumberToObject(o, "replaying", (double)t.replaying);
    struct proxy_charger_view site;
    if (proxy_site_view(st->src.proxy, &site) == 0)
        cJSON_AddStringToObject(o, "site", site.upstream);
    return o;
}

static char *status__print(cJSON *root, size_t *len)
{
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    *len = text ? strlen(text) : 0;
    return text;
}

char *status_json_site(const struct status *st, size_t *len)
{
    const struct config *cfg = st->src.cfg;
    const struct site *site = st->src.site;
    cJSON *root = cJSON_CreateObject();
    cJSON *s = cJSON_AddObjectToObject(root, "site");
    cJSON_AddStringToObject(s, "id", cfg->site.id);
    cJSON_AddStringToObject(s, "version", SITEGATE_VERSION);
    cJSON_AddNumberToObject(s, "uptime_s", (double)((uv_now(st->loop) - st->started_ms) / 1000));
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(s, "time", when);

    struct status_now now;
    status_now(st, &now);
    const char *grid_state;
    cJSON *meters = status__meters(st, &grid_state);
    cJSON *grid = cJSON_AddObjectToObject(root, "grid");
    status__num(grid, "import_kw", now.import_kw, 100);
    cJSON_AddStringToObject(grid, "meter", grid_state);
    cJSON *ev = cJSON_AddObjectToObject(root, "ev");
    status__num(ev, "load_kw", now.ev_kw, 100);
    cJSON_AddItemToObject(root, "limits", status__limits(st));
    cJSON_AddItemToObject(root, "upstream", status__upstream(st));
    cJSON_AddItemToObject(root, "queue", status__queue(st));
    cJSON_AddItemToObject(root, "demand_response", status__dr(st));
    cJSON_AddItemToObject(root, "meters", meters);
    cJSON *chargers = cJSON_AddArrayToObject(root, "chargers");
    size_t base = 0;
    for (size_t i = 0; i < site->n_chargers; i++) {
        cJSON_AddItemToArray(chargers, status__charger(st, &site->chargers[i], base));
        base += (size_t)site->chargers[i].n_conn;
    }
    return status__print(root, len);
}

int status_json_charger(const struct status *st, const char *id, char **body, size_t *len)
{
    const struct site *site = st->src.site;
    *body = NULL;
    *len = 0;
    size_t base = 0;
    for (size_t i = 0; i < site->n_chargers; i++) {
        const struct site_charger *ch = &site->chargers[i];
        if (strcmp(ch->id, id) == 0) {
            *body = status__print(status__charger(st, ch, base), len);
            return *body ? 0 : -ENOMEM;
        }
        base += (size_t)ch->n_conn;
    }
    return -ENOENT;
}

static double status__import(const struct history_sample *s) { return s->import_kw; }
static double status__cap(const struct history_sample *s) { return s->cap_kw; }
static double status__ev(const struct history_sample *s) { return s->ev_kw; }

static void status__series(cJSON *root, const char *name, const struct history *h,
                           double (*get)(const struct history_sample *))
{
    cJSON *a = cJSON_AddArrayToObject(root, name);
    for (size_t i = 0; i < h->n; i++) {
        double v = get(history_at(h, i));
        cJSON_AddItemToArray(a, isfinite(v) ? cJSON_CreateNumber(round(v * 100) / 100)
                                            : cJSON_CreateNull());
    }
}

char *status_json_history(const struct status *st, size_t *len)
{
    const struct history *h = &st->history;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "step_s", 1);
    /* The newest sample is the last whole second. */
    cJSON_AddNumberToObject(root, "end", (double)time(NULL));
    cJSON_AddNumberToObject(root, "samples", (double)h->n);
    status__series(root, "import_kw", h, status__import);
    status__series(root, "cap_kw", h, status__cap);
    status__series(root, "ev_kw", h, status__ev);
    return status__print(root, len);
}
