/* The proxy as a whole: its listener, the session registry, the CALL timeout
 * sweep, and draining at shutdown. */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "charger_calls.h"
#include "log.h"

/* Fragments of a message arrive in pieces of this size; link.c reassembles
 * them. Small, because lws allocates it per socket. */
#define PROXY__RX_CHUNK 4096
#define PROXY__SWEEP_MS 1000
#define PROXY__DRAIN_DEADLINE_MS 3000
/* Sweeps between two looks for backlogs whose charger is not connected
 * (the first sweep looks too: a restart finds them at once). */
#define PROXY__ADOPT_EVERY 60

static uint32_t proxy__hash(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 16777619u;
    return h;
}

struct session *proxy__find(struct proxy *p, const char *id)
{
    struct session *s = p->buckets[proxy__hash(id) & (p->n_buckets - 1)];
    while (s && strcmp(s->id, id) != 0)
        s = s->next;
    return s;
}

static void proxy__grow(struct proxy *p)
{
    size_t n = p->n_buckets * 2;
    struct session **b = calloc(n, sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < p->n_buckets; i++) {
        struct session *s = p->buckets[i];
        while (s) {
            struct session *next = s->next;
            size_t k = proxy__hash(s->id) & (n - 1);
            s->next = b[k];
            b[k] = s;
            s = next;
        }
    }
    free(p->buckets);
    p->buckets = b;
    p->n_buckets = n;
}

void proxy__link_init(struct proxy *p, struct link *l, bool close_when_full)
{
    link_init(l, (size_t)p->cfg->limits.hold_frames);
    /* One frame of the largest size always fits. */
    size_t bound = p->cfg->limits.max_queued_bytes;
    if (bound < p->cfg->limits.max_frame_bytes)
        bound = p->cfg->limits.max_frame_bytes;
    link_limit_bytes(l, bound, close_when_full);
}

struct session *proxy__session_new(struct proxy *p, const char *id,
                                   const struct config_charger *cfg)
{
    struct session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->proxy = p;
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->cfg = cfg;
    proxy__link_init(p, &s->up, false);
    pending_init(&s->to_charger, (size_t)p->cfg->limits.max_pending_calls);
    pending_init(&s->to_csms, (size_t)p->cfg->limits.max_pending_calls);
    uv_timer_init(p->loop, &s->retry);
    uv_timer_init(p->loop, &s->offline.throttle);
    s->retry.data = s->offline.throttle.data = s;
    smart_reset(s);
    offline_session_new(s);

    if (p->n_sessions >= p->n_buckets)
        proxy__grow(p);
    size_t k = proxy__hash(id) & (p->n_buckets - 1);
    s->next = p->buckets[k];
    p->buckets[k] = s;
    p->n_sessions++;
    return s;
}

static void proxy__session_free(uv_handle_t *h)
{
    struct session *s = h->data;
    if (--s->closing_handles == 0)
        free(s);
}

static void proxy__drained(struct proxy *p);

bool proxy__wants_upstream(const struct session *s)
{
    if (s->proxy->draining)
        return false;
    if (s->proxy->agg)
        return s->site != NULL; /* chargers go up through the site's socket */
    return s->down || s->offline.backlog;
}

void proxy__session_release(struct session *s)
{
    if (s->down || s->up.wsi || s->up_connecting)
        return;
    if (proxy__wants_upstream(s)) {
        /* Its charger is gone but the CSMS still has to get its backlog. */
        if (s->up_state == UPSTREAM_IDLE)
            csms_side_connect(s);
        return;
    }
    struct proxy *p = s->proxy;
    struct session **pp = &p->buckets[proxy__hash(s->id) & (p->n_buckets - 1)];
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    p->n_sessions--;
    if (s->site)
        aggregate_site_released(s); /* the site's session ends only at shutdown */

    size_t lost = s->up.queued;
    if (lost) {
        p->stats.dropped_frames += lost;
        log_warn("proxy", "frames for the CSMS dropped charger=%s count=%zu reason=charger gone",
                 s->id, lost);
    }
    charger_calls_drop(s);
    link_reset(&s->up);
    csms_side_unpace(s);
    p->stats.expired_calls += pending_abandon(&s->to_charger) + pending_abandon(&s->to_csms);
    pending_free(&s->to_charger);
    pending_free(&s->to_csms);
    s->closing_handles = 2;
    uv_close((uv_handle_t *)&s->retry, proxy__session_free);
    uv_close((uv_handle_t *)&s->offline.throttle, proxy__session_free);

    if (p->draining && p->n_sessions == 0)
        proxy__drained(p);
}

