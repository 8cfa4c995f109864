/* The limits on chargers' sockets: how many (in all, per source address),
 * how long a handshake may take, how many frames a second a charger may
 * send, and how long it may stay silent. A hostile peer costs a bounded
 * share of the gateway and never holds up the others. */
#include "session.h"

#include <string.h>

#include "log.h"

/* Frames beyond the rate are answered; this many more in a row and the
 * charger is closed: it is not a charger that lost count, it is a flood. */
#define CHARGER_LIMITS__BURST_MIN 10.0

static double charger_limits__burst(const struct config *cfg)
{
    double b = 2 * cfg->limits.charger_frames_per_s;
    return b < CHARGER_LIMITS__BURST_MIN ? CHARGER_LIMITS__BURST_MIN : b;
}

int charger_limits_admit(struct proxy *p, struct lws *wsi)
{
    char address[64];
    if (!lws_get_peer_simple(wsi, address, sizeof(address)))
        snprintf(address, sizeof(address), "unknown");
    /* The listener is dual-stack: an IPv4 peer shows as ::ffff:a.b.c.d. */
    if (strncmp(address, "::ffff:", 7) == 0 && strchr(address + 7, '.'))
        memmove(address, address + 7, strlen(address + 7) + 1);
    struct conn_guard_conn *c;
    enum conn_guard_refusal why = conn_guard_admit(&p->guard, address, wsi, uv_now(p->loop), &c);
    if (why == CONN_GUARD_OK) {
        lws_set_opaque_user_data(wsi, c);
        return 0;
    }
    p->stats.refused_connections++;
    /* One line for the first refusal, then a count per sweep: a flood of
     * connections must not become a flood of log lines. */
    if (p->guard.refused_unlogged++ == 0)
        log_warn("proxy", "connection refused address=%s reason=%s connections=%u", address,
                 why == CONN_GUARD_TOO_MANY ? "limits.max_connections"
                                            : "limits.max_connections_per_address",
                 conn_guard_count(&p->guard, why == CONN_GUARD_TOO_MANY ? NULL : address));
    return -1;
}

void charger_limits_established(struct proxy *p, struct lws *wsi, struct charger_conn *c)
{
    struct conn_guard_conn *gc = lws_get_opaque_user_data(wsi);
    if (gc)
        conn_guard_established(gc);
    uint64_t now = uv_now(p->loop);
    rate_limit_init(&c->rate, charger_limits__burst(p->cfg), now);
    c->last_rx_ms = now;
}

void charger_limits_release(struct lws *wsi)
{
    /* Not the proxy's pointer from the protocol: at shutdown lws frees
     * sockets after the proxy is gone, and then the record is gone too. */
    struct conn_guard_conn *gc = lws_get_opaque_user_data(wsi);
    if (gc) {
        lws_set_opaque_user_data(wsi, NULL);
        conn_guard_release(gc->guard, gc);
    }
}

void charger_limits_forget(void *wsi)
{
    lws_set_opaque_user_data(wsi, NULL);
}

bool charger_limits_frame(struct session *s, struct charger_conn *c, const char *msg, size_t len)
{
    struct proxy *p = s->proxy;
    const struct config *cfg = p->cfg;
    uint64_t now = uv_now(p->loop);
    c->last_rx_ms = now;
    double rate = cfg->limits.charger_frames_per_s;
    if (rate <= 0 || rate_limit_take(&c->rate, rate, charger_limits__burst(cfg), now))
        return true;
    p->stats.rate_limited_frames++;
    if (c->rate.refused_in_row == 1)
        log_warn("proxy", "frame rate exceeded charger=%s limit_per_s=%.15g", s->id, rate);
    if (c->rate.refused_in_row > charger_limits__burst(cfg)) {
        log_warn("proxy", "closing charger reason=frame rate charger=%s refused=%u", s->id,
                 c->rate.refused_in_row);
        link_close(&c->link, LINK_CLOSE_POLICY, false);
        return false;
    }
    struct frame f;
    if (frame_parse(msg, len, &f) == FRAME_OK && f.type == FRAME_CALL)
        relay_send_error(s, SESSION_DOWN, f.id, "GenericError", "rate limit exceeded");
    return false;
}

static void charger_limits__expired(void *ctx, void *wsi)
{
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, LWS_TO_KILL_ASYNC);
}

void charger_limits_sweep(struct proxy *p, uint64_t now_ms)
{
    size_t n = conn_guard_sweep(&p->guard, now_ms, charger_limits__expired, p);
    if (n) {
        /* Timeouts set outside lws's own service wait for its next wake-up. */
        lws_cancel_service(p->ctx);
        p->stats.handshake_timeouts += n;
        log_warn("proxy", "handshakes timed out count=%zu limit_s=%d", n,
                 p->cfg->limits.handshake_timeout_s);
    }
    if (p->guard.refused_unlogged > 1)
        log_warn("proxy", "connections refused count=%u reason=limits", p->guard.refused_unlogged - 1);
    p->guard.refused_unlogged = 0;
}

void charger_limits_idle(struct session *s, uint64_t now_ms)
{
    struct proxy *p = s->proxy;
    uint64_t idle_ms = (uint64_t)p->cfg->limits.idle_timeout_s * 1000;
    struct charger_conn *c = s->down;
    if (!idle_ms || !c || link_closing(&c->link) || now_ms - c->last_rx_ms < idle_ms)
        return;
    p->stats.idle_closed++;
    log_info("proxy", "closing charger reason=idle charger=%s idle_s=%d", s->id,
             p->cfg->limits.idle_timeout_s);
    link_close(&c->link, LINK_CLOSE_NORMAL, true);
}
