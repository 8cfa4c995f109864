/* The store: the schema and its migrations, the prepared statements,
 * SQLite's errors as errno codes, the group commit (the first write of a loop
 * turn begins a transaction, the prepare handle commits it before the loop
 * polls, then the store_after_commit() callbacks run with the commit's
 * status), open and close. The queue is in store_queue.c, transaction ids,
 * authorization and kv in store_auth.c. */
#include "store_int.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_BUSY_TIMEOUT_MS 2000
/* The WAL file is cut back to this after a checkpoint. */
#define STORE_WAL_LIMIT "16777216"

/* ---- Schema ---- */

/* Migrations: migrations[i] takes user_version i to i + 1, in one
 * transaction with the version bump. Append, never edit. */
static const char *const store__migrations[STORE_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta VALUES ('next_local_tx', -1), ('sync_marks', 0);"
    /* AUTOINCREMENT: a seq is never reused, even after the queue drained, so
     * a late answer can never be taken for a newer message's. */
    "CREATE TABLE queue ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  identity TEXT NOT NULL, kind INTEGER NOT NULL, action TEXT NOT NULL,"
    "  tx_local TEXT NOT NULL, created_ms INTEGER NOT NULL, frame BLOB NOT NULL,"
    "  size INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  parked INTEGER NOT NULL DEFAULT 0, park_reason TEXT NOT NULL DEFAULT '');"
    /* Peek and stats read only this index (it covers created_ms and size). */
    "CREATE INDEX queue_send ON queue (identity, parked, seq, created_ms, size);"
    "CREATE INDEX queue_tx ON queue (identity, tx_local, kind, parked, seq)"
    "  WHERE tx_local <> '';"
    "CREATE INDEX queue_parked ON queue (seq) WHERE parked = 1;"
    "CREATE TABLE tx_map (identity TEXT NOT NULL, tx_local TEXT NOT NULL,"
    "  tx_real TEXT NOT NULL DEFAULT '', connector INTEGER NOT NULL,"
    "  PRIMARY KEY (identity, tx_local)) WITHOUT ROWID;"
    "CREATE INDEX tx_map_real ON tx_map (identity, tx_real) WHERE tx_real <> '';"
    "CREATE TABLE local_list (identity TEXT NOT NULL, tag TEXT NOT NULL COLLATE NOCASE,"
    "  status INTEGER NOT NULL, expiry_s INTEGER NOT NULL, parent TEXT,"
    "  PRIMARY KEY (identity, tag)) WITHOUT ROWID;"
    "CREATE TABLE local_list_version (identity TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "CREATE TABLE auth_cache (tag TEXT PRIMARY KEY COLLATE NOCASE, status INTEGER NOT NULL,"
    "  expiry_s INTEGER NOT NULL, put_order INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX auth_cache_order ON auth_cache (put_order);"
    "CREATE TABLE kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY (ns, key)) WITHOUT ROWID;",
};

#define Q_ROW "seq, identity, kind, action, tx_local, created_ms, frame, attempts, park_reason"
#define THIN_GROUP \
    "FROM queue WHERE identity = q.identity AND tx_local = q.tx_local AND tx_local <> ''" \
    " AND kind = 1 AND parked = 0"

static const char *const store__sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT store_op",
    [ST_RELEASE] = "RELEASE store_op",
    [ST_ROLLBACK_TO] = "ROLLBACK TO store_op",
    [ST_SYNC_MARK] = "UPDATE meta SET value = value + 1 WHERE key = 'sync_marks'",

    [ST_Q_APPEND] = "INSERT INTO queue (identity, kind, action, tx_local, created_ms, frame, size)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_Q_PEEK] = "SELECT " Q_ROW " FROM queue WHERE identity = ?1 AND parked = 0"
                  " ORDER BY seq LIMIT ?2",
    [ST_Q_REMOVE] = "DELETE FROM queue WHERE seq = ?1 RETURNING size",
    [ST_Q_ATTEMPTED] = "UPDATE queue SET attempts = attempts + 1 WHERE seq = ?1",
    [ST_Q_PARK] = "UPDATE queue SET parked = 1, park_reason = ?2 WHERE seq = ?1",
    [ST_Q_PARKED_ID] = "SELECT " Q_ROW " FROM queue WHERE parked = 1 AND seq > ?2"
                       " AND identity = ?1 ORDER BY seq LIMIT ?3",
    [ST_Q_PARKED_ALL] = "SELECT " Q_ROW " FROM queue WHERE parked = 1 AND seq > ?2"
                        " ORDER BY seq LIMIT ?3",
    [ST_Q_STATS_ID] = "SELECT count(*), min(created_ms), total(size) FROM queue"
                      " WHERE identity = ?1 AND parked = 0",
    [ST_Q_STATS_ALL] = "SELECT count(*), min(created_ms), total(size) FROM queue WHERE parked = 0",
    [ST_Q_TOTAL] = "SELECT total(size) FROM queue",
    [ST_Q_IDENTITIES] = "SELECT DISTINCT identity FROM queue WHERE parked = 0"
                        " ORDER BY identity LIMIT ?1",
    /* Meter messages after ?1, oldest first, that are not the first or the
     * last queued meter message of their transaction. */
    [ST_Q_THIN_CANDIDATES] =
        "SELECT seq, size FROM queue AS q WHERE seq > ?1 AND kind = 1 AND parked = 0"
        " AND (tx_local = '' OR (seq > (SELECT min(seq) " THIN_GROUP ")"
        "                        AND seq < (SELECT max(seq) " THIN_GROUP ")))"
        " ORDER BY seq LIMIT ?2",
    /* The same within one transaction (?1 identity, ?2 tx_local). */
    [ST_Q_THIN_GROUP] =
        "SELECT seq, size FROM queue AS q WHERE identity = ?1 AND tx_local = ?2"
        " AND tx_local <> '' AND kind = 1 AND parked = 0"
        " AND seq > (SELECT min(seq) " THIN_GROUP ") AND seq < (SELECT max(seq) " THIN_GROUP ")"
        " ORDER BY seq LIMIT ?3",

    [ST_TX_PUT] = "INSERT INTO tx_map (identity, tx_local, tx_real, connector)"
                  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (identity, tx_local) DO UPDATE SET"
                  " tx_real = CASE WHEN excluded.tx_real <> '' THEN excluded.tx_real"
                  " ELSE tx_map.tx_real END, connector = excluded.connector",
    [ST_TX_GET_REAL] = "SELECT tx_real FROM tx_map WHERE identity = ?1 AND tx_local = ?2",
    [ST_TX_GET_LOCAL] = "SELECT tx_local FROM tx_map"
                        " WHERE identity = ?1 AND tx_real = ?2 AND tx_real <> ''",
    [ST_TX_END] = "DELETE FROM tx_map WHERE identity = ?1 AND tx_local = ?2",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_PUT] = "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",

    [ST_LL_CLEAR] = "DELETE FROM local_list WHERE identity = ?1",
    [ST_LL_PUT] = "INSERT OR REPLACE INTO local_list (identity, tag, status, expiry_s, parent)"
                  " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_LL_DELETE] = "DELETE FROM local_list WHERE identity = ?1 AND tag = ?2",
    [ST_LL_GET] = "SELECT status, expiry_s FROM local_list WHERE identity = ?1 AND tag = ?2",
    [ST_LL_VERSION_PUT] = "INSERT OR REPLACE INTO local_list_version (identity, version)"
                          " VALUES (?1, ?2)",
    [ST_LL_VERSION_GET] = "SELECT version FROM local_list_version WHERE identity = ?1",
    [ST_AC_UPDATE] = "UPDATE auth_cache SET status = ?2, expiry_s = ?3,"
                     " put_order = (SELECT coalesce(max(put_order), 0) + 1 FROM auth_cache)"
                     " WHERE tag = ?1",
    [ST_AC_INSERT] = "INSERT INTO auth_cache (tag, status, expiry_s, put_order) VALUES (?1, ?2, ?3,"
                     " (SELECT coalesce(max(put_order), 0) + 1 FROM auth_cache))",
    [ST_AC_GET] = "SELECT status, expiry_s FROM auth_cache WHERE tag = ?1",
    [ST_AC_COUNT] = "SELECT count(*) FROM auth_cache",
    [ST_AC_CLEAR] = "DELETE FROM auth_cache",
    [ST_AC_EVICT] = "DELETE FROM auth_cache WHERE tag IN"
                    " (SELECT tag FROM auth_cache ORDER BY put_order LIMIT ?1)",
    [ST_KV_PUT] = "INSERT INTO kv (ns, key, value) VALUES (?1, ?2, ?3)"
                  " ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
    [ST_KV_GET] = "SELECT value FROM kv WHERE ns = ?1 AND key = ?2",
    [ST_KV_DELETE] = "DELETE FROM kv WHERE ns = ?1 AND key = ?2",
    [ST_KV_DELETE_VALUE] = "DELETE FROM kv WHERE ns = ?1 AND value = ?2 AND key <> ?3",
};

