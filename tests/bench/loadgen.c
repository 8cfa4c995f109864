/* loadgen: N simulated chargers in one process, for benchmarks.
 *
 * A libwebsockets client on a libuv loop. Each charger connects to
 * <url>/<id> (ids <prefix>00000, <prefix>00001, ...) offering ocpp1.6, or
 * ocpp2.0.1 for a share of them, sends its BootNotification, and once every
 * charger is booted (or --boot-timeout passed) runs charging sessions
 * (loadgen_ocpp.c): status, Authorize, start, MeterValues, stop, status,
 * Heartbeat, and again. One CALL in flight per charger, as OCPP-J asks.
 *
 *   loadgen --url ws://HOST:PORT/PATH --chargers N [--share-201 F]
 *           [--prefix P] [--rate R] [--meters-per-session M]
 *           [--warmup S] [--duration S] [--connect-rate R] [--boot-timeout S]
 *
 *   --rate R      CALLs per second, all chargers together, sent open loop
 *                 (a 1 ms timer; each to the next charger in turn with none
 *                 in flight; one that finds them all busy counts as missed).
 *                 0 (default): closed loop, each charger sends its next CALL
 *                 as soon as its last is answered: saturation.
 *   --warmup S    traffic before measuring (default 2 s).
 *   --duration S  the measuring window (default 10 s); 0: stop once booted
 *                 (the connect storm).
 *   --connect-rate R  connects per second (default 0: all at once).
 *
 * Every CALL's round trip is timed from its write to its answer's arrival;
 * the CALLs the gateway or the CSMS sends the chargers are answered at once
 * (loadgen_ocpp.c). stdout, one JSON object a line:
 *   {"event":"booted", chargers, booted, connect_s, boot_s, connect_errors}
 *   {"event":"measuring"}                     the window starts
 *   {"event":"summary", rate, duration_s, calls (answered in the window),
 *    calls_per_s, rtt {count, mean/p50/p90/p99/p999/max in µs}, errors
 *    (CALLERRORs), missed, unmatched, closed (sockets lost after boot),
 *    answered {action: n}, cpu_s (this process, in the window)}
 * Exit 0; 1 when not every charger booted, or a socket was lost; 2: bad
 * arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <uv.h>

#include "bench_hist.h"
#include "bench_lws.h"
#include "loadgen.h"

#define LG_TICK_MS 1              /* pacing, retries and phase changes */
#define LG_RETRY_MS 500           /* a failed connect is tried again after this */
#define LG_CHARGERS_MAX 9000      /* a relay needs two sockets each: 20,000 files */
#define LG_RX_CHUNK 4096
#define LG_ERRORS_SHOWN 5         /* connect failures (and lost sockets) written to stderr */

static struct {
    /* arguments */
    struct blws_url url;
    const char *prefix;
    size_t n;
    double share_201, rate, warmup_s, duration_s, connect_rate, boot_timeout_s;
    /* the run */
    struct blws io;
    uv_timer_t tick;
    struct lg_charger *chargers;
    size_t connected, booted, first_connects, cursor;
    uint64_t retry_scan_ns;
    enum { P_BOOT, P_WARMUP, P_MEASURE, P_DONE } phase;
    uint64_t start_ns, phase_ns, connect_ns, boot_ns, rate_sent;
    double cpu0;
    uint64_t calls, errors, missed, unmatched, closed, connect_errors;
    struct bhist rtt;
    int exit_code;
} lg;

static double lg__cpu_s(void)
{
    uv_rusage_t ru;
    if (uv_getrusage(&ru) != 0)
        return -1.0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double lg__since_s(uint64_t from_ns, uint64_t to_ns)
{
    return (double)(to_ns - from_ns) / 1e9;
}

/* ---- sending ---- */

static void lg__send(struct lg_charger *c, const char *msg, int len)
{
    if (len < 0 || bwsq_send(&c->q, c->wsi, msg, (size_t)len) < 0) {
        fprintf(stderr, "loadgen: cannot send charger=%s, closing\n", c->id);
        blws_drop(c->wsi);
    }
}

/* The charger's next CALL, timed from its write. */
static void lg__call(struct lg_charger *c)
{
    char buf[LG_CALL_MAX];
    int n = lg_next_call(c, buf, sizeof(buf));
    c->in_flight = true;
    c->sent_ns = uv_hrtime();
    lg__send(c, buf, n);
}

/* The next charger in turn that may send now, or NULL. */
static struct lg_charger *lg__next_ready(void)
{
    for (size_t tried = 0; tried < lg.n; tried++) {
        struct lg_charger *c = &lg.chargers[lg.cursor];
        lg.cursor = (lg.cursor + 1) % lg.n;
        if (c->state == LG_READY && !c->in_flight)
            return c;
    }
    return NULL;
}

/* Open loop: the CALLs due since the traffic started. */
static void lg__pace(uint64_t now)
{
    uint64_t due = (uint64_t)(lg.rate * lg__since_s(lg.phase_ns, now));
    for (; lg.rate_sent < due; lg.rate_sent++) {
        struct lg_charger *c = lg__next_ready();
        if (c)
            lg__call(c);
        else if (lg.phase == P_MEASURE)
            lg.missed++;
    }
}

/* ---- connecting ---- */

static void lg__connect(struct lg_charger *c)
{
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof(i));
    i.context = lg.io.ctx;
    i.protocol = ocpp_version_subprotocol(c->version);
    i.local_protocol_name = "loadgen";
    i.userdata = c;
    i.pwsi = &c->wsi;
    c->state = LG_CONNECTING;
    if (!blws_connect(&lg.url, c->id, &i) && c->state == LG_CONNECTING) {
        lg.connect_errors++;
        c->state = LG_IDLE;
        c->retry_ns = uv_hrtime() + (uint64_t)LG_RETRY_MS * 1000000;
    }
}

