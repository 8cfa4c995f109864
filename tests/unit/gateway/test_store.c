/* Unit tests of the store (gateway/store*.c): every function, the group
 * commit and its callbacks, persistence across a reopen, thinning, and the
 * errors (unwritable directory, corrupt file, full disk, failed commit).
 *
 * store_int.h gives the tests the connection and the commit counters. A
 * second, read-only SQLite connection checks what another process would see.
 * A shim VFS (below) makes writes fail on demand, for a commit that fails. */
#define _XOPEN_SOURCE 700  /* nftw */

#include "store_int.h"

#include "log.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Helpers ---- */

static char tmp_root[64];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under tmp_root. */
static const char *new_dir(void)
{
    static char path[128];
    static int n;
    snprintf(path, sizeof(path), "%s/d%d", tmp_root, ++n);
    return path;
}

static int calls[64], call_status[64], n_calls;

static void on_commit(void *arg, int status)
{
    if (n_calls < 64) {
        calls[n_calls] = (int)(intptr_t)arg;
        call_status[n_calls] = status;
    }
    n_calls++;
}

static void reset_calls(void)
{
    n_calls = 0;
    memset(calls, 0, sizeof(calls));
    memset(call_status, 0, sizeof(call_status));
}

/* One query through a separate read-only connection: the first column of
 * the first row, -1 on error. */
static long long ro_int(const char *dir, const char *sql)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/sitegate.db", dir);
    sqlite3 *db;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW)
                v = sqlite3_column_int64(s, 0);
            sqlite3_finalize(s);
        }
    }
    sqlite3_close(db);
    return v;
}

static int append(struct store *st, const char *id, enum store_kind kind, const char *action,
                  const char *tx, const char *frame, int64_t *seq)
{
    return store_queue_append(st, id, kind, action, tx, frame, strlen(frame), seq);
}

/* Closes the store and checks that the loop then closes with nothing left. */
static int close_all(struct store *st, uv_loop_t *loop)
{
    store_close(st);
    uv_run(loop, UV_RUN_DEFAULT);
    return uv_loop_close(loop);
}

/* stderr into a file, to check log lines. */
static int saved_stderr = -1;
static char cap_path[128];

static void capture_start(void)
{
    fflush(stderr);
    snprintf(cap_path, sizeof(cap_path), "%s/stderr.txt", tmp_root);
    int fd = open(cap_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

static char *capture_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    FILE *f = fopen(cap_path, "r");
    static char buf[65536];
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    fputs(buf, stderr);  /* still shown */
    return buf;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- A VFS whose writes fail on demand ---- */

static sqlite3_vfs fail_vfs;
static sqlite3_vfs *real_vfs;
static int fail_writes;

/* The unix VFS gives the database and its WAL different methods: one
 * wrapped copy per original, which each file finds after its own bytes. */
static struct {
    const sqlite3_io_methods *real;
    sqlite3_io_methods wrapped;
} fail_io[4];

static const sqlite3_io_methods **fail_real_of(sqlite3_file *f)
{
    return (const sqlite3_io_methods **)((char *)f + real_vfs->szOsFile);
}

static int fail_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
    if (fail_writes)
        return SQLITE_FULL;
    return (*fail_real_of(f))->xWrite(f, buf, amt, off);
}

static int fail_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    int rc = real_vfs->xOpen(real_vfs, name, f, flags, out);
    if (rc != SQLITE_OK || !f->pMethods)
        return rc;
    for (size_t i = 0; i < sizeof(fail_io) / sizeof(fail_io[0]); i++) {
        if (!fail_io[i].real) {
            fail_io[i].real = f->pMethods;
            fail_io[i].wrapped = *f->pMethods;
            fail_io[i].wrapped.xWrite = fail_write;
        }
        if (fail_io[i].real == f->pMethods) {
            *fail_real_of(f) = f->pMethods;
            f->pMethods = &fail_io[i].wrapped;
            break;
        }
    }
    return rc;
}

static void fail_vfs_install(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    fail_vfs = *real_vfs;
    fail_vfs.zName = "sitegate-test-fail";
    fail_vfs.pNext = NULL;
    fail_vfs.szOsFile = real_vfs->szOsFile + (int)sizeof(void *);
    fail_vfs.xOpen = fail_open;
    sqlite3_vfs_register(&fail_vfs, 1);
}

/* ---- Tests ---- */