/* ---- Errors ---- */

static int store__errno(sqlite3 *db, int rc)
{
    int sys;
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_IOERR:
        if (rc == SQLITE_IOERR_NOMEM)
            return -ENOMEM;
        return -EIO;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_READONLY:
        return -EROFS;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        sys = db ? sqlite3_system_errno(db) : 0;
        return sys > 0 ? -sys : -EACCES;
    case SQLITE_TOOBIG:
        return -E2BIG;
    case SQLITE_CONSTRAINT:
        return -EEXIST;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
        return -EINVAL;
    default:
        return -EIO;
    }
}

/* SQLite gives up the whole transaction on some errors (a full disk, an I/O
 * error): its writes are gone, so its callbacks get the error. */
static void store__tx_lost(struct store *st, int err)
{
    if (!st->in_tx || !sqlite3_get_autocommit(st->db))
        return;
    st->in_tx = false;
    size_t waiting = st->n_cbs - st->first_open;
    for (size_t i = st->first_open; i < st->n_cbs; i++)
        st->cbs[i].status = err;
    st->first_open = st->n_cbs;
    st->last_status = err;
    log_error("store", "the open transaction was rolled back, its writes are lost"
              " err=%s callbacks=%zu", strerror(-err), waiting);
    store__reload_counts(st);
}

