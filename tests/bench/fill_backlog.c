/* fill_backlog: a state directory holding a backlog for the CSMS, written
 * through the store's API exactly as the offline responder (proxy/offline.c,
 * offline__store) writes what 1.6 chargers send while the CSMS is
 * unreachable, for the replay benchmark (replay.py).
 *
 * Per identity, charging sessions one after another, each:
 *   StatusNotification Preparing      STORE_OTHER, tx_local ""
 *   StartTransaction                  STORE_TX, tx_local = a new local id from
 *                                     store_next_local_tx (-1, -2, ...),
 *                                     recorded with store_tx_put (no real id)
 *   StatusNotification Charging       STORE_OTHER
 *   M x MeterValues                   STORE_METER, transactionId and tx_local
 *                                     the local id (the charger knows no other)
 *   StopTransaction                   STORE_TX, the same
 *   StatusNotification Finishing, Available
 * cut off after the identity's share of N messages (its last session may be
 * left running). Every payload carries a "timestamp" 10 s after the one
 * before it (MeterValues: meterValue[0].timestamp, its first one), so
 * fast_csms --order-field timestamp can check the replay's order. Frames are
 * stored as the charger sent them: its message ids, original timestamps.
 *
 *   fill_backlog STATE_DIR [--messages N] [--ids K] [--meter-per-tx M]
 *                [--prefix P]
 *
 * Defaults: 100,000 messages, 1 identity, 200 meter values per session,
 * identities P0001, P0002, ... with P "BENCH-CP". Appends are committed 1,000
 * per loop turn (synchronous=FULL). Prints one JSON line: identities,
 * messages, transactions, actions {name: count}, seconds, rate_per_s.
 * STATE_DIR must not hold a queue already (exit 1).
 */
#include "store.h"

#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FB_PER_TURN 1000
#define FB_T0 1714521600 /* 2024-05-01T00:00:00Z */
#define FB_STEP_S 10

enum { FB_STATUS, FB_START, FB_METER, FB_STOP, FB_N_ACTIONS };
static const char *const fb_action_names[FB_N_ACTIONS] = {
    "StatusNotification", "StartTransaction", "MeterValues", "StopTransaction",
};

static struct {
    struct store *st;
    uv_loop_t loop;
    long messages, ids, meter_per_tx;
    const char *prefix;
    uint64_t actions[FB_N_ACTIONS];
    uint64_t transactions, msg_no;
    int failed;
} fb;

/* What one identity is in the middle of. */
struct fb_charger {
    char id[STORE_IDENTITY_MAX];
    long step;            /* within the session: 0 .. meter_per_tx + 5 */
    int64_t tx;           /* the running transaction's local id */
    int64_t t;            /* the next timestamp (s) */
    int64_t meter_wh;
};

static void fb__on_commit(void *arg, int status)
{
    (void)arg;
    if (status)
        fb.failed = status;
}

static void fb__iso(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The next message of c's session into frame; its action and kind. */
static int fb__next(struct fb_charger *c, char *frame, size_t cap, int *action,
                    enum store_kind *kind)
{
    char ts[32], mid[40];
    fb__iso(c->t, ts);
    c->t += FB_STEP_S;
    snprintf(mid, sizeof(mid), "%08" PRIx64 "-0000-4000-8000-%012" PRIx64, fb.msg_no >> 32 | 0x1000,
             fb.msg_no & 0xffffffffffffu);
    fb.msg_no++;
    long m = fb.meter_per_tx, s = c->step;
    c->step = s == m + 5 ? 0 : s + 1;
    int n;
    if (s == 0 || s == 2 || s == m + 4 || s == m + 5) {
        static const char *const status[] = { "Preparing", "Charging", "Finishing", "Available" };
        const char *st = status[s == 0 ? 0 : s == 2 ? 1 : s == m + 4 ? 2 : 3];
        *action = FB_STATUS;
        *kind = STORE_OTHER;
        n = snprintf(frame, cap, "[2,\"%s\",\"StatusNotification\",{\"connectorId\":1,"
                     "\"errorCode\":\"NoError\",\"status\":\"%s\",\"timestamp\":\"%s\"}]",
                     mid, st, ts);
    } else if (s == 1) {
        *action = FB_START;
        *kind = STORE_TX;
        n = snprintf(frame, cap, "[2,\"%s\",\"StartTransaction\",{\"connectorId\":1,"
                     "\"idTag\":\"04A1B2C3D4E5F6\",\"meterStart\":%" PRId64 ",\"timestamp\":\"%s\"}]",
                     mid, c->meter_wh, ts);
    } else if (s < m + 3) {
        c->meter_wh += 20; /* 7.2 kW for 10 s */
        *action = FB_METER;
        *kind = STORE_METER;
        n = snprintf(frame, cap, "[2,\"%s\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":%" PRId64
                     ",\"meterValue\":[{\"timestamp\":\"%s\",\"sampledValue\":["
                     "{\"value\":\"%" PRId64 "\",\"context\":\"Sample.Periodic\","
                     "\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"},"
                     "{\"value\":\"7200\",\"measurand\":\"Power.Active.Import\",\"unit\":\"W\"},"
                     "{\"value\":\"31.2\",\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"unit\":\"A\"}]}]}]",
                     mid, c->tx, ts, c->meter_wh);
    } else {
        *action = FB_STOP;
        *kind = STORE_TX;
        n = snprintf(frame, cap, "[2,\"%s\",\"StopTransaction\",{\"transactionId\":%" PRId64
                     ",\"idTag\":\"04A1B2C3D4E5F6\",\"meterStop\":%" PRId64 ",\"timestamp\":\"%s\","
                     "\"reason\":\"Local\"}]", mid, c->tx, c->meter_wh, ts);
    }
    return n > 0 && (size_t)n < cap ? n : -ENOSPC;
}

