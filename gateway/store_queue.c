/* The outbound queue: append, peek, remove, park, stats, and thinning meter
 * values beyond the disk budget. */
#include "store_int.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Most bytes of one frame (OCPP-J messages are far smaller). */
#define STORE_FRAME_MAX (16u * 1024 * 1024)
/* Candidates read per thinning step. */
#define STORE_THIN_BATCH 256
/* Most seconds between two thinning lines while meter values keep being
 * dropped one by one. */
#define STORE_THIN_LOG_MS 60000

static int64_t store__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void store__copy(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static void store__bind_text(sqlite3_stmt *s, int i, const char *text)
{
    sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

/* The budget counts the frame and the text fields. */
static uint64_t store__size(const char *identity, const char *action, const char *tx_local,
                            size_t len)
{
    return (uint64_t)len + strlen(identity) + strlen(action) + strlen(tx_local);
}

/* ---- Thinning ---- */

static void store__thin_log(struct store *st, uint64_t dropped, uint64_t bytes, bool pass)
{
    st->thin_unlogged += dropped;
    st->thin_unlogged_bytes += bytes;
    uint64_t now = uv_now(st->loop);
    if (!st->thin_unlogged || (!pass && now - st->thin_logged_ms < STORE_THIN_LOG_MS &&
                               st->thin_logged_ms != 0))
        return;
    log_warn("store", "queue over its budget, thinned meter values dropped=%llu bytes=%llu"
             " queue_bytes=%llu budget=%llu thinned_total=%llu",
             (unsigned long long)st->thin_unlogged, (unsigned long long)st->thin_unlogged_bytes,
             (unsigned long long)st->queue_bytes, (unsigned long long)st->max_bytes,
             (unsigned long long)st->thinned);
    st->thin_unlogged = st->thin_unlogged_bytes = 0;
    st->thin_logged_ms = now ? now : 1;
}

static void store__budget_state(struct store *st)
{
    if (st->queue_bytes <= st->max_bytes) {
        st->over_budget_logged = false;
        st->thin_blocked = false;
        return;
    }
    if (st->over_budget_logged)
        return;
    st->over_budget_logged = true;
    log_warn("store", "queue over its budget with no meter value left to thin: keeping every"
             " transaction and other message queue_bytes=%llu budget=%llu",
             (unsigned long long)st->queue_bytes, (unsigned long long)st->max_bytes);
}

/* Deletes the candidates that stmt (bound, not stepped) yields until the
 * queue is down to target; *last is the last seq seen. */
static int store__thin_step(struct store *st, sqlite3_stmt *s, uint64_t target, int64_t *last,
                            uint64_t *dropped, uint64_t *bytes, size_t *seen)
{
    int64_t seq[STORE_THIN_BATCH];
    int64_t size[STORE_THIN_BATCH];
    size_t n = 0;
    int rc = SQLITE_DONE;
    *seen = 0;
    while (n < STORE_THIN_BATCH && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        seq[n] = sqlite3_column_int64(s, 0);
        size[n] = sqlite3_column_int64(s, 1);
        n++;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (n < STORE_THIN_BATCH && rc != SQLITE_DONE)
        return store__err(st, rc, "thinning candidates");
    *seen = n;
    sqlite3_stmt *del = st->stmt[ST_Q_REMOVE];
    for (size_t i = 0; i < n && st->queue_bytes > target; i++) {
        sqlite3_bind_int64(del, 1, seq[i]);
        int r = store__step(st, del, "thinning");
        if (r < 0)
            return r;
        st->queue_bytes -= (uint64_t)size[i] < st->queue_bytes ? (uint64_t)size[i]
                                                               : st->queue_bytes;
        st->thinned++;
        (*dropped)++;
        *bytes += (uint64_t)size[i];
        *last = seq[i];
    }
    return 0;
}

/* A full pass: meter values oldest first, down to 90 % of the budget. */
int store__thin(struct store *st)
{
    uint64_t target = st->max_bytes - st->max_bytes / 10;
    uint64_t dropped = 0, bytes = 0;
    int64_t last = 0;
    int r = 0;
    while (st->queue_bytes > target) {
        sqlite3_stmt *s = st->stmt[ST_Q_THIN_CANDIDATES];
        sqlite3_bind_int64(s, 1, last);
        sqlite3_bind_int(s, 2, STORE_THIN_BATCH);
        size_t seen;
        r = store__thin_step(st, s, target, &last, &dropped, &bytes, &seen);
        if (r < 0 || seen < STORE_THIN_BATCH)
            break;
    }
    /* Only a new meter value can make another one thinnable (the last of
     * its transaction no longer is): until the queue is back under its
     * budget, each one is dealt with as it comes (store__thin_new). */
    st->thin_blocked = st->queue_bytes > target;
    store__thin_log(st, dropped, bytes, true);
    store__budget_state(st);
    return r;
}

/* Over the budget after a full pass found nothing more: the meter value
 * just appended (seq) made at most one more thinnable. */
static int store__thin_new(struct store *st, int64_t seq, const char *identity,
                           const char *tx_local)
{
    uint64_t dropped = 0, bytes = 0;
    int64_t last = 0;
    size_t seen;
    int r;
    if (!*tx_local) {
        sqlite3_stmt *del = st->stmt[ST_Q_REMOVE];
        sqlite3_bind_int64(del, 1, seq);
        int rc = sqlite3_step(del);
        int64_t size = rc == SQLITE_ROW ? sqlite3_column_int64(del, 0) : 0;
        sqlite3_reset(del);
        sqlite3_clear_bindings(del);
        if (rc != SQLITE_ROW)
            return store__err(st, rc, "thinning");
        st->queue_bytes -= (uint64_t)size < st->queue_bytes ? (uint64_t)size : st->queue_bytes;
        st->thinned++;
        dropped = 1;
        bytes = (uint64_t)size;
        r = 0;
    } else {
        sqlite3_stmt *s = st->stmt[ST_Q_THIN_GROUP];
        store__bind_text(s, 1, identity);
        store__bind_text(s, 2, tx_local);
        sqlite3_bind_int(s, 3, STORE_THIN_BATCH);
        r = store__thin_step(st, s, 0, &last, &dropped, &bytes, &seen);
    }
    store__thin_log(st, dropped, bytes, false);
    store__budget_state(st);
    return r;
}

/* ---- Queue ---- */

int store_queue_append(struct store *st, const char *identity, enum store_kind kind,
                       const char *action, const char *tx_local, const char *frame,
                       size_t len, int64_t *seq_out)
{
    if (!tx_local)
        tx_local = "";
    if (!store__text_ok(identity, STORE_IDENTITY_MAX, false) ||
        !store__text_ok(action, STORE_ACTION_MAX, false) ||
        !store__text_ok(tx_local, STORE_TX_MAX, true) ||
        (kind != STORE_TX && kind != STORE_METER && kind != STORE_OTHER) ||
        !frame || len == 0 || len > STORE_FRAME_MAX)
        return store__invalid("store_queue_append: identity, action, tx_local, kind or frame");
    int r = store__begin(st, true);
    if (r < 0)
        return r;
    uint64_t size = store__size(identity, action, tx_local, len);
    sqlite3_stmt *s = st->stmt[ST_Q_APPEND];
    store__bind_text(s, 1, identity);
    sqlite3_bind_int(s, 2, (int)kind);
    store__bind_text(s, 3, action);
    store__bind_text(s, 4, tx_local);
    sqlite3_bind_int64(s, 5, store__wall_ms());
    sqlite3_bind_blob64(s, 6, frame, len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, (int64_t)size);
    if ((r = store__step(st, s, "queue append")) < 0)
        return r;
    int64_t seq = sqlite3_last_insert_rowid(st->db);
    st->queue_bytes += size;
    if (st->max_bytes && st->queue_bytes > st->max_bytes) {
        /* The append itself stands; a failed thinning is logged. */
        if (!st->thin_blocked)
            store__thin(st);
        else if (kind == STORE_METER)
            store__thin_new(st, seq, identity, tx_local);
        else
            store__budget_state(st);
    } else if (st->max_bytes) {
        store__budget_state(st);
    }
    if (seq_out)
        *seq_out = seq;
    return 0;
}

void store_msg_free(struct store_msg *m)
{
    if (!m)
        return;
    free(m->frame);
    m->frame = NULL;
    m->len = 0;
}

/* One row in Q_ROW's column order. */
static int store__read_msg(sqlite3_stmt *s, struct store_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->seq = sqlite3_column_int64(s, 0);
    store__copy(m->identity, sizeof(m->identity), sqlite3_column_text(s, 1));
    m->kind = (enum store_kind)sqlite3_column_int(s, 2);
    store__copy(m->action, sizeof(m->action), sqlite3_column_text(s, 3));
    store__copy(m->tx_local, sizeof(m->tx_local), sqlite3_column_text(s, 4));
    m->created_ms = sqlite3_column_int64(s, 5);
    const void *blob = sqlite3_column_blob(s, 6);
    int len = sqlite3_column_bytes(s, 6);
    m->frame = malloc((size_t)len + 1);
    if (!m->frame)
        return -ENOMEM;
    if (len)
        memcpy(m->frame, blob, (size_t)len);
    m->frame[len] = '\0';
    m->len = (size_t)len;
    m->attempts = sqlite3_column_int(s, 7);
    store__copy(m->park_reason, sizeof(m->park_reason), sqlite3_column_text(s, 8));
    return 0;
}

static int store__read_msgs(struct store *st, sqlite3_stmt *s, size_t max,
                            struct store_msg *out, size_t *n, const char *what)
{
    size_t k = 0;
    int rc = SQLITE_DONE, r = 0;
    while (k < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((r = store__read_msg(s, &out[k])) < 0)
            break;
        k++;
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = store__err(st, rc, what);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (r < 0) {
        if (r == -ENOMEM)
            log_error("store", "%s: out of memory", what);
        for (size_t i = 0; i < k; i++)
            store_msg_free(&out[i]);
        k = 0;
    }
    *n = k;
    return r;
}

static int64_t store__limit(size_t max)
{
    return max > INT64_MAX ? INT64_MAX : (int64_t)max;
}

int store_queue_peek(struct store *st, const char *identity, size_t max,
                     struct store_msg *out, size_t *n)
{
    *n = 0;
    if (!store__text_ok(identity, STORE_IDENTITY_MAX, false) || (max && !out))
        return store__invalid("store_queue_peek: identity");
    if (!max)
        return 0;
    sqlite3_stmt *s = st->stmt[ST_Q_PEEK];
    store__bind_text(s, 1, identity);
    sqlite3_bind_int64(s, 2, store__limit(max));
    return store__read_msgs(st, s, max, out, n, "queue peek");
}

int store_queue_remove(struct store *st, int64_t seq)
{
    int r = store__begin(st, false);
    if (r < 0)
        return r;
    sqlite3_stmt *s = st->stmt[ST_Q_REMOVE];
    sqlite3_bind_int64(s, 1, seq);
    int rc = sqlite3_step(s);
    int64_t size = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_DONE)
        return -ENOENT;
    if (rc != SQLITE_ROW)
        return store__err(st, rc, "queue remove");
    st->queue_bytes -= (uint64_t)size < st->queue_bytes ? (uint64_t)size : st->queue_bytes;
    if (st->max_bytes)
        store__budget_state(st);
    return 0;
}

int store_queue_attempted(struct store *st, int64_t seq)
{
    int r = store__begin(st, false);
    if (r < 0)
        return r;
    sqlite3_stmt *s = st->stmt[ST_Q_ATTEMPTED];
    sqlite3_bind_int64(s, 1, seq);
    if ((r = store__step(st, s, "queue attempted")) < 0)
        return r;
    return sqlite3_changes(st->db) ? 0 : -ENOENT;
}

int store_queue_park(struct store *st, int64_t seq, const char *reason)
{
    int r = store__begin(st, true);
    if (r < 0)
        return r;
    if (!reason)
        reason = "";
    sqlite3_stmt *s = st->stmt[ST_Q_PARK];
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_text(s, 2, reason, (int)strnlen(reason, STORE_REASON_MAX - 1), SQLITE_STATIC);
    if ((r = store__step(st, s, "queue park")) < 0)
        return r;
    return sqlite3_changes(st->db) ? 0 : -ENOENT;
}

int store_queue_parked(struct store *st, const char *identity, int64_t after_seq,
                       size_t max, struct store_msg *out, size_t *n)
{
    *n = 0;
    if ((identity && !store__text_ok(identity, STORE_IDENTITY_MAX, false)) || (max && !out))
        return store__invalid("store_queue_parked: identity");
    if (!max)
        return 0;
    sqlite3_stmt *s = st->stmt[identity ? ST_Q_PARKED_ID : ST_Q_PARKED_ALL];
    if (identity)
        store__bind_text(s, 1, identity);
    sqlite3_bind_int64(s, 2, after_seq);
    sqlite3_bind_int64(s, 3, store__limit(max));
    return store__read_msgs(st, s, max, out, n, "queue parked");
}

int store_queue_stats(struct store *st, const char *identity, uint64_t *depth,
                      int64_t *oldest_created_ms, uint64_t *bytes)
{
    if (identity && !store__text_ok(identity, STORE_IDENTITY_MAX, false))
        return store__invalid("store_queue_stats: identity");
    sqlite3_stmt *s = st->stmt[identity ? ST_Q_STATS_ID : ST_Q_STATS_ALL];
    if (identity)
        store__bind_text(s, 1, identity);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        if (depth)
            *depth = (uint64_t)sqlite3_column_int64(s, 0);
        if (oldest_created_ms)
            *oldest_created_ms = sqlite3_column_int64(s, 1);  /* NULL reads as 0 */
        if (bytes)
            *bytes = (uint64_t)sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_ROW ? 0 : store__err(st, rc, "queue stats");
}

int store_queue_identities(struct store *st, char (*ids)[STORE_IDENTITY_MAX], size_t max,
                           size_t *n)
{
    *n = 0;
    if (max && !ids)
        return store__invalid("store_queue_identities: ids");
    if (!max)
        return 0;
    sqlite3_stmt *s = st->stmt[ST_Q_IDENTITIES];
    sqlite3_bind_int64(s, 1, store__limit(max));
    size_t k = 0;
    int rc = SQLITE_DONE;
    while (k < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
        store__copy(ids[k++], STORE_IDENTITY_MAX, sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    if (k < max && rc != SQLITE_DONE)
        return store__err(st, rc, "queue identities");
    *n = k;
    return 0;
}

uint64_t store_thinned(const struct store *st)
{
    return st->thinned;
}

uint64_t store_queue_bytes(const struct store *st)
{
    return st->queue_bytes;
}