/* Connects the chargers whose turn has come (--connect-rate), and every
 * LG_RETRY_MS those whose last socket failed or was lost. */
static void lg__connect_due(uint64_t now)
{
    size_t allowed = lg.connect_rate > 0
                         ? (size_t)(lg.connect_rate * lg__since_s(lg.start_ns, now)) + 1
                         : lg.n;
    while (lg.first_connects < lg.n && lg.first_connects < allowed)
        lg__connect(&lg.chargers[lg.first_connects++]);
    if (now < lg.retry_scan_ns)
        return;
    lg.retry_scan_ns = now + (uint64_t)LG_RETRY_MS * 1000000;
    for (size_t i = 0; i < lg.first_connects; i++) {
        struct lg_charger *c = &lg.chargers[i];
        if (c->state == LG_IDLE && now >= c->retry_ns)
            lg__connect(c);
    }
}

/* ---- phases ---- */

static void lg__print_booted(uint64_t now)
{
    printf("{\"event\":\"booted\",\"chargers\":%zu,\"booted\":%zu,\"connected\":%zu,"
           "\"connect_s\":%.3f,\"boot_s\":%.3f,\"connect_errors\":%" PRIu64 "}\n",
           lg.n, lg.booted, lg.connected,
           lg.connect_ns ? lg__since_s(lg.start_ns, lg.connect_ns) : -1.0,
           lg.booted == lg.n ? lg__since_s(lg.start_ns, lg.boot_ns) : lg__since_s(lg.start_ns, now),
           lg.connect_errors);
    fflush(stdout);
}

static void lg__print_summary(uint64_t now)
{
    double window = lg__since_s(lg.phase_ns, now);
    printf("{\"event\":\"summary\",\"chargers\":%zu,\"booted\":%zu,\"rate\":%.1f,"
           "\"duration_s\":%.3f,\"calls\":%" PRIu64 ",\"calls_per_s\":%.1f,\"rtt\":",
           lg.n, lg.booted, lg.rate, window, lg.calls, window > 0 ? (double)lg.calls / window : 0.0);
    bhist_print_json(&lg.rtt, stdout);
    printf(",\"errors\":%" PRIu64 ",\"missed\":%" PRIu64 ",\"unmatched\":%" PRIu64
           ",\"closed\":%" PRIu64 ",\"answered\":",
           lg.errors, lg.missed, lg.unmatched, lg.closed);
    lg_ocpp_print_answered(stdout);
    printf(",\"cpu_s\":%.3f}\n", lg__cpu_s() - lg.cpu0);
    fflush(stdout);
}

/* The first half of the teardown (bench_lws.h); from a timer or a signal,
 * never from an lws callback. */
static void lg__stop(int exit_code)
{
    if (lg.phase == P_DONE)
        return;
    lg.phase = P_DONE;
    lg.exit_code = exit_code;
    blws_stop(&lg.io);
    uv_close((uv_handle_t *)&lg.tick, NULL);
}

/* Traffic starts: every charger sends at once in the closed loop. */
static void lg__start_traffic(uint64_t now)
{
    lg.phase = P_WARMUP;
    lg.phase_ns = now;
    lg.rate_sent = 0;
    for (size_t i = 0; lg.rate == 0 && i < lg.n; i++)
        if (lg.chargers[i].state == LG_READY && !lg.chargers[i].in_flight)
            lg__call(&lg.chargers[i]);
}

