/* kill -9 of a store writer at random points.
 *
 * A child process appends messages in loop turns (a few per turn, frames of
 * varied sizes, some spanning several pages) and removes its oldest ones, as
 * a gateway does while queueing and replaying. After each commit its
 * store_after_commit() callback reports on a pipe the seqs that commit made
 * durable and the removals it made; before removing it reports the intent.
 * The parent SIGKILLs it at a random moment, then opens the database with
 * its own SQLite connection and checks:
 *
 *   - PRAGMA integrity_check is "ok";
 *   - every seq reported committed is there, unless its removal may have
 *     happened (reported as intended), with an intact frame;
 *   - every removal reported committed is gone;
 *   - the rows in seq order are in the order they were appended, and every
 *     frame there is intact (nothing half-written, nothing duplicated).
 *
 * 20 kills, seeded (SITEGATE_CRASH_SEED overrides), a few seconds. */
#define _XOPEN_SOURCE 700  /* nftw */

#include "store.h"

#include "test.h"

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS 20
#define KEEP 300           /* the child keeps at least this many of its own */
#define MAX_RANGES 200000

enum { REP_COMMIT = 1, REP_REMOVE_INTENT = 2, REP_ERROR = 3 };

struct report {
    int32_t type;
    int32_t run;
    int64_t first, last;   /* REP_COMMIT: seqs appended by the commit */
    int64_t removed;       /* REP_COMMIT: every own seq <= removed is gone;
                              REP_REMOVE_INTENT: may be gone */
};

static uint64_t rng;

static uint32_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32);
}

/* The frame of message n of run r: its filler is a function of (r, n), so
 * the parent can tell an intact frame from a torn or mixed one. */
static size_t make_frame(char *buf, size_t cap, int run, int n)
{
    size_t fill = n % 17 == 0 ? 6000 : 50 + (size_t)(n * 13 % 700);
    int k = snprintf(buf, cap, "[2,\"%d-%d\",\"MeterValues\",{\"run\":%d,\"n\":%d,\"fill\":\"",
                     run, n, run, n);
    for (size_t i = 0; i < fill; i++)
        buf[k + i] = (char)('a' + (run * 31 + n * 7 + (int)i) % 26);
    k += (int)fill;
    k += snprintf(buf + k, cap - (size_t)k, "\"}]");
    return (size_t)k;
}

static bool frame_ok(const unsigned char *f, int len, int *run, int *n)
{
    char want[8192];
    if (len <= 0 || len >= (int)sizeof(want))
        return false;
    if (sscanf((const char *)f, "[2,\"%d-%d\"", run, n) != 2)
        return false;
    size_t wl = make_frame(want, sizeof(want), *run, *n);
    return wl == (size_t)len && memcmp(want, f, wl) == 0;
}

/* ---- The child ---- */

struct child {
    struct store *st;
    int run, fd, n;
    int64_t own[1 << 16];  /* own seqs not yet removed, a ring */
    size_t head, count;
    int64_t removed;
};

static struct child ch;

static void child_report(const struct report *r)
{
    if (write(ch.fd, r, sizeof(*r)) != (ssize_t)sizeof(*r))
        _exit(3);
}

struct batch {
    int64_t first, last, removed;
};

static void on_commit(void *arg, int status)
{
    struct batch *b = arg;
    struct report r = { status ? REP_ERROR : REP_COMMIT, ch.run, b->first, b->last, b->removed };
    free(b);
    child_report(&r);
    if (status)
        _exit(2);
}