static void proxy__sweep(uv_timer_t *t)
{
    struct proxy *p = t->data;
    uint64_t now = uv_now(p->loop);
    csms_limits_tick(p, time(NULL));
    if (p->sweeps++ % PROXY__ADOPT_EVERY == 0)
        offline_adopt_backlogs(p);
    for (size_t i = 0; i < p->n_buckets; i++) {
        for (struct session *s = p->buckets[i]; s; s = s->next) {
            /* On a one-CALL-at-a-time socket only the CALL out can be late:
             * the others are waiting their turn, not for the CSMS. */
            size_t n = s->up.one_call && s->up_state == UPSTREAM_OPEN
                           ? link_call_overdue(&s->up, (uint64_t)p->cfg->upstream.call_timeout_s * 1000)
                           : pending_expire(&s->to_csms, now);
            if (n)
                log_warn("proxy", "CSMS did not answer in time charger=%s calls=%zu", s->id, n);
            /* A CALL unanswered on an open socket: the link is dead whatever
             * TCP says. Drop it; the reconnect decides. */
            if (n && s->up_state == UPSTREAM_OPEN)
                csms_side_drop(s);
            offline_tick(s);
            size_t m = pending_expire(&s->to_charger, now);
            if (m)
                log_warn("proxy", "charger did not answer in time charger=%s calls=%zu", s->id, m);
            p->stats.expired_calls += n + m;
            if (m)
                charger_calls_pump(s);
            smart_renew_leases(s, now);
            csms_side_sweep(s, now);
            charger_limits_idle(s, now);
        }
    }
    charger_limits_sweep(p, now);
}

static void proxy__policy(lws_retry_bo_t *policy, int ping_interval_s)
{
    memset(policy, 0, sizeof(*policy));
    /* lws pings a socket idle for this long and hangs up when nothing at all
     * (not even the pong) has arrived by twice that. 0 turns both off. */
    policy->secs_since_valid_ping = (uint16_t)ping_interval_s;
    policy->secs_since_valid_hangup = (uint16_t)(2 * ping_interval_s);
}

int proxy_create(struct proxy **out, uv_loop_t *loop, struct lws_context *ctx,
                 const struct config *cfg)
{
    struct proxy *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->loop = loop;
    p->ctx = ctx;
    p->cfg = cfg;
    p->n_buckets = 64;
    p->buckets = calloc(p->n_buckets, sizeof(*p->buckets));
    if (!p->buckets) {
        free(p);
        return -ENOMEM;
    }
    int rc = csms_side_parse_url(cfg->upstream.url, &p->url);
    if (rc < 0) {
        log_error("proxy", "cannot use upstream.url");
        free(p->buckets);
        free(p);
        return rc;
    }
    proxy__policy(&p->down_policy, cfg->listen.ping_interval_s);
    proxy__policy(&p->up_policy, cfg->upstream.ping_interval_s);

    /* lws would cut what we send into rx_buffer_size pieces unless told the
     * largest frame we send (docs/platform.md). */
    size_t tx = cfg->limits.max_frame_bytes;
    const struct lws_protocols protos[] = {
        /* First: a WebSocket request without a subprotocol lands here. */
        { PROXY_PROTO_HTTP, charger_side_callback, sizeof(struct charger_conn), 0, 0, p, 0 },
        { "ocpp1.6", charger_side_callback, sizeof(struct charger_conn), PROXY__RX_CHUNK, 0, p, tx },
        { "ocpp2.0.1", charger_side_callback, sizeof(struct charger_conn), PROXY__RX_CHUNK, 0, p, tx },
        { PROXY_PROTO_CSMS, csms_side_callback, 0, PROXY__RX_CHUNK, 0, p, tx },
        { NULL, NULL, 0, 0, 0, NULL, 0 }
    };
    memcpy(p->protocols, protos, sizeof(protos));

    rc = conn_guard_init(&p->guard, (unsigned)cfg->limits.max_connections,
                         (unsigned)cfg->limits.max_connections_per_address,
                         (unsigned)cfg->limits.handshake_timeout_s);
    if (!rc && (rc = proxy__vhosts_create(p)) < 0)
        conn_guard_free(&p->guard, NULL);
    if (rc < 0) {
        /* lws frees the vhosts made so far with the context. */
        proxy__vhosts_free(p);
        free(p->buckets);
        free(p);
        return rc;
    }
    uv_timer_init(loop, &p->sweep);
    p->sweep.data = p;
    uv_timer_start(&p->sweep, proxy__sweep, PROXY__SWEEP_MS, PROXY__SWEEP_MS);
    uv_timer_init(loop, &p->drain_deadline);
    p->drain_deadline.data = p;
    csms_side_pacing_init(p);
    log_info("proxy", "listening address=%s port=%d tls_port=%d path=%s upstream=%s mode=%s",
             cfg->listen.address, cfg->listen.plain ? cfg->listen.port : 0,
             cfg->listen.tls.enabled ? cfg->listen.tls.port : 0, cfg->listen.path, cfg->upstream.url,
             cfg->upstream.mode == CONFIG_MODE_AGGREGATE ? "aggregate" : "passthrough");
    *out = p;
    return 0;
}