TEST(open_close)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *dir = new_dir();
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    ASSERT_EQ(uv_loop_alive(&loop), 0);  /* an idle store keeps nothing running */
    ASSERT_EQ(ro_int(dir, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    ASSERT_EQ(close_all(st, &loop), 0);
    store_close(NULL);
    /* Reopening an existing file migrates nothing and works. */
    uv_loop_init(&loop);
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(append_peek_order)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), 0), 0);
    int64_t seq[8];
    char frame[8][64];
    for (int i = 0; i < 8; i++) {
        snprintf(frame[i], sizeof(frame[i]), "[2,\"m%d\",\"MeterValues\",{\"n\":%d}]", i, i);
        const char *id = i % 3 == 2 ? "CP02" : "CP01";
        ASSERT_EQ(append(st, id, i == 0 ? STORE_TX : STORE_METER, i == 0 ? "StartTransaction"
                         : "MeterValues", i < 4 ? "-1" : "", frame[i], &seq[i]), 0);
        if (i)
            ASSERT(seq[i] > seq[i - 1]);
    }
    struct store_msg m[10];
    size_t n;
    ASSERT_EQ(store_queue_peek(st, "CP01", 10, m, &n), 0);
    ASSERT_EQ(n, 6);  /* 0 1 3 4 6 7 */
    int want[] = { 0, 1, 3, 4, 6, 7 };
    for (size_t i = 0; i < n; i++) {
        int k = want[i];
        ASSERT_EQ(m[i].seq, seq[k]);
        ASSERT_STR_EQ(m[i].identity, "CP01");
        ASSERT_EQ(m[i].len, strlen(frame[k]));
        ASSERT_STR_EQ(m[i].frame, frame[k]);
        ASSERT_EQ(m[i].attempts, 0);
        ASSERT_STR_EQ(m[i].park_reason, "");
        ASSERT(m[i].created_ms > 1600000000000LL);
    }
    ASSERT_EQ(m[0].kind, STORE_TX);
    ASSERT_STR_EQ(m[0].action, "StartTransaction");
    ASSERT_STR_EQ(m[0].tx_local, "-1");
    ASSERT_EQ(m[5].kind, STORE_METER);
    ASSERT_STR_EQ(m[5].tx_local, "");
    for (size_t i = 0; i < n; i++)
        store_msg_free(&m[i]);
    ASSERT_NULL(m[0].frame);
    ASSERT_EQ(store_queue_peek(st, "CP01", 2, m, &n), 0);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(m[1].seq, seq[1]);
    store_msg_free(&m[0]);
    store_msg_free(&m[1]);
    ASSERT_EQ(store_queue_peek(st, "CP09", 2, m, &n), 0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(store_queue_peek(st, "CP01", 0, NULL, &n), 0);

    /* Frames are bytes: an embedded NUL and UTF-8 survive. */
    const char bin[] = "[2,\"x\",\"DataTransfer\",{\"d\":\"\xc3\xa9\"}]\0tail";
    int64_t bseq;
    ASSERT_EQ(store_queue_append(st, "CP03", STORE_OTHER, "DataTransfer", NULL, bin,
                                 sizeof(bin) - 1, &bseq), 0);
    ASSERT_EQ(store_queue_peek(st, "CP03", 1, m, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(m[0].len, sizeof(bin) - 1);
    ASSERT(memcmp(m[0].frame, bin, sizeof(bin) - 1) == 0);
    store_msg_free(&m[0]);

    char ids[4][STORE_IDENTITY_MAX];
    ASSERT_EQ(store_queue_identities(st, ids, 4, &n), 0);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(ids[0], "CP01");
    ASSERT_STR_EQ(ids[1], "CP02");
    ASSERT_STR_EQ(ids[2], "CP03");
    ASSERT_EQ(store_queue_identities(st, ids, 2, &n), 0);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(remove_park_attempted_stats)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), 0), 0);
    int64_t s[4];
    ASSERT_EQ(append(st, "CP01", STORE_TX, "StartTransaction", "-1", "[2,\"a\",\"S\",{}]", &s[0]), 0);
    ASSERT_EQ(append(st, "CP01", STORE_METER, "MeterValues", "-1", "[2,\"b\",\"M\",{}]", &s[1]), 0);
    ASSERT_EQ(append(st, "CP01", STORE_OTHER, "StatusNotification", "", "[2,\"c\",\"N\",{}]", &s[2]), 0);
    ASSERT_EQ(append(st, "CP02", STORE_OTHER, "StatusNotification", "", "[2,\"d\",\"N\",{}]", &s[3]), 0);

    uint64_t depth, bytes, all_bytes;
    int64_t oldest;
    ASSERT_EQ(store_queue_stats(st, "CP01", &depth, &oldest, &bytes), 0);
    ASSERT_EQ(depth, 3);
    ASSERT(oldest > 0);
    /* frame + identity + action + tx_local */
    ASSERT_EQ(bytes, (14 + 4 + 16 + 2) + (14 + 4 + 11 + 2) + (14 + 4 + 18));
    ASSERT_EQ(store_queue_stats(st, NULL, &depth, NULL, &all_bytes), 0);
    ASSERT_EQ(depth, 4);
    ASSERT_EQ(all_bytes, bytes + 14 + 4 + 18);
    ASSERT_EQ(store_queue_bytes(st), all_bytes);

    ASSERT_EQ(store_queue_attempted(st, s[0]), 0);
    ASSERT_EQ(store_queue_attempted(st, s[0]), 0);
    ASSERT_EQ(store_queue_attempted(st, 999), -ENOENT);
    struct store_msg m[4];
    size_t n;
    ASSERT_EQ(store_queue_peek(st, "CP01", 1, m, &n), 0);
    ASSERT_EQ(m[0].attempts, 2);
    store_msg_free(&m[0]);

    ASSERT_EQ(store_queue_remove(st, s[0]), 0);
    ASSERT_EQ(store_queue_remove(st, s[0]), -ENOENT);
    char long_reason[300];
    memset(long_reason, 'r', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    ASSERT_EQ(store_queue_park(st, s[1], "CALLERROR FormationViolation"), 0);
    ASSERT_EQ(store_queue_park(st, s[3], long_reason), 0);
    ASSERT_EQ(store_queue_park(st, 999, "x"), -ENOENT);
    ASSERT_EQ(store_queue_peek(st, "CP01", 4, m, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(m[0].seq, s[2]);
    store_msg_free(&m[0]);
    ASSERT_EQ(store_queue_stats(st, "CP01", &depth, NULL, NULL), 0);
    ASSERT_EQ(depth, 1);
    ASSERT_EQ(store_queue_stats(st, "CP02", &depth, &oldest, &bytes), 0);
    ASSERT_EQ(depth, 0);
    ASSERT_EQ(oldest, 0);
    ASSERT_EQ(bytes, 0);

    /* Listed: per identity, all, and paged by seq. */
    ASSERT_EQ(store_queue_parked(st, "CP01", 0, 4, m, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(m[0].seq, s[1]);
    ASSERT_STR_EQ(m[0].park_reason, "CALLERROR FormationViolation");
    ASSERT_STR_EQ(m[0].frame, "[2,\"b\",\"M\",{}]");
    store_msg_free(&m[0]);
    ASSERT_EQ(store_queue_parked(st, NULL, 0, 4, m, &n), 0);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(m[1].seq, s[3]);
    ASSERT_EQ(strlen(m[1].park_reason), STORE_REASON_MAX - 1);
    store_msg_free(&m[0]);
    store_msg_free(&m[1]);
    ASSERT_EQ(store_queue_parked(st, NULL, s[1], 4, m, &n), 0);
    ASSERT_EQ(n, 1);
    store_msg_free(&m[0]);

    /* CP02 has only a parked message: nothing to replay. */
    char ids[4][STORE_IDENTITY_MAX];
    ASSERT_EQ(store_queue_identities(st, ids, 4, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(ids[0], "CP01");

    /* A parked message goes away with remove. */
    uint64_t before = store_queue_bytes(st);
    ASSERT_EQ(store_queue_remove(st, s[3]), 0);
    ASSERT_EQ(store_queue_bytes(st), before - (14 + 4 + 18));
    ASSERT_EQ(store_queue_parked(st, NULL, 0, 4, m, &n), 0);
    ASSERT_EQ(n, 1);
    store_msg_free(&m[0]);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(group_commit_callbacks)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *dir = new_dir();
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    reset_calls();
    ASSERT_EQ(append(st, "CP01", STORE_TX, "StartTransaction", "-1", "[2,\"1\",\"S\",{}]", NULL), 0);
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)1), 0);
    ASSERT_EQ(append(st, "CP02", STORE_TX, "StartTransaction", "-1", "[2,\"2\",\"S\",{}]", NULL), 0);
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)2), 0);
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)3), 0);
    /* Nothing called, nothing visible to another connection yet; the store
     * itself reads its own writes. */
    ASSERT_EQ(n_calls, 0);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 0);
    uint64_t depth;
    ASSERT_EQ(store_queue_stats(st, NULL, &depth, NULL, NULL), 0);
    ASSERT_EQ(depth, 2);
    ASSERT(uv_loop_alive(&loop));
    uint64_t commits = st->commits;

    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(n_calls, 3);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(calls[i], i + 1);
        ASSERT_EQ(call_status[i], 0);
    }
    ASSERT_EQ(st->commits, commits + 1);  /* one commit for the turn */
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 2);
    ASSERT_EQ(uv_loop_alive(&loop), 0);

    /* A callback with nothing pending: the next turn, with the last status. */
    reset_calls();
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)4), 0);
    ASSERT_EQ(n_calls, 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(n_calls, 1);
    ASSERT_EQ(calls[0], 4);
    ASSERT_EQ(call_status[0], 0);

    /* store_flush commits and calls at once. */
    reset_calls();
    ASSERT_EQ(store_kv_put(st, "t", "k", "v"), 0);
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)5), 0);
    ASSERT_EQ(store_flush(st), 0);
    ASSERT_EQ(n_calls, 1);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM kv"), 1);
    ASSERT_EQ(store_flush(st), 0);  /* nothing to do */
    ASSERT_EQ(store_after_commit(st, NULL, NULL), -EINVAL);
    ASSERT_EQ(close_all(st, &loop), 0);
}