static void child_turn(uv_idle_t *h)
{
    (void)h;
    /* Remove some of the oldest own messages (announced first). */
    if (ch.count > KEEP && next_rand() % 2) {
        size_t k = 1 + next_rand() % 8;
        int64_t upto = ch.own[(ch.head + k - 1) % (sizeof(ch.own) / sizeof(ch.own[0]))];
        struct report intent = { REP_REMOVE_INTENT, ch.run, 0, 0, upto };
        child_report(&intent);
        for (size_t i = 0; i < k; i++) {
            int64_t seq = ch.own[ch.head];
            ch.head = (ch.head + 1) % (sizeof(ch.own) / sizeof(ch.own[0]));
            ch.count--;
            if (store_queue_remove(ch.st, seq) != 0)
                _exit(4);
            ch.removed = seq;
        }
    }
    struct batch *b = malloc(sizeof(*b));
    if (!b)
        _exit(5);
    int k = 1 + (int)(next_rand() % 20);
    char frame[8192];
    for (int i = 0; i < k; i++) {
        int n = ch.n++;
        size_t len = make_frame(frame, sizeof(frame), ch.run, n);
        char id[8];
        snprintf(id, sizeof(id), "CP%02d", n % 3);
        int64_t seq;
        if (store_queue_append(ch.st, id, n % 5 ? STORE_METER : STORE_TX, "MeterValues", "",
                               frame, len, &seq) != 0)
            _exit(6);
        if (i == 0)
            b->first = seq;
        b->last = seq;
        if (ch.count == sizeof(ch.own) / sizeof(ch.own[0]))
            _exit(7);
        ch.own[(ch.head + ch.count++) % (sizeof(ch.own) / sizeof(ch.own[0]))] = seq;
    }
    b->removed = ch.removed;
    if (store_after_commit(ch.st, on_commit, b) != 0)
        _exit(8);
}

static void child_main(const char *dir, int run, int fd, uint64_t seed)
{
    rng = seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(run + 1));
    ch.run = run;
    ch.fd = fd;
    uv_loop_t loop;
    uv_loop_init(&loop);
    if (store_open(&ch.st, &loop, dir, 0) != 0) {
        struct report r = { REP_ERROR, run, 0, 0, 0 };
        child_report(&r);
        _exit(1);
    }
    uv_idle_t idle;
    uv_idle_init(&loop, &idle);
    uv_idle_start(&idle, child_turn);
    uv_run(&loop, UV_RUN_DEFAULT);  /* until killed */
    _exit(9);
}

/* ---- The parent ---- */

struct range {
    int run;
    int64_t first, last;
};

static struct range ranges[MAX_RANGES];
static size_t n_ranges;
static int64_t removed_committed[RUNS], removed_intent[RUNS];
static uint64_t total_reported, total_kills_mid_run;

static bool handle(const struct report *r)
{
    if (r->type == REP_ERROR) {
        fprintf(stderr, "child of run %d reported an error\n", r->run);
        return false;
    }
    if (r->run < 0 || r->run >= RUNS)
        return false;
    if (r->type == REP_REMOVE_INTENT) {
        if (r->removed > removed_intent[r->run])
            removed_intent[r->run] = r->removed;
        return true;
    }
    if (n_ranges == MAX_RANGES)
        return false;
    ranges[n_ranges++] = (struct range){ r->run, r->first, r->last };
    total_reported += (uint64_t)(r->last - r->first + 1);
    if (r->removed > removed_committed[r->run])
        removed_committed[r->run] = r->removed;
    return true;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

struct row {
    int64_t seq;
    bool ok;
    int run, n;
};

static struct row *rows;
static size_t n_rows, cap_rows;

static int find_row(int64_t seq)
{
    size_t lo = 0, hi = n_rows;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rows[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n_rows && rows[lo].seq == seq ? (int)lo : -1;
}

/* Everything the header promises, on the database as the child left it. */
static int verify(const char *dir, int run)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/sitegate.db", dir);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "run %d: cannot open the database: %s\n", run, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    int bad = 0;
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL);
    if (sqlite3_step(s) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0) {
        fprintf(stderr, "run %d: integrity_check: %s\n", run,
                sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "?");
        bad++;
    }
    sqlite3_finalize(s);

    n_rows = 0;
    sqlite3_prepare_v2(db, "SELECT seq, frame FROM queue ORDER BY seq", -1, &s, NULL);
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n_rows == cap_rows) {
            cap_rows = cap_rows ? cap_rows * 2 : 4096;
            rows = realloc(rows, cap_rows * sizeof(*rows));
        }
        struct row *r = &rows[n_rows++];
        r->seq = sqlite3_column_int64(s, 0);
        r->ok = frame_ok(sqlite3_column_blob(s, 1), sqlite3_column_bytes(s, 1), &r->run, &r->n);
        if (!r->ok && bad++ < 5)
            fprintf(stderr, "run %d: seq %lld has a damaged frame\n", run, (long long)r->seq);
        if (n_rows > 1 && r->ok && rows[n_rows - 2].ok &&
            (r->run < rows[n_rows - 2].run ||
             (r->run == rows[n_rows - 2].run && r->n <= rows[n_rows - 2].n)) && bad++ < 5)
            fprintf(stderr, "run %d: seq %lld is out of order\n", run, (long long)r->seq);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);

    for (size_t i = 0; i < n_ranges; i++) {
        const struct range *g = &ranges[i];
        for (int64_t seq = g->first; seq <= g->last; seq++) {
            bool there = find_row(seq) >= 0;
            if (seq <= removed_committed[g->run]) {
                if (there && bad++ < 5)
                    fprintf(stderr, "run %d: seq %lld was removed but is back\n", run,
                            (long long)seq);
            } else if (seq > removed_intent[g->run] && !there && bad++ < 5) {
                fprintf(stderr, "run %d: committed seq %lld is missing\n", run, (long long)seq);
            }
        }
    }
    return bad ? -1 : 0;
}

