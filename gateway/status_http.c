/* The status listener: a second lws vhost on the gateway's context, its
 * routes, the bearer token, and the live streams (Server-Sent Events).
 *
 * Every answer is built whole when the request arrives (or, for a stream,
 * once a second) and written in chunks from the WRITEABLE callback, so that
 * a slow client never holds the loop. */
#include "status_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "config.h"
#include "log.h"

#define STATUS__TICK_MS 1000
#define STATUS__CHUNK 16384
#define STATUS__PROTO "sitegate-status"

/* Per connection (lws zeroes it); a keep-alive connection reuses it for each
 * request. */
struct status_conn {
    struct lws *wsi;
    struct status_conn *next;    /* in st->streams */
    char *body;                  /* owned, or NULL */
    const unsigned char *data;   /* what is being sent: body or a compiled-in asset */
    size_t len, sent;
    bool stream;
    bool close_after;            /* not kept alive: a request whose body goes unread */
};

static struct status *status__of(struct lws *wsi)
{
    const struct lws_protocols *proto = lws_get_protocol(wsi);
    return proto ? proto->user : NULL;
}

static void status__conn_reset(struct status *st, struct status_conn *c)
{
    if (c->stream) {
        struct status_conn **pp = &st->streams;
        while (*pp && *pp != c)
            pp = &(*pp)->next;
        if (*pp) {
            *pp = c->next;
            st->n_streams--;
        }
    }
    free(c->body);
    memset(c, 0, sizeof(*c));
}

static int status__header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                          unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* Sends the headers and queues the body (owned is freed with it, or now on
 * failure); a stream stays open after it. */
