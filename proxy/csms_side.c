/* The CSMS's side: one client socket per charger (passthrough), opened when the
 * charger connects, reopened with exponential backoff and jitter while the
 * charger stays, closed when it leaves. Frames for the CSMS wait in the link's
 * queue while the socket is down. */
#include "session.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"

int csms_side_parse_url(const char *url, struct upstream_url *out)
{
    memset(out, 0, sizeof(*out));
    const char *rest;
    if (strncmp(url, "wss://", 6) == 0) {
        out->tls = true;
        out->port = 443;
        rest = url + 6;
    } else if (strncmp(url, "ws://", 5) == 0) {
        out->port = 80;
        rest = url + 5;
    } else {
        return -EINVAL;
    }
    const char *slash = strchr(rest, '/');
    size_t hostport_len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (hostport_len == 0 || hostport_len >= sizeof(out->host))
        return -EINVAL;
    char hostport[sizeof(out->host)];
    memcpy(hostport, rest, hostport_len);
    hostport[hostport_len] = '\0';

    char *port = NULL;
    if (hostport[0] == '[') { /* [IPv6]:port */
        char *close = strchr(hostport, ']');
        if (!close)
            return -EINVAL;
        *close = '\0';
        snprintf(out->host, sizeof(out->host), "%s", hostport + 1);
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return -EINVAL;
    } else {
        port = strchr(hostport, ':');
        if (port)
            *port++ = '\0';
        snprintf(out->host, sizeof(out->host), "%s", hostport);
    }
    if (port) {
        char *end;
        long n = strtol(port, &end, 10);
        if (*port == '\0' || *end || n < 1 || n > 65535)
            return -EINVAL;
        out->port = (int)n;
    }
    if (!out->host[0])
        return -EINVAL;
    memcpy(out->host_header, rest, hostport_len);
    out->host_header[hostport_len] = '\0';
    snprintf(out->path, sizeof(out->path), "%s", slash ? slash : "");
    size_t pl = strlen(out->path);
    if (pl && out->path[pl - 1] == '/')
        out->path[pl - 1] = '\0';
    return 0;
}

/* 1 to 1.5: good randomness is not needed, only chargers not retrying in
 * step after an outage (and never sooner than reconnect_min_s). */
static double csms__jitter(void)
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned)uv_hrtime() ^ (unsigned)getpid();
    return 1.0 + 0.5 * ((double)rand_r(&seed) / RAND_MAX);
}

static void csms__retry_cb(uv_timer_t *t)
{
    struct session *s = t->data;
    s->up_state = UPSTREAM_IDLE;
    csms_side_connect(s);
}

/* The socket is gone: try again later while it is wanted, else let go. */
static void csms__lost(struct session *s)
{
    struct proxy *p = s->proxy;
    if (!proxy__wants_upstream(s)) {
        s->up_state = UPSTREAM_IDLE;
        proxy__session_release(s);
        return;
    }
    const struct config *cfg = p->cfg;
    double delay = cfg->upstream.reconnect_min_s;
    for (unsigned i = 0; i < s->up_failures && delay < cfg->upstream.reconnect_max_s; i++)
        delay *= 2;
    delay *= csms__jitter();
    if (delay > cfg->upstream.reconnect_max_s)
        delay = cfg->upstream.reconnect_max_s;
    s->up_failures++;
    s->up_state = UPSTREAM_BACKOFF;
    /* The CSMS is unreachable now: what the charger sent while the first
     * connect was still under way is answered after offline.hold_s too. */
    if (cfg->offline.hold_s < cfg->upstream.call_timeout_s)
        pending_hurry_relayed(&s->to_csms, (uint64_t)cfg->offline.hold_s * 1000);
    log_info("proxy", "upstream retry charger=%s in_ms=%.0f attempt=%u", s->id, delay * 1000,
             s->up_failures);
    uv_timer_start(&s->retry, csms__retry_cb, (uint64_t)(delay * 1000), 0);
}

/* One second's worth of connects may go at once. */
static double csms__connect_burst(double rate)
{
    return rate < 1 ? 1 : rate;
}

void csms_side_pacing_init(struct proxy *p)
{
    uv_timer_init(p->loop, &p->pacer);
    p->pacer.data = p;
    rate_limit_init(&p->connects, csms__connect_burst(p->cfg->upstream.reconnect_rate_per_s),
                    uv_now(p->loop));
}

/* Whether a connect may start now: a token of the bucket, and nobody queued
 * before this session. */
static bool csms__connect_slot(struct proxy *p)
{
    double rate = p->cfg->upstream.reconnect_rate_per_s;
    return !p->pace_head && rate_limit_take(&p->connects, rate, csms__connect_burst(rate),
                                            uv_now(p->loop));
}

static void csms__start(struct session *s);