TEST(kill_9_loses_nothing_committed)
{
    uint64_t seed = 20240501;
    const char *env = getenv("SITEGATE_CRASH_SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    printf("seed %llu\n", (unsigned long long)seed);
    rng = seed;
    char dir[] = "/tmp/sg_test_store_crash_XXXXXX";
    ASSERT_NOT_NULL(mkdtemp(dir));
    signal(SIGPIPE, SIG_IGN);
    int failures = 0;
    for (int run = 0; run < RUNS && !failures; run++) {
        int p[2];
        ASSERT_EQ(pipe(p), 0);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child_main(dir, run, p[1], seed);
        }
        close(p[1]);
        /* Kill at a random moment 5 to 150 ms after the first commit. */
        int64_t kill_at = -1;
        int64_t delay = 5 + next_rand() % 146;
        bool alive = true, ok = true;
        struct report r;
        size_t have = 0;
        int64_t deadline = now_ms() + 5000;  /* a child that never commits */
        while (ok) {
            int64_t now = now_ms();
            if (alive && ((kill_at >= 0 && now >= kill_at) || now >= deadline)) {
                kill(pid, SIGKILL);
                alive = false;
                if (kill_at < 0)
                    ok = false;
            }
            int timeout = alive ? (int)((kill_at >= 0 ? kill_at : deadline) - now) : 1000;
            struct pollfd pfd = { p[0], POLLIN, 0 };
            if (poll(&pfd, 1, timeout < 0 ? 0 : timeout) <= 0)
                continue;
            ssize_t got = read(p[0], (char *)&r + have, sizeof(r) - have);
            if (got <= 0)
                break;  /* EOF: the child is gone and everything is read */
            have += (size_t)got;
            if (have < sizeof(r))
                continue;
            have = 0;
            if (!handle(&r))
                ok = false;
            if (kill_at < 0 && r.type == REP_COMMIT)
                kill_at = now_ms() + delay;
        }
        if (alive)
            kill(pid, SIGKILL);
        close(p[0]);
        int wst;
        waitpid(pid, &wst, 0);
        ASSERT(ok);
        if (!WIFSIGNALED(wst) || WTERMSIG(wst) != SIGKILL)
            TEST__FAIL("run %d: the child ended by itself, status %d", run, wst);
        total_kills_mid_run++;
        if (verify(dir, run) != 0)
            failures++;
    }
    if (failures)
        fprintf(stderr, "the database is kept for inspection in %s\n", dir);
    ASSERT_EQ(failures, 0);
    printf("kills %llu, commits reported %zu, seqs reported %llu, rows left %zu\n",
           (unsigned long long)total_kills_mid_run, n_ranges,
           (unsigned long long)total_reported, n_rows);
    ASSERT(total_reported > 0);
    /* The store itself opens the survivor. */
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    uint64_t depth;
    ASSERT_EQ(store_queue_stats(st, NULL, &depth, NULL, NULL), 0);
    ASSERT_EQ(depth, n_rows);
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    free(rows);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    RUN(kill_9_loses_nothing_committed);
    return test_summary();
}