static void lg__on_tick(uv_timer_t *t)
{
    (void)t;
    uint64_t now = uv_hrtime();
    lg__connect_due(now);
    if (lg.phase == P_BOOT) {
        bool timed_out = lg__since_s(lg.start_ns, now) > lg.boot_timeout_s;
        if (lg.booted < lg.n && !timed_out)
            return;
        lg__print_booted(now);
        if (lg.booted < lg.n)
            fprintf(stderr, "loadgen: %zu of %zu chargers booted within %.0f s\n", lg.booted, lg.n,
                    lg.boot_timeout_s);
        if (lg.booted < lg.n || lg.duration_s <= 0) {
            lg__stop(lg.booted < lg.n ? 1 : 0);
            return;
        }
        lg__start_traffic(now);
    }
    if (lg.phase == P_WARMUP && lg__since_s(lg.phase_ns, now) >= lg.warmup_s) {
        lg.phase = P_MEASURE;
        lg.phase_ns = now;
        lg.rate_sent = 0;
        lg.cpu0 = lg__cpu_s();
        lg.calls = lg.errors = lg.missed = lg.unmatched = 0;
        bhist_reset(&lg.rtt);
        printf("{\"event\":\"measuring\"}\n");
        fflush(stdout);
    }
    if (lg.phase == P_MEASURE && lg__since_s(lg.phase_ns, now) >= lg.duration_s) {
        lg__print_summary(now);
        lg__stop(lg.closed ? 1 : 0);
        return;
    }
    if (lg.rate > 0)
        lg__pace(now);
}

static void lg__on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    lg__stop(1);
}

/* ---- receiving ---- */

/* The answer to the charger's CALL in flight. */
static void lg__answer(struct lg_charger *c, const struct frame *f, uint64_t now)
{
    if (!c->in_flight || strcmp(f->id, c->call_id) != 0) {
        lg.unmatched++;
        return;
    }
    c->in_flight = false;
    if (lg.phase == P_MEASURE) {
        lg.calls++;
        lg.errors += f->type == FRAME_ERROR;
        bhist_add(&lg.rtt, now - c->sent_ns);
    }
    if (lg_on_answer(c, f) < 0) {
        fprintf(stderr, "loadgen: BootNotification not accepted charger=%s\n", c->id);
        c->state = LG_REFUSED;
        return;
    }
    if (c->state == LG_BOOTING) {
        c->state = LG_READY;
        if (++lg.booted == lg.n)
            lg.boot_ns = now;
        if (lg.phase == P_BOOT)
            return;
    }
    if (lg.rate == 0 && lg.phase != P_BOOT)
        lg__call(c);
}

static void lg__message(struct lg_charger *c, const char *msg, size_t len, uint64_t now)
{
    struct frame f;
    if (frame_parse(msg, len, &f) != FRAME_OK) {
        fprintf(stderr, "loadgen: bad frame charger=%s: %.*s\n", c->id, (int)(len > 200 ? 200 : len), msg);
        lg.unmatched++;
        return;
    }
    if (f.type != FRAME_CALL) {
        lg__answer(c, &f, now);
        return;
    }
    char buf[LG_CALL_MAX];
    lg__send(c, buf, lg_answer_call(c, &f, buf, sizeof(buf)));
}

static void lg__established(struct lg_charger *c)
{
    char buf[LG_CALL_MAX];
    if (++lg.connected == lg.n)
        lg.connect_ns = uv_hrtime();
    c->state = LG_BOOTING;
    c->step = 0;
    c->in_flight = true;
    int n = lg_boot_call(c, buf, sizeof(buf));
    c->sent_ns = uv_hrtime();
    lg__send(c, buf, n);
}

/* The socket is gone (or never came): count it, and connect again. */
static void lg__lost(struct lg_charger *c, bool was_open)
{
    bwsq_free(&c->q);
    c->wsi = NULL;
    c->in_flight = false;
    if (lg.phase == P_DONE)
        return;
    if (was_open) {
        lg.connected--;
        if (c->state == LG_READY) {
            lg.booted--;
            if (lg.closed++ < LG_ERRORS_SHOWN)
                fprintf(stderr, "loadgen: socket lost charger=%s\n", c->id);
        }
    } else {
        lg.connect_errors++;
    }
    if (c->state != LG_REFUSED) {
        c->state = LG_IDLE;
        c->retry_ns = uv_hrtime() + (uint64_t)LG_RETRY_MS * 1000000;
    }
}

