/* Read-only views of the proxy for the status API and the metrics, and the
 * frame counters the relay feeds. Nothing here changes a session. */
#include "session.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const double proxy_rtt_bounds_s[PROXY_RTT_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, INFINITY,
};

/* The row of an action; past PROXY_ACTIONS_MAX - 1 distinct names (a charger
 * may send any), the last row, "other", takes them all. Linear: a site sees a
 * few dozen actions, and names are compared only until the first mismatch. */
static struct proxy_action_frames *proxy__action_row(struct proxy_traffic *t, const char *action)
{
    for (size_t i = 0; i < t->n_actions; i++) {
        if (strcmp(t->actions[i].action, action[0] ? action : "-") == 0)
            return &t->actions[i];
    }
    struct proxy_action_frames *other = &t->actions[PROXY_ACTIONS_MAX - 1];
    if (t->n_actions >= PROXY_ACTIONS_MAX - 1) {
        snprintf(other->action, sizeof(other->action), "other");
        return other;
    }
    struct proxy_action_frames *row = &t->actions[t->n_actions++];
    snprintf(row->action, sizeof(row->action), "%s", action[0] ? action : "-");
    return row;
}

void proxy__count_frame(struct proxy *p, enum proxy_dir from, const struct frame *f,
                        const struct pending_call *call, uint64_t now_ms)
{
    struct proxy_traffic *t = &p->traffic;
    enum proxy_frame_kind kind = f->type == FRAME_CALL     ? PROXY_CALL
                                 : f->type == FRAME_RESULT ? PROXY_RESULT
                                                           : PROXY_ERROR;
    proxy__action_row(t, call ? call->action : f->action)->n[from][kind]++;
    if (!call || from != PROXY_FROM_CSMS)
        return;
    double rtt_s = now_ms >= call->sent_ms ? (double)(now_ms - call->sent_ms) / 1000.0 : 0;
    size_t b = 0;
    while (rtt_s > proxy_rtt_bounds_s[b])
        b++;
    t->rtt_bucket[b]++;
    t->rtt_count++;
    t->rtt_sum_s += rtt_s;
}

static const char *proxy__upstream_name(enum upstream_state st)
{
    switch (st) {
    case UPSTREAM_CONNECTING: return "connecting";
    case UPSTREAM_OPEN:       return "open";
    case UPSTREAM_CLOSING:    return "closing";
    case UPSTREAM_BACKOFF:    return "backoff";
    default:                  return "idle";
    }
}

static void proxy__view(const struct session *s, const struct session *up,
                        struct proxy_charger_view *out)
{
    memset(out, 0, sizeof(*out));
    out->connected = s->down != NULL;
    out->ocpp = s->version == OCPP_201 ? "ocpp2.0.1" : "ocpp1.6";
    out->upstream = up ? proxy__upstream_name(up->up_state) : "idle";
    out->offline = up ? up->offline.active : false;
    out->backlog = s->offline.backlog;
    out->replaying = s->offline.replaying;
    const struct smart_state *m = &s->smart;
    out->profiles_known = m->phase == SMART_READY;
    out->profile = !out->profiles_known ? ""
                   : !m->how.smart      ? "none"
                   : m->how.charger_max ? "charge_point_max"
                                        : "tx_default";
    out->profiles_unanswered = m->unanswered;
    out->pending_to_csms = s->to_csms.n;
    out->pending_to_charger = s->to_charger.n;
}

/* Aggregate mode: the session of the site's own identity (site.id). */
static const struct session *proxy__site_session(const struct proxy *p)
{
    return p->agg ? proxy__find((struct proxy *)p, p->cfg->site.id) : NULL;
}

int proxy_charger_view(const struct proxy *p, const char *id, struct proxy_charger_view *out)
{
    const struct session *s = proxy__find((struct proxy *)p, id);
    if (!s) {
        memset(out, 0, sizeof(*out));
        return -ENOENT;
    }
    proxy__view(s, p->agg ? proxy__site_session(p) : s, out);
    return 0;
}

int proxy_site_view(const struct proxy *p, struct proxy_charger_view *out)
{
    const struct session *site = proxy__site_session(p);
    if (!site) {
        memset(out, 0, sizeof(*out));
        return -ENOENT;
    }
    proxy__view(site, site, out);
    return 0;
}

void proxy_get_totals(const struct proxy *p, struct proxy_totals *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < p->n_buckets; i++) {
        for (const struct session *s = p->buckets[i]; s; s = s->next) {
            out->sessions++;
            out->pending_to_csms += s->to_csms.n;
            out->pending_to_charger += s->to_charger.n;
            out->upstreams_open += s->up_state == UPSTREAM_OPEN;
            out->replaying += s->up_state == UPSTREAM_OPEN && s->offline.backlog;
        }
    }
}

void proxy_foreach_replaying(const struct proxy *p, void (*fn)(void *ctx, const char *identity),
                             void *ctx)
{
    for (size_t i = 0; i < p->n_buckets; i++) {
        for (const struct session *s = p->buckets[i]; s; s = s->next) {
            if (s->up_state == UPSTREAM_OPEN && s->offline.backlog)
                fn(ctx, s->id);
        }
    }
}

const struct proxy_traffic *proxy_get_traffic(const struct proxy *p)
{
    return &p->traffic;
}