/* A callback that writes again and waits for that commit too. */
static struct store *chain_st;

static void on_commit_chain(void *arg, int status)
{
    on_commit(arg, status);
    if ((intptr_t)arg < 3) {
        append(chain_st, "CP01", STORE_OTHER, "StatusNotification", "", "[2,\"c\",\"N\",{}]", NULL);
        store_after_commit(chain_st, on_commit_chain, (void *)((intptr_t)arg + 1));
    }
}

TEST(callbacks_that_write)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), 0), 0);
    chain_st = st;
    reset_calls();
    ASSERT_EQ(append(st, "CP01", STORE_OTHER, "StatusNotification", "", "[2,\"c\",\"N\",{}]", NULL), 0);
    ASSERT_EQ(store_after_commit(st, on_commit_chain, (void *)1), 0);
    uint64_t commits = st->commits;
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(n_calls, 1);  /* the next write waits for the next turn */
    uv_run(&loop, UV_RUN_DEFAULT);  /* returns once nothing is pending */
    ASSERT_EQ(n_calls, 3);
    ASSERT_EQ(calls[2], 3);
    ASSERT_EQ(st->commits, commits + 3);
    uint64_t depth;
    ASSERT_EQ(store_queue_stats(st, "CP01", &depth, NULL, NULL), 0);
    ASSERT_EQ(depth, 3);
    ASSERT_EQ(close_all(st, &loop), 0);
}

/* A write from another prepare callback that runs after the store's: the
 * loop must not block in its poll with that commit due. */
static struct store *late_st;

static void on_late_prepare(uv_prepare_t *h)
{
    uv_prepare_stop(h);
    append(late_st, "CP01", STORE_OTHER, "StatusNotification", "", "[2,\"l\",\"N\",{}]", NULL);
    store_after_commit(late_st, on_commit, (void *)7);
}

static void on_long_timer(uv_timer_t *t)
{
    (void)t;
}

TEST(write_from_a_later_prepare_does_not_wait_for_io)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), 0), 0);
    late_st = st;
    reset_calls();
    /* libuv runs the prepare handles started last first: the store's, then
     * this one, which writes... */
    uv_prepare_t late;
    uv_prepare_init(&loop, &late);
    uv_prepare_start(&late, on_late_prepare);
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)6), 0);
    uv_timer_t timer;  /* ...and the loop would otherwise sleep 10 s */
    uv_timer_init(&loop, &timer);
    uv_timer_start(&timer, on_long_timer, 10000, 0);
    uint64_t t0 = uv_hrtime();
    uv_run(&loop, UV_RUN_ONCE);  /* 6 called; the late write begins */
    ASSERT_EQ(n_calls, 1);
    uv_run(&loop, UV_RUN_ONCE);  /* does not sleep: commits, calls 7 */
    ASSERT((uv_hrtime() - t0) / 1000000 < 2000);
    ASSERT_EQ(n_calls, 2);
    ASSERT_EQ(calls[1], 7);
    uv_close((uv_handle_t *)&late, NULL);
    uv_close((uv_handle_t *)&timer, NULL);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(early_commit_at_the_callback_cap)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *dir = new_dir();
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    st->max_callbacks = 4;
    reset_calls();
    for (int i = 0; i < 10; i++) {
        ASSERT_EQ(append(st, "CP01", STORE_OTHER, "StatusNotification", "", "[2,\"c\",\"N\",{}]",
                         NULL), 0);
        ASSERT_EQ(store_after_commit(st, on_commit, (void *)(intptr_t)i), 0);
    }
    ASSERT_EQ(st->early_commits, 2);
    ASSERT_EQ(n_calls, 0);  /* committed, but called from the loop */
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 8);
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(n_calls, 10);
    for (int i = 0; i < 10; i++) {
        ASSERT_EQ(calls[i], i);
        ASSERT_EQ(call_status[i], 0);
    }
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 10);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(removals_commit_without_fsync)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *dir = new_dir();
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    int64_t s[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(append(st, "CP01", STORE_METER, "MeterValues", "", "[2,\"m\",\"M\",{}]", &s[i]), 0);
    ASSERT_EQ(store_flush(st), 0);
    uint64_t commits = st->commits, lazy = st->lazy_commits;

    /* Only removals: a lazy commit. */
    ASSERT_EQ(store_queue_remove(st, s[0]), 0);
    ASSERT_EQ(store_queue_attempted(st, s[1]), 0);
    ASSERT(st->in_tx && !st->tx_durable);
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(st->lazy_commits, lazy + 1);
    ASSERT_EQ(st->commits, commits);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 3);
    ASSERT(!st->sync_full);

    /* A removal then an append: the removal is committed, the append starts
     * a durable transaction. */
    ASSERT_EQ(store_queue_remove(st, s[1]), 0);
    ASSERT_EQ(append(st, "CP01", STORE_TX, "StopTransaction", "", "[2,\"s\",\"T\",{}]", NULL), 0);
    ASSERT(st->in_tx && st->tx_durable);
    ASSERT_EQ(st->lazy_commits, lazy + 2);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 2);
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(st->commits, commits + 1);

    /* A removal whose caller waits for durability: a durable commit. */
    reset_calls();
    ASSERT_EQ(store_queue_remove(st, s[2]), 0);
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)1), 0);
    ASSERT(st->tx_durable);
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(n_calls, 1);
    ASSERT_EQ(call_status[0], 0);
    ASSERT_EQ(st->commits, commits + 2);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 2);
    ASSERT_EQ(close_all(st, &loop), 0);
}

/* A MeterValues frame of about 200 bytes (+ 4 + 11 + tx). */
static int append_meter(struct store *st, const char *id, const char *tx, int n, int64_t *seq)
{
    char f[256];
    snprintf(f, sizeof(f), "[2,\"mv%06d\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":%s,"
             "\"meterValue\":[{\"timestamp\":\"2024-05-01T10:00:00Z\",\"sampledValue\":[{"
             "\"value\":\"%08d\",\"measurand\":\"Energy.Active.Import.Register\"}]}]}]",
             n, tx[0] ? tx : "0", n);
    return store_queue_append(st, id, STORE_METER, "MeterValues", tx, f, strlen(f), seq);
}

