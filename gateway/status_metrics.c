/* GET /metrics: the Prometheus text exposition format (version 0.0.4).
 * Every family has its HELP and TYPE lines and its samples together; label
 * values are escaped; a gauge whose value is not known is left out. */
#include "status_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "balancer.h"
#include "config.h"
#include "control.h"
#include "dr.h"
#include "metering.h"
#include "proxy.h"
#include "reload.h"
#include "site.h"
#include "store.h"

/* The exposition being written; grows as needed, NULL once out of memory. */
struct status_text {
    char *p;
    size_t len, cap;
    bool failed;
};

static void status__put(struct status_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void status__put(struct status_text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->failed = true;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
}

static void status__family(struct status_text *t, const char *name, const char *type,
                           const char *help)
{
    status__put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newlines escaped, into buf. */
static const char *status__esc(const char *v, char *buf, size_t cap)
{
    size_t n = 0;
    for (; *v && n + 3 < cap; v++) {
        if (*v == '\\' || *v == '"') {
            buf[n++] = '\\';
            buf[n++] = *v;
        } else if (*v == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else {
            buf[n++] = *v;
        }
    }
    buf[n] = '\0';
    return buf;
}

/* A float as Prometheus spells it. */
static const char *status__float(double v, char *buf, size_t cap)
{
    if (isnan(v))
        snprintf(buf, cap, "NaN");
    else if (isinf(v))
        snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
    else
        snprintf(buf, cap, "%.10g", v);
    return buf;
}

static void status__gauge(struct status_text *t, const char *name, const char *help, double v)
{
    char num[32];
    status__family(t, name, "gauge", help);
    if (!isnan(v))
        status__put(t, "%s %s\n", name, status__float(v, num, sizeof(num)));
}

static void status__counter(struct status_text *t, const char *name, const char *help, uint64_t v)
{
    status__family(t, name, "counter", help);
    status__put(t, "%s %llu\n", name, (unsigned long long)v);
}

static void status__relay(struct status_text *t, const struct status *st)
{
    const struct proxy_stats *ps = proxy_get_stats(st->src.proxy);
    const struct proxy_traffic *tr = proxy_get_traffic(st->src.proxy);
    static const char *const dirs[PROXY_DIRS] = { "from_charger", "from_csms" };
    static const char *const kinds[PROXY_KINDS] = { "call", "result", "error" };
    char esc[160];
    status__family(t, "sitegate_frames_total", "counter",
                   "Frames relayed, by sender, message type and action (answers by the action of their CALL).");
    for (size_t i = 0; i < PROXY_ACTIONS_MAX; i++) {
        const struct proxy_action_frames *a = &tr->actions[i]; /* unused rows have no name */
        for (int d = 0; d < PROXY_DIRS; d++)
            for (int k = 0; k < PROXY_KINDS; k++)
                if (a->n[d][k])
                    status__put(t, "sitegate_frames_total{direction=\"%s\",type=\"%s\",action=\"%s\"} %llu\n",
                                dirs[d], kinds[k], status__esc(a->action, esc, sizeof(esc)),
                                (unsigned long long)a->n[d][k]);
    }
    status__counter(t, "sitegate_bad_frames_total", "Frames refused by the OCPP-J envelope parser.",
                    ps->bad_frames);
    status__counter(t, "sitegate_oversized_frames_total",
                    "Frames above limits.max_frame_bytes (the socket was closed).", ps->oversized_frames);
    status__counter(t, "sitegate_unmatched_results_total",
                    "Answers to no CALL in flight, dropped.", ps->unmatched_results);
    status__counter(t, "sitegate_expired_calls_total", "CALLs not answered in time.", ps->expired_calls);
    status__counter(t, "sitegate_refused_calls_total", "CALLs the gateway answered with a CALLERROR.",
                    ps->refused_calls);
    status__counter(t, "sitegate_refused_handshakes_total", "Charger handshakes refused.",
                    ps->refused_handshakes);
    status__counter(t, "sitegate_dropped_frames_total", "Frames dropped: a queue full or a peer gone.",
                    ps->dropped_frames);

    char num[32];
    status__family(t, "sitegate_csms_call_duration_seconds", "histogram",
                   "From a CALL sent toward the CSMS (held while its socket reconnects) to its answer.");
    uint64_t cumulative = 0;
    for (int b = 0; b < PROXY_RTT_BUCKETS; b++) {
        cumulative += tr->rtt_bucket[b];
        status__put(t, "sitegate_csms_call_duration_seconds_bucket{le=\"%s\"} %llu\n",
                    status__float(proxy_rtt_bounds_s[b], num, sizeof(num)),
                    (unsigned long long)cumulative);
    }
    status__put(t, "sitegate_csms_call_duration_seconds_sum %s\n",
                status__float(tr->rtt_sum_s, num, sizeof(num)));
    status__put(t, "sitegate_csms_call_duration_seconds_count %llu\n",
                (unsigned long long)tr->rtt_count);

    struct proxy_totals tot;
    proxy_get_totals(st->src.proxy, &tot);
    status__family(t, "sitegate_pending_calls", "gauge", "CALLs in flight, by the peer that must answer.");
    status__put(t, "sitegate_pending_calls{toward=\"csms\"} %zu\n", tot.pending_to_csms);
    status__put(t, "sitegate_pending_calls{toward=\"charger\"} %zu\n", tot.pending_to_charger);
    status__gauge(t, "sitegate_chargers_connected", "Chargers whose socket is up.",
                  (double)ps->chargers_connected);
    status__gauge(t, "sitegate_upstreams_open", "Upstream sockets to the CSMS that are open.",
                  (double)tot.upstreams_open);
    status__counter(t, "sitegate_profile_writes_total",
                    "SetChargingProfile CALLs the gateway sent, all chargers.", ps->profile_writes);
    status__counter(t, "sitegate_profile_failures_total",
                    "Profiles rejected, not supported, answered with an error or not at all.",
                    ps->profile_failures);
}

/* The oldest message waiting among the identities being replayed. */
struct status__lag {
    struct store *store;
    double lag_s;
    int64_t now_ms;
};

static void status__lag_of(void *ctx, const char *identity)
{
    struct status__lag *l = ctx;
    int64_t oldest = 0;
    if (store_queue_stats(l->store, identity, NULL, &oldest, NULL) == 0 && oldest &&
        (double)(l->now_ms - oldest) / 1000.0 > l->lag_s)
        l->lag_s = (double)(l->now_ms - oldest) / 1000.0;
}

static void status__queue(struct status_text *t, const struct status *st)
{
    struct store *store = st->src.store;
    uint64_t depth = 0, bytes = 0;
    int64_t oldest = 0;
    if (!store || store_queue_stats(store, NULL, &depth, &oldest, &bytes) < 0)
        return;
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    status__gauge(t, "sitegate_queue_depth", "Messages waiting in the store for the CSMS.", (double)depth);
    status__gauge(t, "sitegate_queue_bytes", "Bytes of the messages waiting, counted against offline.max_queue_mb.",
                  (double)bytes);
    double age = oldest && now_ms > oldest ? (double)(now_ms - oldest) / 1000.0 : 0;
    status__gauge(t, "sitegate_queue_oldest_age_seconds", "Age of the oldest message waiting (0: none).", age);
    status__counter(t, "sitegate_queue_thinned_total", "Meter values dropped to keep the queue in its budget.",
                    store_thinned(store));
    struct status__lag lag = { .store = store, .lag_s = 0, .now_ms = now_ms };
    proxy_foreach_replaying(st->src.proxy, status__lag_of, &lag);
    status__gauge(t, "sitegate_replay_lag_seconds",
                  "Age of the oldest message still to replay to a CSMS that is back (0: none).", lag.lag_s);
}

static void status__site(struct status_text *t, const struct status *st)
{
    const struct control *c = st->src.control;
    struct status_now now;
    status_now(st, &now);
    char num[32];
    status__gauge(t, "sitegate_grid_import_kilowatts", "Grid import (without a grid meter: the EV load).",
                  now.import_kw);
    status__gauge(t, "sitegate_ev_load_kilowatts", "The chargers' load.", now.ev_kw);
    status__gauge(t, "sitegate_site_cap_kilowatts", "The lowest site cap in force, demand response included.",
                  now.cap_kw);
    status__gauge(t, "sitegate_ev_budget_kilowatts", "What the chargers may draw together (+Inf: no kW cap).",
                  now.budget_kw);
    status__family(t, "sitegate_site_limit_kilowatts", "gauge", "Each site cap that is set, by its source.");
    for (int src = 0; src < BALANCER_SRC_COUNT; src++)
        if (!isnan(c->caps_kw[src]))
            status__put(t, "sitegate_site_limit_kilowatts{source=\"%s\"} %s\n",
                        balancer_source_name((enum balancer_source)src),
                        status__float(c->caps_kw[src], num, sizeof(num)));
    status__family(t, "sitegate_site_binding", "gauge",
                   "1 for the site budget that held the allocation back (none: every car got its max).");
    if (c->n_out)
        status__put(t, "sitegate_site_binding{binding=\"%s\"} 1\n",
                    balancer_binding_name(c->summary.binding));
}

static void status__per_charger(struct status_text *t, const struct status *st)
{
    const struct site *site = st->src.site;
    const struct control *c = st->src.control;
    char id[160], num[32];
    status__family(t, "sitegate_charger_up", "gauge", "1 while the charger's socket is up.");
    for (size_t i = 0; i < site->n_chargers; i++)
        status__put(t, "sitegate_charger_up{charger=\"%s\"} %d\n",
                    status__esc(site->chargers[i].id, id, sizeof(id)), site->chargers[i].online);
    status__family(t, "sitegate_upstream_up", "gauge",
                   "1 while the charger's upstream socket (aggregate mode: the site's) is open.");
    for (size_t i = 0; i < site->n_chargers; i++) {
        struct proxy_charger_view v;
        bool open = proxy_charger_view(st->src.proxy, site->chargers[i].id, &v) == 0 &&
                    strcmp(v.upstream, "open") == 0;
        status__put(t, "sitegate_upstream_up{charger=\"%s\"} %d\n",
                    status__esc(site->chargers[i].id, id, sizeof(id)), open);
    }
    status__family(t, "sitegate_charger_profile_writes_total", "counter",
                   "Charging profiles the gateway sent to the charger.");
    for (size_t i = 0; i < site->n_chargers; i++)
        status__put(t, "sitegate_charger_profile_writes_total{charger=\"%s\"} %llu\n",
                    status__esc(site->chargers[i].id, id, sizeof(id)),
                    (unsigned long long)site->chargers[i].profile_writes);
    status__family(t, "sitegate_charger_following", "gauge",
                   "1 when the charger takes the gateway's limits, 0 when it does not (left out: not known yet).");
    for (size_t i = 0; i < site->n_chargers; i++)
        if (site->chargers[i].following >= 0)
            status__put(t, "sitegate_charger_following{charger=\"%s\"} %d\n",
                        status__esc(site->chargers[i].id, id, sizeof(id)), site->chargers[i].following);

    static const char *const names[] = { "sitegate_connector_allocation_amperes",
                                         "sitegate_connector_limit_amperes",
                                         "sitegate_connector_draw_amperes" };
    static const char *const helps[] = {
        "The balancer's allocation, per phase.",
        "The limit in force on the charger (after hysteresis), per phase.",
        "The measured draw of the busiest phase.",
    };
    for (int which = 0; which < 3; which++) {
        status__family(t, names[which], "gauge", helps[which]);
        size_t base = 0;
        for (size_t i = 0; i < site->n_chargers; i++) {
            const struct site_charger *ch = &site->chargers[i];
            for (int k = 0; k < ch->n_conn; k++) {
                double v = NAN;
                if (which == 0 && base + (size_t)k < c->n_out)
                    v = c->out[base + (size_t)k].limit_a;
                else if (which == 1)
                    v = ch->conn[k].sent_a;
                else if (which == 2)
                    for (int p = 0; p < BALANCER_PHASES; p++)
                        if (!isnan(ch->conn[k].measured_a[p]))
                            v = isnan(v) ? ch->conn[k].measured_a[p] : fmax(v, ch->conn[k].measured_a[p]);
                if (!isnan(v))
                    status__put(t, "%s{charger=\"%s\",connector=\"%d\"} %s\n", names[which],
                                status__esc(ch->id, id, sizeof(id)), k + 1,
                                status__float(v, num, sizeof(num)));
            }
            base += (size_t)ch->n_conn;
        }
    }
}

static void status__meters(struct status_text *t, const struct status *st)
{
    const struct config *cfg = st->src.cfg;
    const struct metering *m = st->src.metering;
    char name[80], num[32];
    size_t n = cfg->n_meters < CONFIG_METERS_MAX ? cfg->n_meters : CONFIG_METERS_MAX;
    status__family(t, "sitegate_meter_poll_errors_total", "counter", "Failed Modbus readings of the meter.");
    for (size_t i = 0; i < n; i++)
        status__put(t, "sitegate_meter_poll_errors_total{meter=\"%s\"} %llu\n",
                    status__esc(cfg->meters[i].name, name, sizeof(name)),
                    (unsigned long long)(m ? m->poll_errors[i] : 0));
    status__family(t, "sitegate_meter_stale", "gauge",
                   "1 while the meter has had no good reading for site.meter_stale_s.");
    for (size_t i = 0; i < n; i++) {
        double age;
        const char *state = status_meter_state(st, i, &age);
        status__put(t, "sitegate_meter_stale{meter=\"%s\"} %d\n",
                    status__esc(cfg->meters[i].name, name, sizeof(name)), strcmp(state, "stale") == 0);
    }
    status__family(t, "sitegate_meter_age_seconds", "gauge", "Age of the meter's last good reading.");
    for (size_t i = 0; i < n; i++) {
        double age;
        status_meter_state(st, i, &age);
        if (!isnan(age))
            status__put(t, "sitegate_meter_age_seconds{meter=\"%s\"} %s\n",
                        status__esc(cfg->meters[i].name, name, sizeof(name)),
                        status__float(age, num, sizeof(num)));
    }
}

static void status__dr(struct status_text *t, const struct status *st)
{
    const struct dr *d = st->src.dr;
    if (!d || !d->started)
        return;
    status__gauge(t, "sitegate_mqtt_up", "1 while the demand-response MQTT client is connected and subscribed.",
                  d->mqtt && oadr_mqtt_up(d->mqtt));
    status__gauge(t, "sitegate_dr_event_active", "1 while a demand-response event interval is in force.",
                  d->limit_event[0] != '\0');
    status__gauge(t, "sitegate_dr_limit_kilowatts", "The demand-response limit in force (left out: none).",
                  d->limit_kw);
}

static void status__self(struct status_text *t, const struct status *st)
{
    static const char *const routes[STATUS_ROUTES] = { "asset", "status", "charger", "history",
                                                       "stream", "metrics", "other" };
    char site[160];
    status__family(t, "sitegate_info", "gauge", "The gateway's version and site (always 1).");
    status__put(t, "sitegate_info{version=\"%s\",site=\"%s\"} 1\n", SITEGATE_VERSION,
                status__esc(st->src.cfg->site.id, site, sizeof(site)));
    status__gauge(t, "sitegate_uptime_seconds", "Seconds since the gateway started.",
                  (double)(uv_now(st->loop) - st->started_ms) / 1000.0);
    status__family(t, "sitegate_status_requests_total", "counter", "Requests to the status listener, by route.");
    for (int r = 0; r < STATUS_ROUTES; r++)
        status__put(t, "sitegate_status_requests_total{route=\"%s\"} %llu\n", routes[r],
                    (unsigned long long)st->requests[r]);
    status__counter(t, "sitegate_status_unauthorized_total",
                    "Requests refused for a missing or wrong bearer token.", st->unauthorized);
    status__gauge(t, "sitegate_status_streams", "Live streams (/api/stream) open.", (double)st->n_streams);
    const struct reload *rl = st->src.reload;
    if (rl) {
        status__family(t, "sitegate_config_reloads_total", "counter",
                       "SIGHUP reloads: applied, refused (needs a restart) or invalid (old config kept).");
        status__put(t, "sitegate_config_reloads_total{result=\"applied\"} %llu\n",
                    (unsigned long long)rl->applied);
        status__put(t, "sitegate_config_reloads_total{result=\"refused\"} %llu\n",
                    (unsigned long long)rl->refused);
        status__put(t, "sitegate_config_reloads_total{result=\"invalid\"} %llu\n",
                    (unsigned long long)rl->invalid);
    }
}

char *status_metrics(const struct status *st, size_t *len)
{
    struct status_text t = { .p = malloc(16384), .cap = 16384 };
    if (!t.p)
        return NULL;
    status__self(&t, st);
    status__relay(&t, st);
    status__queue(&t, st);
    status__site(&t, st);
    status__per_charger(&t, st);
    status__meters(&t, st);
    status__dr(&t, st);
    if (t.failed) {
        free(t.p);
        *len = 0;
        return NULL;
    }
    *len = t.len;
    return t.p;
}
