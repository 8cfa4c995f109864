/* fast_csms: a test CSMS for benchmarks, as fast as this stack allows.
 *
 * A libwebsockets server on a libuv loop. Any charge point id connects at
 * ws://127.0.0.1:<port>/<anything>/<id> (the last path segment is the id)
 * with subprotocol ocpp1.6 or ocpp2.0.1. Every CALL is answered at once with
 * a minimal schema-valid CALLRESULT for its action (BootNotification
 * Accepted, StartTransaction with an increasing transactionId, DataTransfer
 * Accepted, ...; an action it does not know gets {}), written to the socket
 * at once when nothing is queued for it. Per frame: one envelope parse
 * (proxy/frame.c) and no allocation; a frame arriving in pieces is put
 * together in a per-connection buffer of at most 64 KiB, and answers wait
 * for a choked socket in one of at most 1 MiB (beyond, the charger is hung
 * up on): bench_wsq.c.
 *
 *   fast_csms [--port N] [--expect N] [--timeout S] [--order-field NAME]
 *             [--call-rate R]
 *
 *   --port N          listen on 127.0.0.1:N; 0 (default) picks a free port.
 *                     Either way the first stdout line is "port=<N>".
 *   --expect N        exit 0 once N CALLs (all chargers together) have been
 *                     received and answered.
 *   --timeout S       exit 1 after S seconds if --expect was not reached
 *                     (without --expect: exit 0 after S seconds).
 *   --order-field F   the order check (default "timestamp"; "" turns it off):
 *                     for each charger, the first "F": value in each CALL's
 *                     payload (a string compared bytewise, or a number) must
 *                     not be smaller than the one before it from that charger;
 *                     each that is counts as out of order. CALLs without F are
 *                     not checked. RFC 3339 UTC timestamps in one format
 *                     compare correctly as strings.
 *   --call-rate R     the CSMS's own CALLs too: R per second in all, to the
 *                     chargers that have booted in turn, one in flight per
 *                     charger, each round trip timed (fast_csms_calls.c).
 *
 * SIGUSR1 prints a one-line JSON snapshot ({"event":"snapshot", CALLs,
 * connections and BootNotifications so far, cpu_s, csms_calls with the round
 * trips since the last snapshot}) and starts the round-trip statistics
 * afresh: a benchmark brackets its measuring window with two.
 *
 * On exit (also on SIGINT/SIGTERM, then with status 0; answers still
 * waiting get up to 2 s to be written first) the last stdout line is a JSON
 * summary: count, expected, reached, first_ms/last_ms (wall clock ms of the
 * first and last CALL), elapsed_s (between them), rate_per_s, max_gap_ms
 * (the longest wait between two CALLs: a stall somewhere), cpu_s (this
 * process's user + system time: is the CSMS the bottleneck?), connections,
 * actions {name: CALLs}, identities {charge point id: CALLs}, order_field,
 * out_of_order, bad_frames, csms_calls. Exit 2: bad arguments or cannot
 * listen.
 *
 * The sockets and the process are here; what each CALL gets and the
 * summary's numbers are in fast_csms_ocpp.c, the CSMS's own CALLs in
 * fast_csms_calls.c.
 *
 * A benchmark tool, not a test: it checks no schema and keeps no history.
 */
#include "fast_csms.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <uv.h>

#include "bench_lws.h"
#include "bench_wsq.h"

#define FC_RX_CHUNK 4096            /* what lws hands over per receive callback */
#define FC_DRAIN_MS 2000            /* at exit, most time for answers still waiting */

/* What lws keeps per socket (zeroed, also for a refused handshake). */
struct fc_conn {
    bool open;
    struct lws *wsi;
    size_t ident;                /* fcsms_identity() */
    enum ocpp_version version;
    struct bwsq q;               /* reassembly and answers waiting (q.busy) */
    long call_slot;              /* fcsms_calls_add() + 1; 0: gets no CSMS CALLs */
};

static struct {
    struct blws io;
    uv_timer_t deadline, stopper;
    uv_signal_t sigusr1;
    uint64_t expect;
    double timeout_s;
    double call_rate;
    uint64_t connections;
    size_t busy;                   /* connections with answers waiting */
    uint64_t drain_until;          /* uv_now() limit of the drain at exit */
    bool stopping, reached;
    int exit_code;
} fc;

/* ---- stopping ---- */

/* The first half of the teardown (bench_lws.h). */
static void fc__close_handles(void)
{
    blws_stop(&fc.io);
    fcsms_calls_stop();
    uv_close((uv_handle_t *)&fc.deadline, NULL);
    uv_close((uv_handle_t *)&fc.stopper, NULL);
    uv_close((uv_handle_t *)&fc.sigusr1, NULL);
}