int store__err(struct store *st, int rc, const char *what)
{
    int err = store__errno(st->db, rc);
    if (!err)
        err = -EIO;
    log_error("store", "%s failed: %s err=%s", what, sqlite3_errmsg(st->db), strerror(-err));
    store__tx_lost(st, err);
    return err;
}

int store__step(struct store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return 0;
    return store__err(st, rc, what);
}

int store__exec(struct store *st, enum store__stmt id, const char *what)
{
    return store__step(st, st->stmt[id], what);
}

int store__invalid(const char *what)
{
    log_error("store", "invalid argument: %s", what);
    return -EINVAL;
}

bool store__text_ok(const char *s, size_t max, bool empty_ok)
{
    if (!s)
        return false;
    size_t len = strnlen(s, max);
    return len < max && (empty_ok || len > 0);
}

int store__reload_counts(struct store *st)
{
    sqlite3_stmt *s = st->stmt[ST_Q_TOTAL];
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        st->queue_bytes = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW)
        return store__err(st, rc, "queue size");
    s = st->stmt[ST_AC_COUNT];
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        st->auth_count = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW)
        return store__err(st, rc, "auth cache size");
    return 0;
}

/* ---- Group commit ---- */

static void store__on_prepare(uv_prepare_t *h);
static void store__on_idle(uv_idle_t *h);

/* The handles run only while there is a commit or a callback due, so an idle
 * store never keeps the loop alive. */
