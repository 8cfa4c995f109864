/* ref_relay: the barest WebSocket relay libwebsockets on libuv allows, the
 * yardstick the gateway's relay is measured against (scale.py).
 *
 * Like the gateway in passthrough mode, one upstream socket per charger: a
 * charger connecting to ws://127.0.0.1:<port>/<anything>/<id> with
 * subprotocol ocpp1.6 or ocpp2.0.1 gets a client socket to <upstream>/<id>
 * with the same subprotocol, and every message is forwarded whole, both
 * ways, unparsed and unchanged (bench_wsq.c: written at once when nothing
 * waits, else queued, at most 1 MiB per socket; what the charger sends
 * before the upstream socket is up waits in the same queue). No OCPP, no
 * checks, no retries: when either socket goes, the other is dropped.
 *
 *   ref_relay --upstream ws://HOST:PORT/PATH [--port N]
 *
 * The first stdout line is "port=<N>" (--port 0, the default, picks a free
 * one). SIGINT/SIGTERM: exit 0, after a line with the messages relayed each
 * way. Exit 2: bad arguments or cannot listen.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <uv.h>

#include "bench_lws.h"
#include "bench_wsq.h"

#define RR_RX_CHUNK 4096      /* as the gateway's */
#define RR_ID_MAX 64
#define RR_PROTO_UP "ref-relay-up"

/* A charger and its upstream socket. Freed when both are gone. */
struct rr_pair {
    struct lws *down, *up;       /* NULL: gone (or, up, not yet there) */
    bool down_open;              /* the charger's handshake is over */
    bool up_wanted;              /* the upstream connect is under way */
    struct bwsq dq, uq;          /* toward the charger, toward upstream */
    char id[RR_ID_MAX + 1];
};

/* lws's per-socket data of a charger socket (zeroed, also when refused). */
struct rr_down {
    struct rr_pair *pair;
};

static struct {
    struct blws io;
    struct lws_vhost *vh;
    uv_timer_t stopper;
    struct blws_url up;
    uint64_t from_chargers, from_upstream, pairs;
    bool stopping;
} rr;

static void rr__release(struct rr_pair *p)
{
    if (p->down || p->up || p->up_wanted)
        return;
    bwsq_free(&p->dq);
    bwsq_free(&p->uq);
    free(p);
}

/* ---- the upstream side ---- */

static int rr__connect_up(struct rr_pair *p, const char *subprotocol)
{
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof(i));
    i.context = rr.io.ctx;
    i.vhost = rr.vh;
    i.protocol = subprotocol;
    i.local_protocol_name = RR_PROTO_UP;
    i.userdata = p;
    p->up_wanted = true;
    if (blws_connect(&rr.up, p->id, &i))
        return 0;
    p->up_wanted = false;
    return -1;
}

static int rr__up_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    struct rr_pair *p = user;
    const char *msg;
    size_t n;
    int rc;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        p->up = wsi;
        p->up_wanted = false;
        return bwsq_writeable(&p->uq, wsi); /* what the charger sent meanwhile */
    case LWS_CALLBACK_CLIENT_RECEIVE:
        rc = bwsq_receive(&p->uq, wsi, in, len, &msg, &n);
        if (rc != 1)
            return rc; /* 0: pieces still due */
        rr.from_upstream++;
        if (bwsq_send(&p->dq, p->down_open ? p->down : NULL, msg, n) < 0)
            blws_drop(p->down);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return bwsq_writeable(&p->uq, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!p)
            return 0;
        if (!rr.stopping && reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR)
            fprintf(stderr, "ref_relay: upstream connect failed charger=%s: %s\n", p->id,
                    in ? (const char *)in : "?");
        p->up = NULL;
        p->up_wanted = false;
        blws_drop(p->down);
        rr__release(p);
        return 0;
    default:
        return 0;
    }
}

/* ---- the chargers' side ---- */

/* The charger's id (the last path segment) and its upstream socket. */
static int rr__bind(struct lws *wsi, struct rr_down *d)
{
    char uri[256];
    const char *id = blws_charger_id(wsi, uri, sizeof(uri));
    if (!id || !*id || strlen(id) > RR_ID_MAX)
        return -1;
    struct rr_pair *p = calloc(1, sizeof(*p));
    if (!p)
        return -1;
    snprintf(p->id, sizeof(p->id), "%s", id);
    p->down = wsi;
    if (rr__connect_up(p, lws_get_protocol(wsi)->name) < 0) {
        fprintf(stderr, "ref_relay: cannot start the upstream connect charger=%s\n", p->id);
        free(p);
        return -1;
    }
    d->pair = p;
    rr.pairs++;
    return 0;
}