static void csms__pacer_cb(uv_timer_t *t)
{
    struct proxy *p = t->data;
    struct session *s = p->pace_head;
    if (!s)
        return;
    p->pace_head = s->pace_next;
    if (!p->pace_head)
        p->pace_tail = NULL;
    s->paced = false;
    s->up_state = UPSTREAM_IDLE;
    /* The pacer is the rate: this session's turn has come. */
    if (proxy__wants_upstream(s))
        csms__start(s);
    else
        proxy__session_release(s);
    if (p->pace_head)
        uv_timer_start(&p->pacer, csms__pacer_cb,
                       (uint64_t)(1000.0 / p->cfg->upstream.reconnect_rate_per_s) + 1, 0);
}

static void csms__pace(struct session *s)
{
    struct proxy *p = s->proxy;
    s->paced = true;
    s->pace_next = NULL;
    s->up_state = UPSTREAM_BACKOFF;
    if (p->pace_tail)
        p->pace_tail->pace_next = s;
    else
        p->pace_head = s;
    p->pace_tail = s;
    if (!uv_is_active((uv_handle_t *)&p->pacer))
        uv_timer_start(&p->pacer, csms__pacer_cb,
                       (uint64_t)(1000.0 / p->cfg->upstream.reconnect_rate_per_s) + 1, 0);
}

void csms_side_unpace(struct session *s)
{
    struct proxy *p = s->proxy;
    if (!s->paced)
        return;
    struct session **pp = &p->pace_head, *prev = NULL;
    while (*pp != s) {
        prev = *pp;
        pp = &(*pp)->pace_next;
    }
    *pp = s->pace_next;
    if (p->pace_tail == s)
        p->pace_tail = prev;
    s->paced = false;
    s->up_state = UPSTREAM_IDLE;
}

void csms_side_connect(struct session *s)
{
    struct proxy *p = s->proxy;
    if (!proxy__wants_upstream(s) || s->up_state != UPSTREAM_IDLE)
        return;
    if (csms__connect_slot(p))
        csms__start(s);
    else
        csms__pace(s);
}

static void csms__start(struct session *s)
{
    struct proxy *p = s->proxy;
    char path[sizeof(p->url.path) + CONFIG_ID_MAX + 2];
    snprintf(path, sizeof(path), "%s/%s", p->url.path, s->id);

    struct lws_client_connect_info i;
    memset(&i, 0, sizeof(i));
    i.context = p->ctx;
    i.vhost = proxy__upstream_vhost(p, s->cfg);
    i.address = p->url.host;
    i.port = p->url.port;
    i.path = path;
    i.host = p->url.host_header;
    i.origin = p->url.host_header;
    i.protocol = ocpp_version_subprotocol(s->version);
    i.local_protocol_name = PROXY_PROTO_CSMS;
    i.userdata = s;
    i.pwsi = &s->up_connecting;
    i.retry_and_idle_policy = &p->up_policy;
    if (p->url.tls) {
        i.ssl_connection = LCCSCF_USE_SSL;
        if (!p->cfg->upstream.tls_verify)
            i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    }
    s->up_state = UPSTREAM_CONNECTING;
    s->up_connect_ms = uv_now(p->loop);
    log_debug("proxy", "upstream connecting charger=%s url=%s%s", s->id, p->cfg->upstream.url,
              path + strlen(p->url.path));
    if (!lws_client_connect_via_info(&i) && s->up_state == UPSTREAM_CONNECTING) {
        /* Failed before lws could call us back. */
        s->up_connecting = NULL;
        log_warn("proxy", "upstream connect failed charger=%s reason=cannot start", s->id);
        csms__lost(s);
    }
}

void csms_side_close(struct session *s, uint16_t code)
{
    switch (s->up_state) {
    case UPSTREAM_OPEN:
        s->up_state = UPSTREAM_CLOSING;
        link_close(&s->up, code, true);
        break;
    case UPSTREAM_CONNECTING:
        if (s->up_connecting) {
            s->up_state = UPSTREAM_CLOSING;
            lws_set_timeout(s->up_connecting, PENDING_TIMEOUT_AWAITING_SERVER_RESPONSE, LWS_TO_KILL_ASYNC);
        }
        break;
    case UPSTREAM_BACKOFF:
        uv_timer_stop(&s->retry);
        csms_side_unpace(s);
        s->up_state = UPSTREAM_IDLE;
        break;
    default:
        break;
    }
}

void csms_side_drop(struct session *s)
{
    if (s->up.wsi)
        lws_set_timeout(s->up.wsi, PENDING_TIMEOUT_CLOSE_ACK, LWS_TO_KILL_ASYNC);
}

void csms_side_sweep(struct session *s, uint64_t now_ms)
{
    uint64_t limit_ms = (uint64_t)s->proxy->cfg->limits.handshake_timeout_s * 1000;
    if (s->up_state != UPSTREAM_CONNECTING || !s->up_connecting ||
        now_ms - s->up_connect_ms < limit_ms)
        return;
    log_warn("proxy", "upstream handshake timed out charger=%s limit_s=%d", s->id,
             s->proxy->cfg->limits.handshake_timeout_s);
    s->up_connect_ms = now_ms; /* once: the kill ends it (WSI_DESTROY) */
    lws_set_timeout(s->up_connecting, PENDING_TIMEOUT_AWAITING_SERVER_RESPONSE, LWS_TO_KILL_ASYNC);
    lws_cancel_service(s->proxy->ctx);
}