/* Once the answers still waiting are written (FC_DRAIN_MS at most), the
 * teardown; from a timer, never from inside an lws callback. */
static void fc__stop_now(uv_timer_t *t)
{
    if (fc.busy && uv_now(&fc.io.loop) < fc.drain_until) {
        uv_timer_start(t, fc__stop_now, 10, 0);
        return;
    }
    if (fc.busy)
        fprintf(stderr, "fast_csms: answers still waiting on %zu sockets at exit\n", fc.busy);
    fcsms_print_summary(fc.expect, fc.reached, fc.connections);
    fc__close_handles();
}

static void fc__stop(int exit_code)
{
    if (fc.stopping)
        return;
    fc.stopping = true;
    fc.exit_code = exit_code;
    fc.drain_until = uv_now(&fc.io.loop) + FC_DRAIN_MS;
    uv_timer_start(&fc.stopper, fc__stop_now, 0, 0);
}

static void fc__on_deadline(uv_timer_t *t)
{
    (void)t;
    if (fc.expect)
        fprintf(stderr, "fast_csms: timeout after %.1f s: %" PRIu64 " of %" PRIu64 " CALLs\n",
                fc.timeout_s, fcsms_count(), fc.expect);
    fc__stop(fc.expect ? 1 : 0);
}

static void fc__on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    if (signum == SIGUSR1)
        fcsms_print_snapshot(fc.connections);
    else
        fc__stop(0);
}

/* ---- sending ---- */

/* Counts the sockets with something waiting, as one starts or stops. */
static void fc__count_busy(bool was, bool now)
{
    if (now && !was)
        fc.busy++;
    else if (was && !now)
        fc.busy--;
}

/* Sends at once when nothing waits, else queues (bench_wsq.c); keeps count of
 * the sockets with something waiting, for the drain at exit. -1: close the
 * socket. */
static int fc__send(struct fc_conn *c, const char *msg, size_t len)
{
    bool was = c->q.busy;
    int rc = bwsq_send(&c->q, c->wsi, msg, len);
    if (rc < 0)
        fprintf(stderr, "fast_csms: cannot send charger=%s (a write failed, or over %d bytes "
                "waiting), closing\n", fcsms_identity_name(c->ident), BWSQ_OUT_MAX);
    fc__count_busy(was, c->q.busy);
    return rc;
}

static int fc__on_writeable(struct fc_conn *c)
{
    bool was = c->q.busy;
    int rc = bwsq_writeable(&c->q, c->wsi);
    fc__count_busy(was, c->q.busy);
    return rc;
}

/* fcsms_calls' way to send on a connection. */
static int fc__send_call(void *conn, const char *msg, size_t len)
{
    struct fc_conn *c = conn;
    if (fc__send(c, msg, len) == 0)
        return 0;
    blws_drop(c->wsi);
    return -1;
}

/* ---- receiving ---- */

/* One whole message from a charger. -1: close the socket. */
static int fc__message(struct fc_conn *c, const char *msg, size_t len)
{
    struct frame f;
    char answer[FCSMS_ANSWER_MAX];
    int n;
    enum frame_fault fault = frame_parse(msg, len, &f);
    if (fault != FRAME_OK) {
        fcsms_bad_frame();
        const char *id = frame_fault_reply_id(fault, &f, c->version);
        if (!id)
            return 0;
        n = frame_write_error(answer, sizeof(answer), id, frame_fault_code(fault, &f, c->version),
                              frame_fault_str(fault));
        return n > 0 ? fc__send(c, answer, (size_t)n) : 0;
    }
    if (f.type != FRAME_CALL) {
        if (c->call_slot)
            fcsms_calls_answer((size_t)c->call_slot - 1, &f);
        return 0;
    }
    n = fcsms_answer(c->ident, c->version, &f, answer, sizeof(answer));
    if (n < 0 || fc__send(c, answer, (size_t)n) < 0)
        return -1;
    /* Booted: from now on it gets the CSMS's own CALLs too. */
    if (fc.call_rate > 0 && !c->call_slot && strcmp(f.action, "BootNotification") == 0) {
        long slot = fcsms_calls_add(c, c->version);
        c->call_slot = slot >= 0 ? slot + 1 : 0;
    }
    if (fc.expect && fcsms_count() == fc.expect) {
        fc.reached = true;
        fc__stop(0);
    }
    return 0;
}

/* A piece of a message: whole ones are handled in place, pieces are put
 * together first. */