static void store__handles(struct store *st)
{
    bool want = st->in_tx || st->head < st->n_cbs;
    if (want == st->handles_active || st->closing)
        return;
    if (want) {
        uv_prepare_start(&st->prepare, store__on_prepare);
        uv_idle_start(&st->idle, store__on_idle);
    } else {
        uv_prepare_stop(&st->prepare);
        uv_idle_stop(&st->idle);
    }
    st->handles_active = want;
}

static int store__set_sync(struct store *st, bool full)
{
    if (st->sync_full == full)
        return 0;
    /* Not a kept statement: PRAGMA synchronous acts when it is prepared. */
    int rc = sqlite3_exec(st->db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store__err(st, rc, "set synchronous");
    st->sync_full = full;
    return 0;
}

int store__begin(struct store *st, bool durable)
{
    if (st->closing) {
        log_error("store", "write after store_close");
        return -ESHUTDOWN;
    }
    if (st->in_tx) {
        if (!durable || st->tx_durable)
            return 0;
        /* Removals so far are committed as they were (no fsync); the durable
         * commit to come syncs the WAL, and them with it. */
        store__commit(st);
    }
    int r = store__set_sync(st, durable);
    if (r < 0)
        return r;
    r = store__exec(st, ST_BEGIN, "begin");
    if (r < 0)
        return r;
    st->in_tx = true;
    st->tx_durable = durable;
    store__handles(st);
    return 0;
}

int store__commit(struct store *st)
{
    if (!st->in_tx)
        return 0;
    uint64_t t0 = uv_hrtime();
    int rc = sqlite3_step(st->stmt[ST_COMMIT]);
    sqlite3_reset(st->stmt[ST_COMMIT]);
    int err = 0;
    if (rc != SQLITE_DONE) {
        err = store__errno(st->db, rc);
        if (!err)
            err = -EIO;
        log_error("store", "commit failed, its writes are rolled back: %s err=%s callbacks=%zu",
                  sqlite3_errmsg(st->db), strerror(-err), st->n_cbs - st->first_open);
        if (!sqlite3_get_autocommit(st->db)) {
            rc = sqlite3_step(st->stmt[ST_ROLLBACK]);
            sqlite3_reset(st->stmt[ST_ROLLBACK]);
            if (rc != SQLITE_DONE)
                log_error("store", "rollback failed: %s", sqlite3_errmsg(st->db));
        }
    }
    st->in_tx = false;
    for (size_t i = st->first_open; i < st->n_cbs; i++)
        st->cbs[i].status = err;
    st->first_open = st->n_cbs;
    st->last_status = err;
    if (err)
        store__reload_counts(st);
    else if (st->tx_durable)
        st->commits++;
    else
        st->lazy_commits++;
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    if (ms >= 500)
        log_warn("store", "slow commit ms=%llu", (unsigned long long)ms);
    return err;
}

static void store__notify(struct store *st)
{
    if (st->notifying)
        return;
    st->notifying = true;
    while (st->head < st->first_open) {
        /* A copy: a callback may register more and move the array. */
        struct store__cb c = st->cbs[st->head++];
        c.cb(c.arg, c.status);
    }
    size_t left = st->n_cbs - st->head;
    if (left && st->head)
        memmove(st->cbs, st->cbs + st->head, left * sizeof(*st->cbs));
    st->n_cbs = left;
    st->first_open -= st->head;
    st->head = 0;
    st->notifying = false;
}

static void store__on_prepare(uv_prepare_t *h)
{
    struct store *st = h->data;
    store__commit(st);
    store__notify(st);
    store__handles(st);
}

static void store__on_idle(uv_idle_t *h)
{
    (void)h;  /* only there so that the poll does not block with a commit due */
}

int store_after_commit(struct store *st, void (*cb)(void *arg, int status), void *arg)
{
    if (!cb)
        return store__invalid("store_after_commit without a callback");
    if (st->closing) {
        log_error("store", "store_after_commit after store_close");
        return -ESHUTDOWN;
    }
    if (st->in_tx && !st->tx_durable) {
        /* The turn so far only removed: commit that now, and write a mark in
         * a durable transaction, whose commit syncs the WAL and the removals
         * before it. If any of this fails, cb gets the error. */
        int r = store__commit(st);
        if (r == 0 && (r = store__begin(st, true)) == 0 &&
            (r = store__exec(st, ST_SYNC_MARK, "sync mark")) < 0)
            store__commit(st);
        if (r < 0)
            st->last_status = r;
    }
    if (st->n_cbs == st->cap_cbs) {
        size_t cap = st->cap_cbs ? st->cap_cbs * 2 : 64;
        struct store__cb *p = realloc(st->cbs, cap * sizeof(*p));
        if (!p) {
            log_error("store", "out of memory for a commit callback");
            return -ENOMEM;
        }
        st->cbs = p;
        st->cap_cbs = cap;
    }
    st->cbs[st->n_cbs++] = (struct store__cb){ cb, arg, st->last_status };
    if (!st->in_tx)
        st->first_open = st->n_cbs;  /* nothing to wait for */
    else if (st->n_cbs - st->first_open >= st->max_callbacks) {
        st->early_commits++;
        store__commit(st);  /* the callbacks still run from the prepare */
    }
    store__handles(st);
    return 0;
}

int store_flush(struct store *st)
{
    int r = store__commit(st);
    store__notify(st);
    store__handles(st);
    return r;
}

/* ---- Open and close ---- */

static int store__lock(const char *dir, int *fd_out)
{
    size_t n = strlen(dir) + sizeof("/sitegate.lock");
    char *path = malloc(n);
    if (!path)
        return -ENOMEM;
    snprintf(path, n, "%s/sitegate.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int err = fd < 0 ? -errno : 0;
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        err = errno == EWOULDBLOCK ? -EBUSY : -errno;
        close(fd);
        fd = -1;
    }
    if (err == -EBUSY)
        log_error("store", "another process has the store open path=%s", path);
    else if (err)
        log_error("store", "cannot open the lock file path=%s err=%s", path, strerror(-err));
    free(path);
    *fd_out = fd;
    return err;
}

static int store__pragma(struct store *st, const char *sql, const char *want)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return store__err(st, rc, sql);
    rc = sqlite3_step(s);
    int r = 0;
    if (rc == SQLITE_ROW && want) {
        const char *got = (const char *)sqlite3_column_text(s, 0);
        if (!got || strcmp(got, want) != 0) {
            log_error("store", "%s answered %s, not %s", sql, got ? got : "nothing", want);
            r = -EIO;
        }
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = store__err(st, rc, sql);
    }
    sqlite3_finalize(s);
    return r;
}