static int status__respond(struct status *st, struct status_conn *c, struct lws *wsi,
                           unsigned code, const char *type, const void *data, size_t len,
                           char *owned, bool stream)
{
    unsigned char buf[LWS_PRE + 1024];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    if (lws_add_http_common_headers(wsi, code, type, stream ? LWS_ILLEGAL_HTTP_CONTENT_LEN : len,
                                    &p, end) ||
        status__header(wsi, "cache-control:", "no-store", &p, end) ||
        status__header(wsi, "x-content-type-options:", "nosniff", &p, end) ||
        status__header(wsi, "content-security-policy:",
                       "default-src 'self'; style-src 'self'; img-src 'self' data:", &p, end) ||
        (code == HTTP_STATUS_UNAUTHORIZED &&
         status__header(wsi, "www-authenticate:", "Bearer realm=\"sitegate\"", &p, end)) ||
        (code == HTTP_STATUS_METHOD_NOT_ALLOWED && status__header(wsi, "allow:", "GET", &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end)) {
        free(owned);
        return -1;
    }
    c->wsi = wsi;
    c->body = owned;
    c->data = data;
    c->len = len;
    c->sent = 0;
    if (stream) {
        /* Open for good: no pending timeout, and the header storage goes
         * back to the pool (what lws_http_mark_sse does, without its
         * complaint that HTTP/1 has no stream to mark immortal). */
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        lws_http_headers_detach(wsi);
        c->stream = true;
        c->next = st->streams;
        st->streams = c;
        st->n_streams++;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

static int status__text(struct status *st, struct status_conn *c, struct lws *wsi, unsigned code,
                        const char *text)
{
    return status__respond(st, c, wsi, code, "text/plain; charset=utf-8", text, strlen(text), NULL,
                           false);
}

static int status__owned(struct status *st, struct status_conn *c, struct lws *wsi,
                         const char *type, char *body, size_t len)
{
    if (!body)
        return status__text(st, c, wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
    return status__respond(st, c, wsi, HTTP_STATUS_OK, type, body, len, body, false);
}

/* "event: status" with the site's JSON, as one SSE event. */
static char *status__event(const struct status *st, size_t *len)
{
    size_t json_len;
    char *json = status_json_site(st, &json_len);
    if (!json)
        return NULL;
    static const char head[] = "event: status\ndata: ";
    size_t n = sizeof(head) - 1 + json_len + 2;
    char *ev = malloc(n + 1);
    if (ev) {
        memcpy(ev, head, sizeof(head) - 1);
        memcpy(ev + sizeof(head) - 1, json, json_len);
        memcpy(ev + n - 2, "\n\n", 3);
        *len = n;
    }
    free(json);
    return ev;
}

static bool status__authorized(struct status *st, struct lws *wsi)
{
    const char *token = st->src.cfg->status.token;
    if (!token)
        return true;
    char h[CONFIG_STATUS_TOKEN_MAX + 16];
    int n = lws_hdr_copy(wsi, h, sizeof(h), WSI_TOKEN_HTTP_AUTHORIZATION);
    size_t want = strlen(token);
    bool ok = n > 7 && strncasecmp(h, "Bearer ", 7) == 0 && (size_t)n - 7 == want &&
              CRYPTO_memcmp(h + 7, token, want) == 0;
    OPENSSL_cleanse(h, sizeof(h));
    if (!ok)
        st->unauthorized++;
    return ok;
}

static const struct status_asset *status__asset(const char *uri)
{
    if (strcmp(uri, "/") == 0)
        uri = "/index.html";
    for (size_t i = 0; i < status_n_assets; i++) {
        if (strcmp(status_assets[i].path, uri) == 0)
            return &status_assets[i];
    }
    return NULL;
}

static enum status_route status__route(const char *uri)
{
    if (status__asset(uri))
        return STATUS_R_ASSET;
    if (strcmp(uri, "/api/status") == 0)
        return STATUS_R_STATUS;
    if (strncmp(uri, "/api/chargers/", 14) == 0)
        return STATUS_R_CHARGER;
    if (strcmp(uri, "/api/history") == 0)
        return STATUS_R_HISTORY;
    if (strcmp(uri, "/api/stream") == 0)
        return STATUS_R_STREAM;
    if (strcmp(uri, "/metrics") == 0)
        return STATUS_R_METRICS;
    return STATUS_R_OTHER;
}

static int status__request(struct status *st, struct status_conn *c, struct lws *wsi,
                           const char *uri)
{
    status__conn_reset(st, c);
    enum status_route route = status__route(uri);
    st->requests[route]++;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        /* Nothing here takes a body: answer and close rather than read it. */
        int rc = status__text(st, c, wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "only GET\n");
        c->close_after = true;
        return rc;
    }
    if (route == STATUS_R_ASSET) {
        const struct status_asset *a = status__asset(uri);
        return status__respond(st, c, wsi, HTTP_STATUS_OK, a->type, a->data, a->len, NULL, false);
    }
    if (route == STATUS_R_OTHER)
        return status__text(st, c, wsi, HTTP_STATUS_NOT_FOUND, "not found\n");
    if (!status__authorized(st, wsi))
        return status__text(st, c, wsi, HTTP_STATUS_UNAUTHORIZED, "a bearer token is required\n");
    if (st->stopping)
        return status__text(st, c, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "stopping\n");

    size_t len = 0;
    char *body;
    switch (route) {
    case STATUS_R_STATUS:
        body = status_json_site(st, &len);
        return status__owned(st, c, wsi, "application/json", body, len);
    case STATUS_R_CHARGER: {
        int rc = status_json_charger(st, uri + 14, &body, &len);
        if (rc == -ENOENT)
            return status__text(st, c, wsi, HTTP_STATUS_NOT_FOUND, "no such charger\n");
        return status__owned(st, c, wsi, "application/json", body, len);
    }
    case STATUS_R_HISTORY:
        body = status_json_history(st, &len);
        return status__owned(st, c, wsi, "application/json", body, len);
    case STATUS_R_METRICS:
        body = status_metrics(st, &len);
        return status__owned(st, c, wsi, "text/plain; version=0.0.4; charset=utf-8", body, len);
    case STATUS_R_STREAM:
        if (st->n_streams >= (size_t)st->src.cfg->status.max_streams)
            return status__text(st, c, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
                                "too many streams (status.max_streams)\n");
        body = status__event(st, &len);
        if (!body)
            return status__text(st, c, wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
        return status__respond(st, c, wsi, HTTP_STATUS_OK, "text/event-stream", body, len, body, true);
    default:
        return status__text(st, c, wsi, HTTP_STATUS_NOT_FOUND, "not found\n");
    }
}

static int status__writeable(struct status *st, struct status_conn *c, struct lws *wsi)
{
    if (!c->data)
        return 0;
    unsigned char buf[LWS_PRE + STATUS__CHUNK];
    size_t n = c->len - c->sent < STATUS__CHUNK ? c->len - c->sent : STATUS__CHUNK;
    memcpy(buf + LWS_PRE, c->data + c->sent, n);
    c->sent += n;
    bool last = c->sent == c->len;
    if (lws_write(wsi, buf + LWS_PRE, n, last && !c->stream ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
        (int)n)
        return -1;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(c->body);
    c->body = NULL;
    c->data = NULL;
    if (c->stream)
        return 0; /* the next event comes with the next tick */
    if (c->close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int status__callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                            void *in, size_t len)
{
    struct status *st = status__of(wsi);
    struct status_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return st && c ? status__request(st, c, wsi, in) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return st && c ? status__writeable(st, c, wsi) : -1;
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return 0; /* a body is never read: its request is answered 405 and closed */
    case LWS_CALLBACK_CLOSED_HTTP:
        if (st && c)
            status__conn_reset(st, c);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static void status__tick(uv_timer_t *t)
{
    struct status *st = t->data;
    struct status_now now;
    status_now(st, &now);
    struct history_sample s = {
        .import_kw = (float)now.import_kw, .cap_kw = (float)now.cap_kw, .ev_kw = (float)now.ev_kw,
    };
    history_add(&st->history, uv_now(st->loop) / 1000, &s);
    if (!st->streams)
        return;
    size_t len;
    char *event = status__event(st, &len);
    if (!event)
        return;
    /* A client still busy with the last event skips this one. */
    for (struct status_conn *c = st->streams; c; c = c->next) {
        if (c->data)
            continue;
        char *copy = malloc(len);
        if (!copy)
            break;
        memcpy(copy, event, len);
        c->body = copy;
        c->data = (const unsigned char *)copy;
        c->len = len;
        c->sent = 0;
        lws_callback_on_writable(c->wsi);
    }
    free(event);
}

int status_start(struct status **out, uv_loop_t *loop, struct lws_context *ctx,
                 const struct status_sources *src)
{
    *out = NULL;
    const struct config_status *cs = &src->cfg->status;
    if (!cs->enabled)
        return 0;
    struct status *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->loop = loop;
    st->src = *src;
    st->started_ms = uv_now(loop);
    history_init(&st->history);
    const struct lws_protocols protos[] = {
        { STATUS__PROTO, status__callback, sizeof(struct status_conn), 0, 0, st, 0 },
        { NULL, NULL, 0, 0, 0, NULL, 0 },
    };
    memcpy(st->protocols, protos, sizeof(protos));

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.vhost_name = "status";
    const char *addr = cs->address;
    info.iface = (strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0) ? NULL : addr;
    info.port = cs->port;
    info.protocols = st->protocols;
    info.user = st;
    st->vhost = lws_create_vhost(ctx, &info);
    if (!st->vhost) {
        log_error("status", "cannot listen listen=%s", cs->listen);
        free(st);
        return -EADDRINUSE;
    }
    uv_timer_init(loop, &st->tick);
    st->tick.data = st;
    uv_timer_start(&st->tick, status__tick, 0, STATUS__TICK_MS);
    log_info("status", "listening listen=%s token=%s dashboard=http://%s/", cs->listen,
             cs->token ? "required" : "none", cs->listen);
    *out = st;
    return 0;
}

void status_stop(struct status *st)
{
    if (!st || st->stopping)
        return;
    st->stopping = true;
    uv_close((uv_handle_t *)&st->tick, NULL);
}

void status_free(struct status *st)
{
    if (!st)
        return;
    /* The context is gone: every connection was closed (CLOSED_HTTP). */
    free(st);
}
