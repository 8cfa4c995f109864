/* bench_store: the store's queue on this machine's disk.
 *
 *   write   durable queue writes: realistic 1.6 MeterValues frames (~400
 *           bytes, 50 chargers, each in a transaction) appended B per loop
 *           turn, each turn committed by the store's prepare handle with
 *           synchronous=FULL and every message's store_after_commit()
 *           callback run. Target: >= 5,000 messages/s.
 *   drain   replaying a 100,000-message backlog of one identity (aggregate
 *           mode: the worst case, one message in flight): per message a
 *           store_queue_peek() of 1 and a store_queue_remove(), R per loop
 *           turn, as the store does it (a turn of removals only commits
 *           without an fsync). The "fsync'd" row registers a
 *           store_after_commit() in each turn, which makes each of those
 *           commits an fsync'd one: what draining would cost without that
 *           exception (20,000 of the backlog, to keep the run short). Target:
 *           far above 3,400 messages/s, so that 100,000 replay in < 30 s
 *           bound by the network.
 *
 *   budget  the write scenario with an 8 MB disk budget, so that meter
 *           values are thinned on the way (a pass every 10 % of the budget).
 *
 * Per row: messages per second, and the loop-turn stall (appends or
 * removals + commit + callbacks) mean and max in ms.
 *
 *   bench_store [directory]     (default: a temporary directory under /tmp;
 *                                give one on the target's disk to measure it)
 *
 * A benchmark, not a test: it reads the clock. */
#include "store.h"

#include "log.h"

#include <sqlite3.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHARGERS 50
#define BACKLOG 100000

static char frame[512];
static size_t frame_len;
static uint64_t callbacks;

static void on_commit(void *arg, int status)
{
    (void)arg;
    if (status) {
        fprintf(stderr, "bench_store: a commit failed: %s\n", strerror(-status));
        exit(1);
    }
    callbacks++;
}

static void make_frame(int n)
{
    frame_len = (size_t)snprintf(frame, sizeof(frame),
        "[2,\"7f3c2a10-%08d\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":-%d,"
        "\"meterValue\":[{\"timestamp\":\"2024-05-01T10:%02d:%02d.000Z\",\"sampledValue\":["
        "{\"value\":\"%d.%d\",\"context\":\"Sample.Periodic\","
        "\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"},"
        "{\"value\":\"7200\",\"measurand\":\"Power.Active.Import\",\"unit\":\"W\"},"
        "{\"value\":\"31.2\",\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"unit\":\"A\"}]}]}]",
        n, n % CHARGERS + 1, n / 60 % 60, n % 60, 12345 + n, n % 10);
}

struct row {
    const char *name;
    uint64_t msgs, turns;
    double secs, turn_max_ms;
    uint64_t thinned;
};

static void print_row(const struct row *r)
{
    printf("| %-34s | %8llu | %8.2f | %10.0f | %8.3f | %8.3f |\n", r->name,
           (unsigned long long)r->msgs, r->secs, (double)r->msgs / r->secs,
           r->secs * 1000.0 / (double)r->turns, r->turn_max_ms);
}

static double since_ms(uint64_t t0)
{
    return (double)(uv_hrtime() - t0) / 1e6;
}

static struct store *open_store(uv_loop_t *loop, const char *dir, uint64_t budget)
{
    struct store *st;
    int r = store_open(&st, loop, dir, budget);
    if (r) {
        fprintf(stderr, "bench_store: store_open %s: %s\n", dir, strerror(-r));
        exit(1);
    }
    return st;
}

static void close_store(struct store *st, uv_loop_t *loop)
{
    store_close(st);
    uv_run(loop, UV_RUN_DEFAULT);
}

/* N messages, B per turn, a callback per message; budget 0: none. */
static struct row bench_write(const char *dir, int batch, int n, uint64_t budget,
                              const char *name)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st = open_store(&loop, dir, budget);
    struct row row = { name, 0, 0, 0, 0, 0 };
    uint64_t t0 = uv_hrtime();
    for (int done = 0; done < n;) {
        uint64_t t1 = uv_hrtime();
        for (int i = 0; i < batch && done < n; i++, done++) {
            char id[16], tx[16];
            snprintf(id, sizeof(id), "CP%03d", done % CHARGERS);
            snprintf(tx, sizeof(tx), "-%d", done % CHARGERS + 1);
            make_frame(done);
            if (store_queue_append(st, id, STORE_METER, "MeterValues", tx, frame, frame_len,
                                   NULL) != 0)
                exit(1);
            store_after_commit(st, on_commit, NULL);
        }
        uv_run(&loop, UV_RUN_NOWAIT);  /* the prepare commits, the callbacks run */
        double ms = since_ms(t1);
        if (ms > row.turn_max_ms)
            row.turn_max_ms = ms;
        row.turns++;
    }
    row.secs = since_ms(t0) / 1000.0;
    row.msgs = (uint64_t)n;
    row.thinned = store_thinned(st);
    close_store(st, &loop);
    uv_loop_close(&loop);
    return row;
}