/* Stores c's next message as offline__store does. */
static int fb__store_next(struct fb_charger *c)
{
    char frame[1024], tx_local[STORE_TX_MAX] = "";
    int action, r = 0;
    enum store_kind kind;
    if (c->step == 1) {
        /* The local id comes before the frame: offline__store hands it out
         * with the answer, and the charger then uses it. */
        if ((r = store_next_local_tx(fb.st, &c->tx)) < 0)
            return r;
        snprintf(tx_local, sizeof(tx_local), "%" PRId64, c->tx);
        if ((r = store_tx_put(fb.st, c->id, tx_local, NULL, 1)) < 0)
            return r;
        fb.transactions++;
    } else if (c->step > 2 && c->step < fb.meter_per_tx + 4) {
        snprintf(tx_local, sizeof(tx_local), "%" PRId64, c->tx);
    }
    int n = fb__next(c, frame, sizeof(frame), &action, &kind);
    if (n < 0)
        return n;
    r = store_queue_append(fb.st, c->id, kind, fb_action_names[action], tx_local, frame,
                           (size_t)n, NULL);
    if (r == 0)
        fb.actions[action]++;
    return r;
}

static int fb__fill(struct fb_charger *chargers)
{
    for (long i = 0; i < fb.messages && !fb.failed;) {
        /* Round robin: the identities' sessions interleave, as at a site. */
        for (long k = 0; k < FB_PER_TURN && i < fb.messages; k++, i++) {
            int r = fb__store_next(&chargers[i % fb.ids]);
            if (r < 0)
                return r;
        }
        int r = store_after_commit(fb.st, fb__on_commit, NULL);
        if (r < 0)
            return r;
        uv_run(&fb.loop, UV_RUN_NOWAIT); /* the prepare commits */
    }
    return fb.failed;
}

static void fb__print(double secs)
{
    printf("{\"identities\":[");
    for (long k = 0; k < fb.ids; k++)
        printf("%s\"%s%04ld\"", k ? "," : "", fb.prefix, k + 1);
    printf("],\"messages\":%ld,\"transactions\":%" PRIu64 ",\"actions\":{", fb.messages,
           fb.transactions);
    for (int a = 0; a < FB_N_ACTIONS; a++)
        printf("%s\"%s\":%" PRIu64, a ? "," : "", fb_action_names[a], fb.actions[a]);
    printf("},\"seconds\":%.3f,\"rate_per_s\":%.0f}\n", secs, (double)fb.messages / secs);
}

static long fb__number(const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    return *end || errno || v < min || v > max ? -1 : v;
}

static int fb__args(int argc, char **argv, const char **dir)
{
    static const struct option opts[] = {
        { "messages", required_argument, NULL, 'n' },
        { "ids", required_argument, NULL, 'k' },
        { "meter-per-tx", required_argument, NULL, 'm' },
        { "prefix", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 }
    };
    fb.messages = 100000;
    fb.ids = 1;
    fb.meter_per_tx = 200;
    fb.prefix = "BENCH-CP";
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'n': fb.messages = fb__number(optarg, 1, 100000000); break;
        case 'k': fb.ids = fb__number(optarg, 1, 10000); break;
        case 'm': fb.meter_per_tx = fb__number(optarg, 0, 1000000); break;
        case 'p': fb.prefix = strlen(optarg) <= 40 ? optarg : ""; break;
        default: return -1;
        }
    }
    if (optind != argc - 1 || fb.messages < 0 || fb.ids < 0 || fb.meter_per_tx < 0 ||
        !fb.prefix[0])
        return -1;
    *dir = argv[optind];
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir;
    if (fb__args(argc, argv, &dir) < 0) {
        fprintf(stderr, "usage: fill_backlog STATE_DIR [--messages N] [--ids K] "
                        "[--meter-per-tx M] [--prefix P]\n");
        return 2;
    }
    log_set_level(LOG_LVL_WARN);
    if (uv_loop_init(&fb.loop) != 0)
        return 1;
    int r = store_open(&fb.st, &fb.loop, dir, 0);
    if (r < 0) {
        fprintf(stderr, "fill_backlog: cannot open the store in %s: %s\n", dir, strerror(-r));
        uv_loop_close(&fb.loop);
        return 1;
    }
    struct fb_charger *chargers = calloc((size_t)fb.ids, sizeof(*chargers));
    uint64_t depth = 0;
    if (!chargers)
        r = -ENOMEM;
    else if ((r = store_queue_stats(fb.st, NULL, &depth, NULL, NULL)) == 0 && depth)
        r = -EEXIST;
    for (long k = 0; r == 0 && k < fb.ids; k++) {
        snprintf(chargers[k].id, sizeof(chargers[k].id), "%s%04ld", fb.prefix, k + 1);
        chargers[k].t = FB_T0;
        chargers[k].meter_wh = 1000000;
    }
    uint64_t t0 = uv_hrtime();
    if (r == 0)
        r = fb__fill(chargers);
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    free(chargers);
    store_close(fb.st);
    uv_run(&fb.loop, UV_RUN_DEFAULT);
    uv_loop_close(&fb.loop);
    if (r < 0) {
        fprintf(stderr, "fill_backlog: %s: %s\n", dir,
                r == -EEXIST ? "the queue is not empty" : strerror(-r));
        return 1;
    }
    fb__print(secs);
    return 0;
}