static int store__user_version(struct store *st, int *v)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int(s, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(s);
    }
    return rc == SQLITE_OK ? 0 : store__err(st, rc, "read the schema version");
}

static int store__migrate(struct store *st)
{
    int v = 0;
    int r = store__user_version(st, &v);
    if (r < 0)
        return r;
    if (v > STORE_SCHEMA_VERSION) {
        log_error("store", "the database is from a newer sitegate schema=%d known=%d path=%s",
                  v, STORE_SCHEMA_VERSION, st->path);
        return -ENOTSUP;
    }
    for (; v < STORE_SCHEMA_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", v + 1);
        int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(st->db, store__migrations[v], NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(st->db, bump, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            r = store__err(st, rc, "schema migration");
            if (!sqlite3_get_autocommit(st->db))
                sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return r;
        }
        log_info("store", "schema migrated from=%d to=%d path=%s", v, v + 1, st->path);
    }
    return 0;
}

/* A new file's directory entry must reach the disk too. */
static void store__sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (fsync(fd) != 0)
        log_warn("store", "fsync of the state directory failed dir=%s err=%s", dir,
                 strerror(errno));
    close(fd);
}

static void store__on_closed(uv_handle_t *h)
{
    struct store *st = h->data;
    if (--st->handles_open > 0)
        return;
    free(st->cbs);
    free(st);
}