static void proxy__drain_done(uv_timer_t *t)
{
    struct proxy *p = t->data;
    if (p->n_sessions)
        log_warn("proxy", "drain deadline passed sessions=%zu", p->n_sessions);
    void (*done)(void *) = p->drained;
    p->drained = NULL;
    if (done)
        done(p->drained_arg);
}

/* The last session may go inside an lws callback, where the context must not
 * be destroyed: report from a timer instead. */
static void proxy__drained(struct proxy *p)
{
    uv_timer_start(&p->drain_deadline, proxy__drain_done, 0, 0);
}

void proxy_drain(struct proxy *p, void (*done)(void *arg), void *arg)
{
    p->draining = true;
    p->drained = done;
    p->drained_arg = arg;
    uv_timer_stop(&p->sweep);
    log_info("proxy", "closing sessions=%zu", p->n_sessions);
    if (p->n_sessions == 0) {
        proxy__drained(p);
        return;
    }
    uv_timer_start(&p->drain_deadline, proxy__drain_done, PROXY__DRAIN_DEADLINE_MS, 0);
    for (size_t i = 0; i < p->n_buckets; i++) {
        struct session *next;
        for (struct session *s = p->buckets[i]; s; s = next) {
            next = s->next;
            if (s->down)
                link_close(&s->down->link, LINK_CLOSE_GOING_AWAY, true);
            csms_side_close(s, LINK_CLOSE_GOING_AWAY);
            /* One with no socket left (its upstream was waiting to retry: the
             * site's, or a backlog's) has nothing to wait for. */
            proxy__session_release(s);
        }
    }
}

static void proxy__handle_closed(uv_handle_t *h)
{
    struct proxy *p = h->data;
    if (--p->open_handles == 0) {
        csms_limits_free(&p->csms_limits);
        free(p->buckets);
        free(p);
    }
}

void proxy_destroy(struct proxy *p)
{
    /* Sessions are gone: lws_context_destroy closed their sockets. lws frees
     * some of them later, from the loop: they no longer count anywhere. */
    conn_guard_free(&p->guard, charger_limits_forget);
    proxy__vhosts_free(p);
    aggregate_free(p);
    p->open_handles = 3;
    uv_close((uv_handle_t *)&p->pacer, proxy__handle_closed);
    uv_close((uv_handle_t *)&p->sweep, proxy__handle_closed);
    uv_close((uv_handle_t *)&p->drain_deadline, proxy__handle_closed);
}

int proxy_set_store(struct proxy *p, struct store *store)
{
    p->store = store;
    if (p->cfg->upstream.mode != CONFIG_MODE_AGGREGATE)
        return 0;
    int rc = aggregate_start(p);
    if (rc < 0)
        log_error("proxy", "cannot start aggregate mode: %s", strerror(-rc));
    return rc;
}

const struct proxy_stats *proxy_get_stats(const struct proxy *p)
{
    return &p->stats;
}