TEST(thinning_keeps_transactions_and_their_first_and_last_meter)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    const uint64_t budget = 6000;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), budget), 0);
    enum { N = 40 };
    int64_t seq[4 * N + 8];
    int kind[4 * N + 8];
    int ns = 0;
    capture_start();
    /* Two transactions on CP01 and one on CP02, meter values interleaved,
     * and meter values outside any transaction. */
    ASSERT_EQ(append(st, "CP01", STORE_TX, "StartTransaction", "-1", "[2,\"s1\",\"Start\",{}]",
                     &seq[ns]), 0);
    kind[ns++] = 'S';
    ASSERT_EQ(append(st, "CP02", STORE_TX, "StartTransaction", "-1", "[2,\"s2\",\"Start\",{}]",
                     &seq[ns]), 0);
    kind[ns++] = 'S';
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(append_meter(st, "CP01", "-1", i, &seq[ns]), 0);
        kind[ns++] = 'a';
        ASSERT_EQ(append_meter(st, "CP02", "-1", i, &seq[ns]), 0);
        kind[ns++] = 'b';
        ASSERT_EQ(append_meter(st, "CP01", "", i, &seq[ns]), 0);
        kind[ns++] = 'n';
        if (i == N / 2) {
            ASSERT_EQ(append(st, "CP01", STORE_TX, "StopTransaction", "-1",
                             "[2,\"e1\",\"Stop\",{}]", &seq[ns]), 0);
            kind[ns++] = 'E';
            ASSERT_EQ(append(st, "CP01", STORE_TX, "StartTransaction", "-2",
                             "[2,\"s3\",\"Start\",{}]", &seq[ns]), 0);
            kind[ns++] = 'S';
        }
        if (i > N / 2) {
            ASSERT_EQ(append_meter(st, "CP01", "-2", i, &seq[ns]), 0);
            kind[ns++] = 'c';
        }
    }
    ASSERT_EQ(store_flush(st), 0);
    char *log = capture_end();
    ASSERT(store_thinned(st) > 0);
    ASSERT(count_of(log, "warn store: queue over its budget, thinned meter values dropped=") >= 1);
    /* One line per pass (each pass takes the queue to 90 % of the budget:
     * here 3 or 4 meter values, in a real budget thousands). */
    ASSERT(count_of(log, "thinned meter values") <= (int)store_thinned(st) / 3);
    ASSERT_LE(store_queue_bytes(st), budget);

    /* What is left, by seq. */
    struct store_msg m[4 * N + 8];
    size_t n1, n2;
    ASSERT_EQ(store_queue_peek(st, "CP01", 4 * N + 8, m, &n1), 0);
    ASSERT_EQ(store_queue_peek(st, "CP02", 4 * N + 8 - n1, m + n1, &n2), 0);
    size_t n = n1 + n2;
    bool present[4 * N + 8] = { false };
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < ns; k++)
            if (seq[k] == m[i].seq)
                present[k] = true;
        store_msg_free(&m[i]);
    }
    ASSERT_EQ((uint64_t)(ns - (int)n), store_thinned(st));
    int first_a = -1, last_a = -1, first_b = -1, last_b = -1, first_c = -1, last_c = -1;
    for (int k = 0; k < ns; k++) {
        if (kind[k] == 'S' || kind[k] == 'E')
            ASSERT(present[k]);  /* transaction messages are never dropped */
        int *f = kind[k] == 'a' ? &first_a : kind[k] == 'b' ? &first_b
                 : kind[k] == 'c' ? &first_c : NULL;
        int *l = kind[k] == 'a' ? &last_a : kind[k] == 'b' ? &last_b
                 : kind[k] == 'c' ? &last_c : NULL;
        if (f) {
            if (*f < 0)
                *f = k;
            *l = k;
        }
    }
    ASSERT(present[first_a] && present[last_a]);
    ASSERT(present[first_b] && present[last_b]);
    ASSERT(present[first_c] && present[last_c]);
    /* Oldest first: the newest meter values outside a transaction are kept. */
    int kept_n = 0, dropped_n = 0;
    for (int k = 0; k < ns; k++) {
        if (kind[k] == 'n')
            present[k] ? kept_n++ : dropped_n++;
    }
    ASSERT(dropped_n > 0);
    ASSERT(kept_n > 0);
    int newest_n = ns - 1;
    while (kind[newest_n] != 'n')
        newest_n--;
    ASSERT(present[newest_n]);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(over_budget_with_only_transactions_keeps_everything)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), 300), 0);
    capture_start();
    for (int i = 0; i < 20; i++)
        ASSERT_EQ(append(st, "CP01", i % 2 ? STORE_TX : STORE_OTHER, "StopTransaction", "-1",
                         "[2,\"x\",\"StopTransaction\",{\"transactionId\":-1}]", NULL), 0);
    /* Over the budget, nothing thinnable: the meter values that come now
     * are thinned one by one as they arrive. The first and the last of the
     * transaction stay; one outside a transaction goes at once. */
    int64_t s[5], lone;
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(append_meter(st, "CP01", "-1", i, &s[i]), 0);
    ASSERT_EQ(append_meter(st, "CP01", "", 9, &lone), 0);
    ASSERT_EQ(store_flush(st), 0);
    char *log = capture_end();
    ASSERT_EQ(count_of(log, "queue over its budget with no meter value left to thin"), 1);
    ASSERT_EQ(store_thinned(st), 4);
    uint64_t depth;
    ASSERT_EQ(store_queue_stats(st, "CP01", &depth, NULL, NULL), 0);
    ASSERT_EQ(depth, 22);
    struct store_msg m[30];
    size_t n;
    ASSERT_EQ(store_queue_peek(st, "CP01", 30, m, &n), 0);
    ASSERT_EQ(n, 22);
    ASSERT_EQ(m[20].seq, s[0]);
    ASSERT_EQ(m[21].seq, s[4]);
    for (size_t i = 0; i < n; i++)
        store_msg_free(&m[i]);

    /* Back under the budget, then over it again: one more line. */
    ASSERT_EQ(store_queue_peek(st, "CP01", 30, m, &n), 0);
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(store_queue_remove(st, m[i].seq), 0);
        store_msg_free(&m[i]);
    }
    ASSERT_EQ(store_queue_bytes(st), 0);
    capture_start();
    for (int i = 0; i < 20; i++)
        ASSERT_EQ(append(st, "CP01", STORE_TX, "StopTransaction", "-1",
                         "[2,\"x\",\"StopTransaction\",{\"transactionId\":-1}]", NULL), 0);
    log = capture_end();
    ASSERT_EQ(count_of(log, "queue over its budget with no meter value left to thin"), 1);
    ASSERT_EQ(store_thinned(st), 4);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(transaction_map)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), 0), 0);
    char buf[STORE_TX_MAX];
    ASSERT_EQ(store_tx_get_real(st, "CP01", "-1", buf, sizeof(buf)), -ENOENT);
    ASSERT_EQ(store_tx_put(st, "CP01", "-1", NULL, 1), 0);
    ASSERT_EQ(store_tx_get_real(st, "CP01", "-1", buf, sizeof(buf)), 0);
    ASSERT_STR_EQ(buf, "");
    ASSERT_EQ(store_tx_get_local(st, "CP01", "", buf, sizeof(buf)), -EINVAL);
    ASSERT_EQ(store_tx_put(st, "CP01", "-1", "4711", 1), 0);
    ASSERT_EQ(store_tx_put(st, "CP02", "-1", "99", 2), 0);
    ASSERT_EQ(store_tx_get_real(st, "CP01", "-1", buf, sizeof(buf)), 0);
    ASSERT_STR_EQ(buf, "4711");
    ASSERT_EQ(store_tx_get_local(st, "CP01", "4711", buf, sizeof(buf)), 0);
    ASSERT_STR_EQ(buf, "-1");
    ASSERT_EQ(store_tx_get_local(st, "CP01", "99", buf, sizeof(buf)), -ENOENT);
    /* Not known (NULL) does not forget a known real id. */
    ASSERT_EQ(store_tx_put(st, "CP01", "-1", NULL, 1), 0);
    ASSERT_EQ(store_tx_get_real(st, "CP01", "-1", buf, sizeof(buf)), 0);
    ASSERT_STR_EQ(buf, "4711");
    char small[3];
    ASSERT_EQ(store_tx_get_real(st, "CP01", "-1", small, sizeof(small)), -ENOBUFS);
    ASSERT_EQ(store_tx_end(st, "CP01", "-1"), 0);
    ASSERT_EQ(store_tx_end(st, "CP01", "-1"), -ENOENT);
    ASSERT_EQ(store_tx_get_real(st, "CP01", "-1", buf, sizeof(buf)), -ENOENT);
    ASSERT_EQ(store_tx_get_real(st, "CP02", "-1", buf, sizeof(buf)), 0);
    ASSERT_STR_EQ(buf, "99");
    ASSERT_EQ(store_tx_put(st, "CP01", "", "1", 1), -EINVAL);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(local_tx_ids_are_negative_and_never_reused)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *dir = new_dir();
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    int64_t id;
    for (int i = 1; i <= 3; i++) {
        ASSERT_EQ(store_next_local_tx(st, &id), 0);
        ASSERT_EQ(id, -i);
    }
    ASSERT_EQ(close_all(st, &loop), 0);
    uv_loop_init(&loop);
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    ASSERT_EQ(store_next_local_tx(st, &id), 0);
    ASSERT_EQ(id, -4);
    /* Within int32: after the smallest, -1 again (with a warning). */
    ASSERT_EQ(sqlite3_exec(st->db, "UPDATE meta SET value = -2147483648"
                           " WHERE key = 'next_local_tx'", NULL, NULL, NULL), SQLITE_OK);
    ASSERT_EQ(store_next_local_tx(st, &id), 0);
    ASSERT_EQ(id, INT32_MIN);
    ASSERT_EQ(store_next_local_tx(st, &id), 0);
    ASSERT_EQ(id, -1);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(local_list_full_and_differential)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), 0), 0);
    int version;
    ASSERT_EQ(store_local_list_version(st, "CP01", &version), -ENOENT);
    ASSERT_EQ(version, 0);

    const char *tags1[] = { "AA01", "BB02", "CC03", "DD04" };
    enum store_auth_status s1[] = { STORE_AUTH_ACCEPTED, STORE_AUTH_BLOCKED, STORE_AUTH_ACCEPTED,
                                    STORE_AUTH_REMOVE };
    int64_t e1[] = { 0, 1700000000, 1800000000, 0 };
    const char *p1[] = { NULL, "GROUP1", NULL, NULL };
    ASSERT_EQ(store_local_list_set(st, "CP01", 1, true, tags1, s1, e1, p1, 4), 0);
    ASSERT_EQ(store_local_list_version(st, "CP01", &version), 0);
    ASSERT_EQ(version, 1);
    enum store_auth_status status;
    int64_t expiry;
    ASSERT_EQ(store_local_list_get(st, "CP01", "aa01", &status, &expiry), 0);  /* any case */
    ASSERT_EQ(status, STORE_AUTH_ACCEPTED);
    ASSERT_EQ(expiry, 0);
    ASSERT_EQ(store_local_list_get(st, "CP01", "BB02", &status, &expiry), 0);
    ASSERT_EQ(status, STORE_AUTH_BLOCKED);
    ASSERT_EQ(expiry, 1700000000);
    ASSERT_EQ(store_local_list_get(st, "CP01", "DD04", &status, NULL), -ENOENT);  /* Full skips */
    ASSERT_EQ(store_local_list_get(st, "CP02", "AA01", &status, NULL), -ENOENT);  /* per identity */

    /* Differential: update one, remove one, add one. */
    const char *tags2[] = { "BB02", "CC03", "EE05" };
    enum store_auth_status s2[] = { STORE_AUTH_ACCEPTED, STORE_AUTH_REMOVE, STORE_AUTH_EXPIRED };
    ASSERT_EQ(store_local_list_set(st, "CP01", 2, false, tags2, s2, NULL, NULL, 3), 0);
    ASSERT_EQ(store_local_list_version(st, "CP01", &version), 0);
    ASSERT_EQ(version, 2);
    ASSERT_EQ(store_local_list_get(st, "CP01", "BB02", &status, &expiry), 0);
    ASSERT_EQ(status, STORE_AUTH_ACCEPTED);
    ASSERT_EQ(expiry, 0);
    ASSERT_EQ(store_local_list_get(st, "CP01", "CC03", &status, NULL), -ENOENT);
    ASSERT_EQ(store_local_list_get(st, "CP01", "EE05", &status, NULL), 0);
    ASSERT_EQ(status, STORE_AUTH_EXPIRED);
    ASSERT_EQ(store_local_list_get(st, "CP01", "AA01", &status, NULL), 0);

    /* Full replaces everything; an empty Full empties the list. */
    const char *tags3[] = { "FF06" };
    enum store_auth_status s3[] = { STORE_AUTH_ACCEPTED };
    ASSERT_EQ(store_local_list_set(st, "CP01", 3, true, tags3, s3, NULL, NULL, 1), 0);
    ASSERT_EQ(store_local_list_get(st, "CP01", "AA01", &status, NULL), -ENOENT);
    ASSERT_EQ(store_local_list_get(st, "CP01", "FF06", &status, NULL), 0);
    ASSERT_EQ(store_local_list_set(st, "CP01", 0, true, NULL, NULL, NULL, NULL, 0), 0);
    ASSERT_EQ(store_local_list_get(st, "CP01", "FF06", &status, NULL), -ENOENT);
    ASSERT_EQ(store_local_list_version(st, "CP01", &version), 0);
    ASSERT_EQ(version, 0);

    /* A bad entry changes nothing. */
    const char *tags4[] = { "GG07", "" };
    enum store_auth_status s4[] = { STORE_AUTH_ACCEPTED, STORE_AUTH_ACCEPTED };
    ASSERT_EQ(store_local_list_set(st, "CP01", 4, false, tags4, s4, NULL, NULL, 2), -EINVAL);
    ASSERT_EQ(store_local_list_get(st, "CP01", "GG07", &status, NULL), -ENOENT);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(auth_cache)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), 0), 0);
    enum store_auth_status status;
    ASSERT_EQ(store_auth_cache_get(st, "TAG1", 100, &status), -ENOENT);
    ASSERT_EQ(store_auth_cache_put(st, "TAG1", STORE_AUTH_ACCEPTED, 1000), 0);
    ASSERT(st->in_tx && !st->tx_durable);  /* a cache: no fsync of its own */
    ASSERT_EQ(store_auth_cache_put(st, "TAG2", STORE_AUTH_BLOCKED, 0), 0);
    ASSERT_EQ(store_auth_cache_get(st, "TAG1", 999, &status), 0);
    ASSERT_EQ(status, STORE_AUTH_ACCEPTED);
    ASSERT_EQ(store_auth_cache_get(st, "tag1", 1000, &status), 0);
    ASSERT_EQ(status, STORE_AUTH_EXPIRED);
    ASSERT_EQ(store_auth_cache_get(st, "TAG2", INT64_MAX, &status), 0);  /* 0: never expires */
    ASSERT_EQ(status, STORE_AUTH_BLOCKED);
    /* A new answer replaces the old one. */
    ASSERT_EQ(store_auth_cache_put(st, "Tag1", STORE_AUTH_ACCEPTED, 5000), 0);
    ASSERT_EQ(store_auth_cache_get(st, "TAG1", 1000, &status), 0);
    ASSERT_EQ(status, STORE_AUTH_ACCEPTED);
    ASSERT_EQ(st->auth_count, 2);
    ASSERT_EQ(store_auth_cache_put(st, "TAG3", STORE_AUTH_REMOVE, 0), -EINVAL);

    /* The same verdict again, its expiry moved by under a minute: no write. */
    ASSERT_EQ(store_flush(st), 0);
    ASSERT_EQ(store_auth_cache_put(st, "TAG1", STORE_AUTH_ACCEPTED, 5059), 0);
    ASSERT(!st->in_tx);
    ASSERT_EQ(store_auth_cache_put(st, "TAG2", STORE_AUTH_BLOCKED, 0), 0);
    ASSERT(!st->in_tx);
    ASSERT_EQ(store_auth_cache_get(st, "TAG1", 5000, &status), 0);
    ASSERT_EQ(status, STORE_AUTH_EXPIRED);          /* the expiry kept is 5000 */
    ASSERT_EQ(store_auth_cache_put(st, "TAG1", STORE_AUTH_ACCEPTED, 5060), 0);
    ASSERT(st->in_tx);
    ASSERT_EQ(store_auth_cache_get(st, "TAG1", 5000, &status), 0);
    ASSERT_EQ(status, STORE_AUTH_ACCEPTED);
    ASSERT_EQ(store_auth_cache_put(st, "TAG1", STORE_AUTH_BLOCKED, 5060), 0);  /* a new verdict */
    ASSERT_EQ(store_auth_cache_get(st, "TAG1", 5000, &status), 0);
    ASSERT_EQ(status, STORE_AUTH_BLOCKED);
    ASSERT_EQ(store_auth_cache_put(st, "TAG1", STORE_AUTH_BLOCKED, 1000), 0);  /* shorter: written */
    ASSERT_EQ(store_auth_cache_get(st, "TAG1", 1000, &status), 0);
    ASSERT_EQ(status, STORE_AUTH_EXPIRED);
    ASSERT_EQ(store_auth_cache_put(st, "TAG1", STORE_AUTH_BLOCKED, 0), 0);     /* never expires */
    ASSERT_EQ(store_auth_cache_get(st, "TAG1", INT64_MAX, &status), 0);
    ASSERT_EQ(status, STORE_AUTH_BLOCKED);

    /* Bounded: the entries put longest ago go first. */
    char tag[32];
    for (int i = 0; i < STORE_AUTH_CACHE_MAX; i++) {
        snprintf(tag, sizeof(tag), "BULK%05d", i);
        ASSERT_EQ(store_auth_cache_put(st, tag, STORE_AUTH_ACCEPTED, 0), 0);
    }
    ASSERT_EQ(st->auth_count, STORE_AUTH_CACHE_MAX);
    ASSERT_EQ(store_auth_cache_get(st, "TAG2", 0, &status), -ENOENT);
    ASSERT_EQ(store_auth_cache_get(st, "TAG1", 0, &status), -ENOENT);
    ASSERT_EQ(store_auth_cache_get(st, "BULK00000", 0, &status), 0);
    ASSERT_EQ(store_flush(st), 0);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(kv)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), 0), 0);
    char *v;
    ASSERT_EQ(store_kv_get(st, "aggregate", "CP01/1", &v), -ENOENT);
    ASSERT_NULL(v);
    ASSERT_EQ(store_kv_put(st, "aggregate", "CP01/1", "3"), 0);
    ASSERT_EQ(store_kv_put(st, "dr", "CP01/1", "{\"event\":\"e1\"}"), 0);
    ASSERT_EQ(store_kv_get(st, "aggregate", "CP01/1", &v), 0);
    ASSERT_STR_EQ(v, "3");
    free(v);
    ASSERT_EQ(store_kv_put(st, "aggregate", "CP01/1", ""), 0);
    ASSERT_EQ(store_kv_get(st, "aggregate", "CP01/1", &v), 0);
    ASSERT_STR_EQ(v, "");
    free(v);
    ASSERT_EQ(store_kv_delete(st, "aggregate", "CP01/1"), 0);
    ASSERT_EQ(store_kv_delete(st, "aggregate", "CP01/1"), -ENOENT);
    ASSERT_EQ(store_kv_get(st, "dr", "CP01/1", &v), 0);
    ASSERT_STR_EQ(v, "{\"event\":\"e1\"}");
    free(v);
    ASSERT_EQ(store_kv_put(st, "", "k", "v"), -EINVAL);
    ASSERT_EQ(store_kv_put(st, "n", "k", NULL), -EINVAL);

    /* By value: the other keys holding it go, in that namespace only. */
    ASSERT_EQ(store_kv_put(st, "tx", "41", "2/CP02"), 0);
    ASSERT_EQ(store_kv_put(st, "tx", "42", "2/CP02"), 0);
    ASSERT_EQ(store_kv_put(st, "tx", "43", "1/CP02"), 0);
    ASSERT_EQ(store_kv_put(st, "other", "40", "2/CP02"), 0);
    ASSERT_EQ(store_kv_put(st, "tx", "44", "2/CP02"), 0);
    ASSERT_EQ(store_kv_delete_value(st, "tx", "2/CP02", "44"), 2);
    ASSERT_EQ(store_kv_get(st, "tx", "41", &v), -ENOENT);
    ASSERT_EQ(store_kv_get(st, "tx", "44", &v), 0);
    free(v);
    ASSERT_EQ(store_kv_get(st, "tx", "43", &v), 0);
    free(v);
    ASSERT_EQ(store_kv_get(st, "other", "40", &v), 0);
    free(v);
    ASSERT_EQ(store_kv_delete_value(st, "tx", "2/CP02", "44"), 0);
    ASSERT_EQ(store_kv_delete_value(st, "tx", NULL, "44"), -EINVAL);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(reopen_keeps_everything)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *dir = new_dir();
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    int64_t s1, s2, s3;
    ASSERT_EQ(append(st, "CP01", STORE_TX, "StartTransaction", "-1", "[2,\"1\",\"S\",{}]", &s1), 0);
    ASSERT_EQ(append(st, "CP01", STORE_METER, "MeterValues", "-1", "[2,\"2\",\"M\",{}]", &s2), 0);
    ASSERT_EQ(append(st, "CP01", STORE_OTHER, "DataTransfer", "", "[2,\"3\",\"D\",{}]", &s3), 0);
    ASSERT_EQ(store_queue_park(st, s3, "rejected"), 0);
    ASSERT_EQ(store_queue_attempted(st, s1), 0);
    ASSERT_EQ(store_tx_put(st, "CP01", "-1", "77", 2), 0);
    const char *tags[] = { "AA01" };
    enum store_auth_status ls[] = { STORE_AUTH_BLOCKED };
    ASSERT_EQ(store_local_list_set(st, "CP01", 7, true, tags, ls, NULL, NULL, 1), 0);
    ASSERT_EQ(store_auth_cache_put(st, "TAG1", STORE_AUTH_ACCEPTED, 123), 0);
    ASSERT_EQ(store_kv_put(st, "ns", "key", "value"), 0);
    int64_t id;
    ASSERT_EQ(store_next_local_tx(st, &id), 0);
    uint64_t bytes = store_queue_bytes(st);
    ASSERT_EQ(close_all(st, &loop), 0);  /* close commits */

    uv_loop_init(&loop);
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    ASSERT_EQ(store_queue_bytes(st), bytes);
    struct store_msg m[4];
    size_t n;
    ASSERT_EQ(store_queue_peek(st, "CP01", 4, m, &n), 0);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(m[0].seq, s1);
    ASSERT_EQ(m[0].attempts, 1);
    ASSERT_STR_EQ(m[1].frame, "[2,\"2\",\"M\",{}]");
    ASSERT_STR_EQ(m[1].tx_local, "-1");
    store_msg_free(&m[0]);
    store_msg_free(&m[1]);
    ASSERT_EQ(store_queue_parked(st, "CP01", 0, 4, m, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(m[0].park_reason, "rejected");
    store_msg_free(&m[0]);
    char buf[STORE_TX_MAX];
    ASSERT_EQ(store_tx_get_local(st, "CP01", "77", buf, sizeof(buf)), 0);
    ASSERT_STR_EQ(buf, "-1");
    int version;
    ASSERT_EQ(store_local_list_version(st, "CP01", &version), 0);
    ASSERT_EQ(version, 7);
    enum store_auth_status status;
    ASSERT_EQ(store_local_list_get(st, "CP01", "AA01", &status, NULL), 0);
    ASSERT_EQ(status, STORE_AUTH_BLOCKED);
    ASSERT_EQ(store_auth_cache_get(st, "TAG1", 100, &status), 0);
    ASSERT_EQ(status, STORE_AUTH_ACCEPTED);
    ASSERT_EQ(st->auth_count, 1);
    char *v;
    ASSERT_EQ(store_kv_get(st, "ns", "key", &v), 0);
    ASSERT_STR_EQ(v, "value");
    free(v);
    ASSERT_EQ(store_next_local_tx(st, &id), 0);
    ASSERT_EQ(id, -2);
    /* A seq is never reused, even once the queue is empty. */
    ASSERT_EQ(store_queue_remove(st, s1), 0);
    ASSERT_EQ(store_queue_remove(st, s2), 0);
    ASSERT_EQ(store_queue_remove(st, s3), 0);
    ASSERT_EQ(close_all(st, &loop), 0);
    uv_loop_init(&loop);
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    int64_t s4;
    ASSERT_EQ(append(st, "CP01", STORE_OTHER, "Heartbeat", "", "[2,\"4\",\"H\",{}]", &s4), 0);
    ASSERT(s4 > s3);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(invalid_arguments)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, new_dir(), 0), 0);
    char id49[50];
    memset(id49, 'C', 49);
    id49[49] = '\0';
    const char *f = "[2,\"1\",\"H\",{}]";
    ASSERT_EQ(append(st, id49, STORE_OTHER, "Heartbeat", "", f, NULL), -EINVAL);
    id49[48] = '\0';  /* 48 characters is the most */
    ASSERT_EQ(append(st, id49, STORE_OTHER, "Heartbeat", "", f, NULL), 0);
    ASSERT_EQ(append(st, "", STORE_OTHER, "Heartbeat", "", f, NULL), -EINVAL);
    ASSERT_EQ(append(st, "CP01", (enum store_kind)7, "Heartbeat", "", f, NULL), -EINVAL);
    ASSERT_EQ(append(st, "CP01", STORE_OTHER, "", "", f, NULL), -EINVAL);
    ASSERT_EQ(store_queue_append(st, "CP01", STORE_OTHER, "Heartbeat", "", f, 0, NULL), -EINVAL);
    ASSERT_EQ(store_queue_append(st, "CP01", STORE_OTHER, "Heartbeat", "", NULL, 3, NULL), -EINVAL);
    struct store_msg m;
    size_t n;
    ASSERT_EQ(store_queue_peek(st, NULL, 1, &m, &n), -EINVAL);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(second_open_is_refused)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *dir = new_dir();
    struct store *st, *st2 = (struct store *)&loop;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    ASSERT_EQ(store_open(&st2, &loop, dir, 0), -EBUSY);
    ASSERT_NULL(st2);
    ASSERT_EQ(close_all(st, &loop), 0);
    uv_loop_init(&loop);
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);  /* free again after close */
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(unwritable_state_dir)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st = (struct store *)&loop;
    /* Below a regular file. */
    char file[128], below[160];
    snprintf(file, sizeof(file), "%s/a-file", tmp_root);
    FILE *fp = fopen(file, "w");
    ASSERT_NOT_NULL(fp);
    fclose(fp);
    snprintf(below, sizeof(below), "%s/state", file);
    ASSERT_EQ(store_open(&st, &loop, below, 0), -ENOTDIR);
    ASSERT_NULL(st);
    /* A directory we may not write: root may write anywhere but /sys. */
    const char *ro = "/sys";
    if (geteuid() != 0) {
        ro = new_dir();
        ASSERT_EQ(mkdir(ro, 0500), 0);
    }
    int r = store_open(&st, &loop, ro, 0);
    ASSERT(r == -EACCES || r == -EPERM || r == -EROFS);
    ASSERT_NULL(st);
    ASSERT_EQ(store_open(&st, &loop, "", 0), -EINVAL);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST(corrupt_database)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    /* Not a database at all. */
    const char *dir = new_dir();
    ASSERT_EQ(mkdir(dir, 0700), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/sitegate.db", dir);
    FILE *fp = fopen(path, "w");
    ASSERT_NOT_NULL(fp);
    for (int i = 0; i < 8192; i++)
        fputc((i * 7919 + 13) & 0xff, fp);
    fclose(fp);
    struct store *st = (struct store *)&loop;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), -EIO);
    ASSERT_NULL(st);

    /* A database whose pages were overwritten: open may work, the reads
     * fail with -EIO, nothing crashes. */
    dir = new_dir();
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    char f[1024];
    memset(f, 'x', sizeof(f) - 1);
    f[sizeof(f) - 1] = '\0';
    for (int i = 0; i < 200; i++)
        ASSERT_EQ(append(st, "CP01", STORE_METER, "MeterValues", "", f, NULL), 0);
    ASSERT_EQ(close_all(st, &loop), 0);
    snprintf(path, sizeof(path), "%s/sitegate.db", dir);
    int fd = open(path, O_WRONLY);
    ASSERT(fd >= 0);
    char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 31 + 7);
    for (int page = 2; page < 60; page++)
        ASSERT_EQ(pwrite(fd, junk, sizeof(junk), (off_t)page * 4096), (ssize_t)sizeof(junk));
    close(fd);
    uv_loop_init(&loop);
    int r = store_open(&st, &loop, dir, 0);
    if (r == 0) {
        struct store_msg m[300];
        size_t n;
        r = store_queue_peek(st, "CP01", 300, m, &n);
        for (size_t i = 0; i < n; i++)
            store_msg_free(&m[i]);
        ASSERT_EQ(r, -EIO);
        store_close(st);
        uv_run(&loop, UV_RUN_DEFAULT);
    } else {
        ASSERT_EQ(r, -EIO);
    }
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST(newer_schema_is_refused)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *dir = new_dir();
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    ASSERT_EQ(sqlite3_exec(st->db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    ASSERT_EQ(close_all(st, &loop), 0);
    uv_loop_init(&loop);
    ASSERT_EQ(store_open(&st, &loop, dir, 0), -ENOTSUP);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST(disk_full)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    const char *dir = new_dir();
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    /* The file may not grow past a few pages: like a full disk. */
    ASSERT_EQ(sqlite3_exec(st->db, "PRAGMA max_page_count=12", NULL, NULL, NULL), SQLITE_OK);
    char f[2048];
    memset(f, 'y', sizeof(f) - 1);
    f[sizeof(f) - 1] = '\0';
    reset_calls();
    int r = 0, i;
    for (i = 0; i < 100 && r == 0; i++) {
        r = append(st, "CP01", STORE_METER, "MeterValues", "", f, NULL);
        if (r == 0)
            store_after_commit(st, on_commit, (void *)(intptr_t)i);
    }
    ASSERT_EQ(r, -ENOSPC);
    ASSERT(i > 1);
    uv_run(&loop, UV_RUN_NOWAIT);
    /* Every callback got a status; the writes whose status is 0 are there,
     * in a fresh connection, and the others are not. */
    ASSERT_EQ(n_calls, i - 1);
    long long ok = 0;
    for (int k = 0; k < n_calls; k++)
        if (call_status[k] == 0)
            ok++;
        else
            ASSERT_EQ(call_status[k], -ENOSPC);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), ok);
    uint64_t depth;
    ASSERT_EQ(store_queue_stats(st, NULL, &depth, NULL, NULL), 0);
    ASSERT_EQ((long long)depth, ok);
    ASSERT_EQ(store_queue_bytes(st), (uint64_t)ok * (2047 + 4 + 11));
    /* Space again: the store goes on. */
    ASSERT_EQ(sqlite3_exec(st->db, "PRAGMA max_page_count=100000", NULL, NULL, NULL), SQLITE_OK);
    ASSERT_EQ(append(st, "CP01", STORE_METER, "MeterValues", "", f, NULL), 0);
    ASSERT_EQ(store_flush(st), 0);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), ok + 1);
    ASSERT_EQ(close_all(st, &loop), 0);
}