static int fc__receive(struct fc_conn *c, const char *in, size_t len)
{
    const char *msg;
    size_t msg_len;
    int rc = bwsq_receive(&c->q, c->wsi, in, len, &msg, &msg_len);
    if (rc < 0)
        fprintf(stderr, "fast_csms: frame over %d bytes charger=%s, closing\n", BWSQ_FRAME_MAX,
                fcsms_identity_name(c->ident));
    return rc == 1 ? fc__message(c, msg, msg_len) : rc;
}

/* The charge point id: the last segment of the request path. */
static int fc__bind(struct lws *wsi, struct fc_conn *c)
{
    char uri[256];
    const char *id = blws_charger_id(wsi, uri, sizeof(uri));
    long i = id ? fcsms_identity(id) : -1;
    if (i < 0)
        return -1;
    c->ident = (size_t)i;
    c->wsi = wsi;
    ocpp_version_from_subprotocol(lws_get_protocol(wsi)->name, &c->version);
    c->open = true;
    fc.connections++;
    return 0;
}

static int fc__callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    struct fc_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return fc__bind(wsi, c);
    case LWS_CALLBACK_RECEIVE:
        return c->open && !fc.stopping ? fc__receive(c, in, len) : 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c->open ? fc__on_writeable(c) : 0;
    case LWS_CALLBACK_CLOSED:
        if (c) {
            if (c->q.busy)
                fc.busy--;
            if (c->call_slot)
                fcsms_calls_remove((size_t)c->call_slot - 1);
            bwsq_free(&c->q);
            memset(c, 0, sizeof(*c));
        }
        return 0;
    default:
        return 0;
    }
}

static struct lws_protocols fc_protocols[] = {
    /* First: a WebSocket request without a subprotocol lands here (refused). */
    { "fast-csms-http", fc__callback, sizeof(struct fc_conn), 0, 0, NULL, 0 },
    { "ocpp1.6", fc__callback, sizeof(struct fc_conn), FC_RX_CHUNK, 0, NULL, BWSQ_FRAME_MAX },
    { "ocpp2.0.1", fc__callback, sizeof(struct fc_conn), FC_RX_CHUNK, 0, NULL, BWSQ_FRAME_MAX },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void fc__usage(void)
{
    fprintf(stderr, "usage: fast_csms [--port N] [--expect N] [--timeout S] [--order-field NAME]\n"
                    "                 [--call-rate R]\n");
}

static int fc__args(int argc, char **argv, int *port)
{
    static const struct option opts[] = {
        { "port", required_argument, NULL, 'p' },
        { "expect", required_argument, NULL, 'e' },
        { "timeout", required_argument, NULL, 't' },
        { "order-field", required_argument, NULL, 'o' },
        { "call-rate", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    char *end;
    fcsms_set_order_field("timestamp");
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        errno = 0;
        switch (opt) {
        case 'p':
            if (blws_parse_port(optarg, port) < 0)
                return -1;
            break;
        case 'e':
            fc.expect = strtoull(optarg, &end, 10);
            if (*end || errno || optarg[0] == '-')
                return -1;
            break;
        case 't':
            fc.timeout_s = strtod(optarg, &end);
            if (*end || errno || !(fc.timeout_s > 0))
                return -1;
            break;
        case 'o':
            if (fcsms_set_order_field(optarg) < 0)
                return -1;
            break;
        case 'r':
            fc.call_rate = strtod(optarg, &end);
            if (*end || errno || !(fc.call_rate >= 0) || fc.call_rate > 1e6)
                return -1;
            break;
        default:
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    int port = 0;
    if (fc__args(argc, argv, &port) < 0) {
        fc__usage();
        return 2;
    }
    if (blws_init(&fc.io, "fast_csms") < 0)
        return 2;
    uv_timer_init(&fc.io.loop, &fc.deadline);
    uv_timer_init(&fc.io.loop, &fc.stopper);
    uv_signal_init(&fc.io.loop, &fc.sigusr1);
    if (fcsms_calls_init(&fc.io.loop, fc.call_rate, fc__send_call) < 0 ||
        !blws_listen(&fc.io, "fast-csms", port, fc_protocols)) {
        fc.exit_code = 2;
        fc__close_handles();
    } else {
        blws_catch_signals(&fc.io, fc__on_signal);
        uv_signal_start(&fc.sigusr1, fc__on_signal, SIGUSR1);
        if (fc.timeout_s > 0)
            uv_timer_start(&fc.deadline, fc__on_deadline, (uint64_t)(fc.timeout_s * 1000), 0);
    }
    blws_run(&fc.io);
    fcsms_free();
    return fc.exit_code;
}