/* "Authorization: Basic base64(<id>:<password>)" (OCPP security profiles 1 and 2). */
static int csms__append_auth(struct lws *wsi, struct session *s, unsigned char **pos, size_t room)
{
    const char *password = s->cfg->upstream_password;
    if (!password)
        return 0;
    char cred[CONFIG_ID_MAX + 130], value[sizeof("Basic ") + 4 * sizeof(cred) / 3 + 4];
    int n = snprintf(cred, sizeof(cred), "%s:%s", s->id, password);
    int rc = -1;
    if (n > 0 && (size_t)n < sizeof(cred)) {
        memcpy(value, "Basic ", 6);
        int m = lws_b64_encode_string(cred, n, value + 6, (int)sizeof(value) - 6);
        if (m > 0)
            rc = lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                              (unsigned char *)value, 6 + m, pos, *pos + room);
    }
    OPENSSL_cleanse(cred, sizeof(cred));
    OPENSSL_cleanse(value, sizeof(value));
    return rc ? -1 : 0;
}

static void csms__established(struct lws *wsi, struct session *s)
{
    struct proxy *p = s->proxy;
    s->up_connecting = NULL;
    s->up_failures = 0;
    p->stats.upstreams_connected++;
    bool unwanted = s->up_state == UPSTREAM_CLOSING || !proxy__wants_upstream(s);
    s->up_state = UPSTREAM_OPEN;
    if (!unwanted)
        offline_upstream_opening(s);
    if (!unwanted && s->site)
        aggregate_upstream_opening(s); /* its BootNotification goes first */
    if (!unwanted)
        log_info("proxy", "upstream connected charger=%s held=%zu", s->id, s->up.queued);
    link_attach(&s->up, wsi);
    s->offline.active = false;
    if (unwanted)
        csms_side_close(s, LINK_CLOSE_GOING_AWAY);
    else
        offline_upstream_open(s);
}

static void csms__closed(struct lws *wsi, struct session *s)
{
    if (s->up.wsi != wsi)
        return;
    s->proxy->stats.upstreams_connected--;
    log_info("proxy", "upstream disconnected charger=%s", s->id);
    link_detach(&s->up);
    if (s->site)
        aggregate_upstream_closed(s);
    /* What was written to the dead socket is answered in the CSMS's place
     * (and kept for it) now, rather than when the charger gives up. */
    s->proxy->stats.expired_calls += pending_abandon(&s->to_csms);
    /* For CSMSs that want OCPP 2.0.1's local-controller rule: the charger
     * loses its connection with the gateway's. */
    if (s->proxy->cfg->offline.close_chargers && s->down && !s->proxy->draining) {
        log_info("proxy", "closing the charger with its upstream charger=%s", s->id);
        link_close(&s->down->link, LINK_CLOSE_GOING_AWAY, true);
    }
    csms__lost(s);
}

static void csms__receive(struct session *s, const void *in, size_t len)
{
    if (link_closing(&s->up))
        return;
    const char *msg;
    size_t msg_len;
    size_t max = s->proxy->cfg->limits.max_frame_bytes;
    int rc = link_on_receive(&s->up, in, len, max, &msg, &msg_len);
    if (rc < 0) {
        s->proxy->stats.oversized_frames++;
        log_warn("proxy", "frame from the CSMS too big, reconnecting charger=%s max=%zu", s->id, max);
        csms_side_close(s, LINK_CLOSE_TOO_BIG);
    } else if (rc == 1) {
        relay_from_csms(s, msg, msg_len);
    }
}

int csms_side_callback(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    struct session *s = user;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return -1; /* a client-only protocol: no charger may ask for it */
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return csms__append_auth(wsi, s, (unsigned char **)in, len);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (!s)
            return 0;
        log_warn("proxy", "upstream connect failed charger=%s reason=%s", s->id,
                 in ? (const char *)in : "unknown");
        lws_set_wsi_user(wsi, NULL); /* its WSI_DESTROY may come after the session is gone */
        s->up_connecting = NULL;
        csms__lost(s);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        csms__established(wsi, s);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        csms__receive(s, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return s->up.wsi == wsi ? link_on_writeable(&s->up) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        return s && link_closing(&s->up) ? -1 : 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (s)
            csms__closed(wsi, s);
        lws_set_wsi_user(wsi, NULL); /* likewise */
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        /* (relayed by charger_side_callback: lws tells protocol 0.) lws
         * frees some connects without a CONNECTION_ERROR (a TLS 1.3 CSMS
         * refusing the client certificate after the handshake, then our
         * handshake timeout): the session must not keep a pointer to it,
         * and tries again. */
        if (s && s->up_connecting == wsi) {
            log_warn("proxy", "upstream connect failed charger=%s reason=closed during the handshake",
                     s->id);
            s->up_connecting = NULL;
            csms__lost(s);
        }
        return 0;
    default:
        return 0;
    }
}