TEST(failed_commit_gives_callbacks_the_error)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct store *st;
    const char *dir = new_dir();
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    int64_t kept;
    ASSERT_EQ(append(st, "CP01", STORE_TX, "StartTransaction", "-1", "[2,\"k\",\"S\",{}]", &kept), 0);
    ASSERT_EQ(store_flush(st), 0);
    reset_calls();
    ASSERT_EQ(append(st, "CP01", STORE_TX, "StopTransaction", "-1", "[2,\"l\",\"T\",{}]", NULL), 0);
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)1), 0);
    ASSERT_EQ(store_tx_put(st, "CP01", "-1", "5", 1), 0);
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)2), 0);
    fail_writes = 1;
    uv_run(&loop, UV_RUN_NOWAIT);
    fail_writes = 0;
    ASSERT_EQ(n_calls, 2);
    ASSERT_EQ(calls[0], 1);
    ASSERT_EQ(call_status[0], -ENOSPC);
    ASSERT_EQ(call_status[1], -ENOSPC);
    /* Rolled back: the store and another reader agree. */
    uint64_t depth;
    ASSERT_EQ(store_queue_stats(st, NULL, &depth, NULL, NULL), 0);
    ASSERT_EQ(depth, 1);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 1);
    char buf[STORE_TX_MAX];
    ASSERT_EQ(store_tx_get_real(st, "CP01", "-1", buf, sizeof(buf)), -ENOENT);
    ASSERT_EQ(store_queue_bytes(st), 14 + 4 + 16 + 2);
    /* A callback with nothing pending after a failed commit: the error. */
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)3), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(call_status[2], -ENOSPC);
    /* And the store goes on. */
    ASSERT_EQ(append(st, "CP01", STORE_TX, "StopTransaction", "-1", "[2,\"l\",\"T\",{}]", NULL), 0);
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)4), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(call_status[3], 0);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 2);

    /* A removal whose commit fails: its caller learns it, the message stays. */
    ASSERT_EQ(store_queue_remove(st, kept), 0);
    fail_writes = 1;
    ASSERT_EQ(store_after_commit(st, on_commit, (void *)5), 0);
    fail_writes = 0;
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(n_calls, 5);
    ASSERT_EQ(call_status[4], -ENOSPC);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 2);
    ASSERT_EQ(store_queue_stats(st, NULL, &depth, NULL, NULL), 0);
    ASSERT_EQ(depth, 2);
    ASSERT_EQ(store_queue_bytes(st), 2 * (14 + 4 + 16 + 2) - 1);
    ASSERT_EQ(close_all(st, &loop), 0);
}