static void store__release(struct store *st)
{
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    memset(st->stmt, 0, sizeof(st->stmt));
    if (st->db && sqlite3_close(st->db) != SQLITE_OK)
        log_error("store", "close failed: %s", sqlite3_errmsg(st->db));
    st->db = NULL;
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    st->lock_fd = -1;
    free(st->path);
    st->path = NULL;
}

int store_open(struct store **out, uv_loop_t *loop, const char *state_dir, uint64_t max_bytes)
{
    *out = NULL;
    if (!loop || !state_dir || !*state_dir)
        return store__invalid("store_open needs a loop and a state directory");
    if (mkdir(state_dir, 0750) != 0 && errno != EEXIST) {
        int err = -errno;
        log_error("store", "cannot create the state directory dir=%s err=%s", state_dir,
                  strerror(-err));
        return err;
    }
    struct store *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->lock_fd = -1;
    st->max_bytes = max_bytes;
    st->max_callbacks = STORE_MAX_CALLBACKS;
    st->loop = loop;
    int r = store__lock(state_dir, &st->lock_fd);
    if (r < 0)
        goto fail;
    size_t n = strlen(state_dir) + sizeof("/sitegate.db");
    st->path = malloc(n);
    if (!st->path) {
        r = -ENOMEM;
        goto fail;
    }
    snprintf(st->path, n, "%s/sitegate.db", state_dir);
    struct stat sb;
    bool created = stat(st->path, &sb) != 0;

    int rc = sqlite3_open_v2(st->path, &st->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        r = store__errno(st->db, rc);
        log_error("store", "cannot open the database path=%s: %s err=%s", st->path,
                  st->db ? sqlite3_errmsg(st->db) : "out of memory", strerror(-r));
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
    /* The first read of the file: a file that is not a database fails here. */
    if ((r = store__pragma(st, "PRAGMA journal_mode=WAL", "wal")) < 0 ||
        (r = store__pragma(st, "PRAGMA synchronous=FULL", NULL)) < 0 ||
        (r = store__pragma(st, "PRAGMA temp_store=MEMORY", NULL)) < 0 ||
        (r = store__pragma(st, "PRAGMA journal_size_limit=" STORE_WAL_LIMIT, NULL)) < 0)
        goto fail_db;
    st->sync_full = true;
    if ((r = store__migrate(st)) < 0)
        goto fail_db;
    for (int i = 0; i < ST__COUNT; i++) {
        rc = sqlite3_prepare_v3(st->db, store__sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &st->stmt[i], NULL);
        if (rc != SQLITE_OK) {
            r = store__err(st, rc, store__sql[i]);
            goto fail_db;
        }
    }
    if ((r = store__reload_counts(st)) < 0)
        goto fail_db;
    if (created)
        store__sync_dir(state_dir);

    uv_prepare_init(loop, &st->prepare);
    uv_idle_init(loop, &st->idle);
    st->prepare.data = st;
    st->idle.data = st;
    st->handles_open = 2;
    log_info("store", "opened path=%s queue_bytes=%llu budget=%llu", st->path,
             (unsigned long long)st->queue_bytes, (unsigned long long)max_bytes);
    *out = st;
    return 0;

fail_db:
    if (r == -EIO)
        log_error("store", "the database is unusable (not a database, corrupt, or an I/O error)"
                  " path=%s", st->path);
fail:
    store__release(st);
    free(st);
    return r;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    store__commit(st);
    st->closing = true;
    store__notify(st);  /* their writes now fail with -ESHUTDOWN */
    store__release(st);
    uv_prepare_stop(&st->prepare);
    uv_idle_stop(&st->idle);
    uv_close((uv_handle_t *)&st->prepare, store__on_closed);
    uv_close((uv_handle_t *)&st->idle, store__on_closed);
}