static void fill_backlog(const char *dir)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st = open_store(&loop, dir, 0);
    for (int i = 0; i < BACKLOG; i++) {
        make_frame(i);
        if (store_queue_append(st, "SITE-01", STORE_METER, "MeterValues", "-1", frame, frame_len,
                               NULL) != 0)
            exit(1);
        if (i % 1000 == 999)
            uv_run(&loop, UV_RUN_NOWAIT);
    }
    close_store(st, &loop);
    uv_loop_close(&loop);
}

/* Drains the whole backlog: R messages per turn. */
static struct row bench_drain(const char *dir, int per_turn, bool durable, int limit,
                              const char *name)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st = open_store(&loop, dir, 0);
    struct row row = { name, 0, 0, 0, 0, 0 };
    uint64_t t0 = uv_hrtime();
    while (row.msgs < (uint64_t)limit) {
        uint64_t t1 = uv_hrtime();
        int got = 0;
        for (int i = 0; i < per_turn; i++) {
            struct store_msg m;
            size_t n;
            if (store_queue_peek(st, "SITE-01", 1, &m, &n) != 0)
                exit(1);
            if (!n)
                break;
            if (store_queue_remove(st, m.seq) != 0)
                exit(1);
            store_msg_free(&m);
            got++;
        }
        if (!got)
            break;
        if (durable)
            store_after_commit(st, on_commit, NULL);
        uv_run(&loop, UV_RUN_NOWAIT);
        double ms = since_ms(t1);
        if (ms > row.turn_max_ms)
            row.turn_max_ms = ms;
        row.turns++;
        row.msgs += (uint64_t)got;
    }
    row.secs = since_ms(t0) / 1000.0;
    close_store(st, &loop);
    uv_loop_close(&loop);
    return row;
}

static void remove_db(const char *dir)
{
    char path[4200];
    const char *suffix[] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/sitegate.db%s", dir, suffix[i]);
        unlink(path);
    }
}

int main(int argc, char **argv)
{
    char tmp[] = "/tmp/sg_bench_store_XXXXXX";
    const char *dir = argc > 1 ? argv[1] : mkdtemp(tmp);
    if (!dir) {
        perror("mkdtemp");
        return 1;
    }
    log_set_level(LOG_LVL_ERROR);
    uint64_t thinned_total = 0;
    make_frame(0);
    printf("store on %s, frame %zu bytes, synchronous=FULL, SQLite %s\n\n", dir, frame_len,
           sqlite3_libversion());
    printf("| %-34s | %8s | %8s | %10s | %8s | %8s |\n", "scenario", "messages", "seconds",
           "msgs/s", "turn ms", "max ms");
    printf("|%s|%s|%s|%s|%s|%s|\n", "------------------------------------", "----------",
           "----------", "------------", "----------", "----------");
    struct { int batch, n; uint64_t budget; const char *name; } w[] = {
        { 1, 2000, 0, "write, 1 per commit" },
        { 10, 20000, 0, "write, 10 per commit" },
        { 100, 50000, 0, "write, 100 per commit" },
        { 1000, 100000, 0, "write, 1000 per commit" },
        { 100, 100000, 8u << 20, "write, 100 per commit, 8 MB budget" },
    };
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        remove_db(dir);
        struct row r = bench_write(dir, w[i].batch, w[i].n, w[i].budget, w[i].name);
        print_row(&r);
        thinned_total += r.thinned;
    }
    struct { int per_turn; bool durable; int limit; const char *name; } d[] = {
        { 1, false, BACKLOG, "drain 100k, 1 per turn" },
        { 100, false, BACKLOG, "drain 100k, 100 per turn" },
        { 1, true, BACKLOG / 5, "drain 1 per turn, fsync'd (20k)" },
    };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        remove_db(dir);
        fill_backlog(dir);
        struct row r = bench_drain(dir, d[i].per_turn, d[i].durable, d[i].limit, d[i].name);
        print_row(&r);
    }
    printf("\n(the budget row thinned %llu meter values)\n", (unsigned long long)thinned_total);
    remove_db(dir);
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s/sitegate.lock", dir);
    unlink(lock);
    if (argc <= 1)
        rmdir(dir);
    return 0;
}