static void on_commit_close(void *arg, int status)
{
    on_commit(arg, status);
    /* Writing from a callback run by store_close is refused. */
    call_status[n_calls - 1] = append(chain_st, "CP01", STORE_OTHER, "Heartbeat", "",
                                      "[2,\"h\",\"H\",{}]", NULL);
}

TEST(close_commits_and_calls_back)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *dir = new_dir();
    struct store *st;
    ASSERT_EQ(store_open(&st, &loop, dir, 0), 0);
    chain_st = st;
    reset_calls();
    ASSERT_EQ(append(st, "CP01", STORE_OTHER, "Heartbeat", "", "[2,\"h\",\"H\",{}]", NULL), 0);
    ASSERT_EQ(store_after_commit(st, on_commit_close, (void *)1), 0);
    store_close(st);
    ASSERT_EQ(n_calls, 1);
    ASSERT_EQ(call_status[0], -ESHUTDOWN);
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    ASSERT_EQ(ro_int(dir, "SELECT count(*) FROM queue"), 1);
}

int main(void)
{
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/sg_test_store_XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    fail_vfs_install();
    RUN(open_close);
    RUN(append_peek_order);
    RUN(remove_park_attempted_stats);
    RUN(group_commit_callbacks);
    RUN(callbacks_that_write);
    RUN(write_from_a_later_prepare_does_not_wait_for_io);
    RUN(early_commit_at_the_callback_cap);
    RUN(removals_commit_without_fsync);
    RUN(thinning_keeps_transactions_and_their_first_and_last_meter);
    RUN(over_budget_with_only_transactions_keeps_everything);
    RUN(transaction_map);
    RUN(local_tx_ids_are_negative_and_never_reused);
    RUN(local_list_full_and_differential);
    RUN(auth_cache);
    RUN(kv);
    RUN(reopen_keeps_everything);
    RUN(invalid_arguments);
    RUN(second_open_is_refused);
    RUN(unwritable_state_dir);
    RUN(corrupt_database);
    RUN(newer_schema_is_refused);
    RUN(disk_full);
    RUN(failed_commit_gives_callbacks_the_error);
    RUN(close_commits_and_calls_back);
    rm_tree(tmp_root);
    return test_summary();
}