static int lg__callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    struct lg_charger *c = user;
    const char *msg;
    size_t msg_len;
    uint64_t now;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        lg__established(c);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        now = uv_hrtime();
        switch (bwsq_receive(&c->q, wsi, in, len, &msg, &msg_len)) {
        case 1:
            lg__message(c, msg, msg_len, now);
            return 0;
        case 0:
            return 0;
        default:
            fprintf(stderr, "loadgen: frame over %d bytes charger=%s\n", BWSQ_FRAME_MAX, c->id);
            return -1;
        }
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return bwsq_writeable(&c->q, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) {
            /* The first few say why; the summary counts them all. */
            if (lg.phase != P_DONE && lg.connect_errors < LG_ERRORS_SHOWN)
                fprintf(stderr, "loadgen: connect failed charger=%s: %s\n", c->id,
                        in ? (const char *)in : "?");
            lg__lost(c, false);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c)
            lg__lost(c, true);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols lg_protocols[] = {
    { "loadgen", lg__callback, 0, LG_RX_CHUNK, 0, NULL, BWSQ_FRAME_MAX },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- the process ---- */

static int lg__number(const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (*end || errno || !(v >= min && v <= max))
        return -1;
    *out = v;
    return 0;
}

static int lg__args(int argc, char **argv)
{
    static const struct option opts[] = {
        { "url", required_argument, NULL, 'u' },
        { "chargers", required_argument, NULL, 'n' },
        { "share-201", required_argument, NULL, 's' },
        { "prefix", required_argument, NULL, 'p' },
        { "rate", required_argument, NULL, 'r' },
        { "meters-per-session", required_argument, NULL, 'm' },
        { "warmup", required_argument, NULL, 'w' },
        { "duration", required_argument, NULL, 'd' },
        { "connect-rate", required_argument, NULL, 'c' },
        { "boot-timeout", required_argument, NULL, 'b' },
        { NULL, 0, NULL, 0 }
    };
    double n = 0, meters = 10;
    const char *url = NULL;
    int opt, rc = 0;
    lg.prefix = "LG";
    lg.warmup_s = 2;
    lg.duration_s = 10;
    lg.boot_timeout_s = 60;
    while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 'n': rc = lg__number(optarg, 1, LG_CHARGERS_MAX, &n); break;
        case 's': rc = lg__number(optarg, 0, 1, &lg.share_201); break;
        case 'p': lg.prefix = optarg; rc = strlen(optarg) <= LG_ID_MAX - 5 ? 0 : -1; break;
        case 'r': rc = lg__number(optarg, 0, 1e6, &lg.rate); break;
        case 'm': rc = lg__number(optarg, 1, 10000, &meters); break;
        case 'w': rc = lg__number(optarg, 0, 3600, &lg.warmup_s); break;
        case 'd': rc = lg__number(optarg, 0, 86400, &lg.duration_s); break;
        case 'c': rc = lg__number(optarg, 0, 1e6, &lg.connect_rate); break;
        case 'b': rc = lg__number(optarg, 1, 3600, &lg.boot_timeout_s); break;
        default: rc = -1; break;
        }
    }
    if (rc < 0 || optind != argc || !url || n < 1 || blws_parse_url(url, &lg.url) < 0)
        return -1;
    lg.n = (size_t)n;
    lg_ocpp_set_meters_per_session((unsigned)meters);
    return 0;
}

/* The chargers, their ids and versions: the share of 2.0.1 ones spread
 * evenly over the numbers. */
static int lg__make_chargers(void)
{
    lg.chargers = calloc(lg.n, sizeof(*lg.chargers));
    if (!lg.chargers)
        return -1;
    for (size_t i = 0; i < lg.n; i++) {
        struct lg_charger *c = &lg.chargers[i];
        c->index = (uint32_t)i;
        snprintf(c->id, sizeof(c->id), "%s%05zu", lg.prefix, i);
        bool v201 = (size_t)((double)(i + 1) * lg.share_201) > (size_t)((double)i * lg.share_201);
        c->version = v201 ? OCPP_201 : OCPP_16;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (lg__args(argc, argv) < 0) {
        fprintf(stderr, "usage: loadgen --url ws://HOST:PORT/PATH --chargers N [--share-201 F] "
                        "[--prefix P]\n               [--rate R] [--meters-per-session M] "
                        "[--warmup S] [--duration S]\n               [--connect-rate R] "
                        "[--boot-timeout S]\n");
        return 2;
    }
    if (lg__make_chargers() < 0) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 2;
    }
    if (blws_init(&lg.io, "loadgen") < 0) {
        free(lg.chargers);
        return 2;
    }
    uv_timer_init(&lg.io.loop, &lg.tick);
    if (blws_context(&lg.io, lg_protocols) < 0) {
        lg__stop(2);
    } else {
        blws_catch_signals(&lg.io, lg__on_signal);
        lg.start_ns = uv_hrtime();
        lg__connect_due(lg.start_ns);
        uv_timer_start(&lg.tick, lg__on_tick, LG_TICK_MS, LG_TICK_MS);
    }
    blws_run(&lg.io);
    for (size_t i = 0; i < lg.n; i++)
        bwsq_free(&lg.chargers[i].q);
    free(lg.chargers);
    return lg.exit_code;
}