static int rr__down_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                             void *in, size_t len)
{
    /* Only for the reasons below is user a charger socket's data: lws also
     * calls the first protocol for other sockets' events (WSI_DESTROY of an
     * upstream socket, whose user is its pair). */
    struct rr_down *d = user;
    struct rr_pair *p;
    const char *msg;
    size_t n;
    int rc;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return rr__bind(wsi, d);
    case LWS_CALLBACK_ESTABLISHED:
        if (!(p = d->pair))
            return -1;
        p->down_open = true;
        return bwsq_writeable(&p->dq, wsi); /* anything that came first */
    case LWS_CALLBACK_RECEIVE:
        if (!(p = d->pair))
            return -1;
        rc = bwsq_receive(&p->dq, wsi, in, len, &msg, &n);
        if (rc != 1)
            return rc; /* 0: pieces still due */
        rr.from_chargers++;
        return bwsq_send(&p->uq, p->up, msg, n) < 0 ? -1 : 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return d->pair ? bwsq_writeable(&d->pair->dq, wsi) : 0;
    case LWS_CALLBACK_CLOSED:
        if (d && (p = d->pair)) {
            d->pair = NULL;
            p->down = NULL;
            p->down_open = false;
            blws_drop(p->up);
            rr__release(p);
        }
        return 0;
    default:
        return 0;
    }
}

static struct lws_protocols rr_protocols[] = {
    /* First: a WebSocket request without a subprotocol lands here (refused). */
    { "ref-relay-http", rr__down_callback, sizeof(struct rr_down), 0, 0, NULL, 0 },
    { "ocpp1.6", rr__down_callback, sizeof(struct rr_down), RR_RX_CHUNK, 0, NULL, BWSQ_FRAME_MAX },
    { "ocpp2.0.1", rr__down_callback, sizeof(struct rr_down), RR_RX_CHUNK, 0, NULL, BWSQ_FRAME_MAX },
    { RR_PROTO_UP, rr__up_callback, 0, RR_RX_CHUNK, 0, NULL, BWSQ_FRAME_MAX },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- the process ---- */

static void rr__stop_now(uv_timer_t *t)
{
    (void)t;
    fprintf(stderr, "ref_relay: chargers=%" PRIu64 " from_chargers=%" PRIu64
            " from_upstream=%" PRIu64 "\n", rr.pairs, rr.from_chargers, rr.from_upstream);
    blws_stop(&rr.io);
    uv_close((uv_handle_t *)&rr.stopper, NULL);
}

/* Never destroy the context inside a callback: from a timer (docs/platform.md). */
static void rr__on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    if (rr.stopping)
        return;
    rr.stopping = true;
    uv_timer_start(&rr.stopper, rr__stop_now, 0, 0);
}

static int rr__args(int argc, char **argv, int *port)
{
    static const struct option opts[] = {
        { "upstream", required_argument, NULL, 'u' },
        { "port", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    bool upstream = false;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            if (blws_parse_url(optarg, &rr.up) < 0)
                return -1;
            upstream = true;
            break;
        case 'p':
            if (blws_parse_port(optarg, port) < 0)
                return -1;
            break;
        default:
            return -1;
        }
    }
    return upstream && optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    int port = 0, rc = 0;
    if (rr__args(argc, argv, &port) < 0) {
        fprintf(stderr, "usage: ref_relay --upstream ws://HOST:PORT/PATH [--port N]\n");
        return 2;
    }
    if (blws_init(&rr.io, "ref_relay") < 0)
        return 2;
    uv_timer_init(&rr.io.loop, &rr.stopper);
    rr.vh = blws_listen(&rr.io, "ref-relay", port, rr_protocols);
    if (!rr.vh) {
        rc = 2;
        blws_stop(&rr.io);
        uv_close((uv_handle_t *)&rr.stopper, NULL);
    } else {
        blws_catch_signals(&rr.io, rr__on_signal);
    }
    blws_run(&rr.io);
    return rc;
}
