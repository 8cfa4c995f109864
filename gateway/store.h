/* The gateway's durable state: one SQLite file, <state_dir>/sitegate.db, used
 * only from the libuv loop thread.
 *
 * It holds the outbound queue (every message the CSMS must eventually see, per
 * upstream identity, in order), the 1.6 transaction-id map and the counter for
 * local transaction ids, the local authorization lists, the auth cache, and a
 * small key-value table for other state that must survive a restart.
 *
 * Group commit. An fsync per message would stall every socket on the loop, so
 * the first write of a loop turn begins a transaction and a uv_prepare_t
 * (which runs once per loop iteration, before the loop polls) commits it with
 * synchronous=FULL: after that commit the writes survive a power cut. A caller
 * that must not answer a charger before its write is durable registers
 * store_after_commit() right after the write and answers from the callback.
 * Reads see the store's own uncommitted writes.
 *
 * One exception: a loop turn whose only writes are store_queue_remove() and
 * store_queue_attempted() is committed without an fsync (synchronous=NORMAL).
 * A kill -9 loses none of it (the WAL is in the OS page cache) and the next
 * durable commit syncs it too; a power cut may undo the last removals, and
 * those messages are then sent again, as after any crash between the CSMS's
 * answer and the commit. This keeps replay, which removes one message per
 * answer, from paying an fsync per message.
 *
 * Every function returns 0 or a negative errno-style code and logs failures as
 * "error store: ..." (-ENOENT for "not found" is not logged). SQLite's errors
 * map to: SQLITE_FULL -ENOSPC, SQLITE_CORRUPT/NOTADB/IOERR -EIO,
 * SQLITE_BUSY/LOCKED -EBUSY, SQLITE_NOMEM -ENOMEM, SQLITE_READONLY -EROFS,
 * SQLITE_CANTOPEN/PERM the system errno (-EACCES, ...), SQLITE_TOOBIG -E2BIG,
 * SQLITE_CONSTRAINT -EEXIST; anything else -EIO.
 */
#ifndef SITEGATE_STORE_H
#define SITEGATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct store;

/* Sizes of the text fields (including the NUL). Longer input is -EINVAL. */
#define STORE_IDENTITY_MAX 49   /* OCPP charge point identity: 48 characters */
#define STORE_ACTION_MAX   65
#define STORE_TX_MAX       64   /* a local or real transaction id */
#define STORE_REASON_MAX   128  /* why a message was parked (longer is cut) */
#define STORE_TAG_MAX      256  /* idTag / idToken, local list parent */
#define STORE_KV_KEY_MAX   256  /* kv namespace and key */

/* Most store_after_commit() callbacks in one transaction; at that many the
 * store commits early and starts the next transaction. */
#define STORE_MAX_CALLBACKS 65536
/* Most auth cache entries; beyond, the entries put longest ago are evicted. */
#define STORE_AUTH_CACHE_MAX 10000

/* Opens (creating if needed) <state_dir>/sitegate.db; creates state_dir itself
 * if it is missing (not its parents). max_bytes is the disk budget for the
 * queue (0: unlimited), counted as the bytes of the frames and their text
 * fields; the file is larger by its indexes and pages (about 1.3x for
 * 400-byte frames) and the WAL (up to ~16 MB between checkpoints), so leave
 * room. -EBUSY if another process has the store open (a lock file,
 * <state_dir>/sitegate.lock, keeps two gateways from replaying one queue);
 * -EIO if the file is not a database or is corrupt; -ENOTSUP if a newer
 * sitegate wrote it. Another process writing the file (an operator's sqlite3)
 * makes a write wait up to 2 s (busy_timeout), then fail with -EBUSY. */
int store_open(struct store **out, uv_loop_t *loop, const char *state_dir, uint64_t max_bytes);

/* Commits (the waiting callbacks run, with the commit's status; their writes
 * now fail with -ESHUTDOWN), finalizes and closes the database, releases the
 * lock, then closes the store's two libuv handles: the memory is freed by
 * their close callbacks, so run the loop once more (uv_run) before
 * uv_loop_close(). Call on the loop thread, after the proxy stopped writing;
 * st may be NULL. */
void store_close(struct store *st);

/* cb(arg, status) runs right after the commit of everything written so far:
 * status 0 means durable; otherwise the writes were rolled back and the caller
 * must not claim durability. Callbacks run in registration order, from the
 * store's prepare handle (or store_flush/store_close), never from inside
 * another store call. With no write pending, cb runs at the store's next
 * prepare without waiting for a commit, with the last commit's status.
 * -ENOMEM if it cannot be queued, -ESHUTDOWN after store_close. */
int store_after_commit(struct store *st, void (*cb)(void *arg, int status), void *arg);

/* Commits now and runs the waiting callbacks (shutdown, tests); returns the
 * commit's status. */
int store_flush(struct store *st);

/* ---- The outbound queue ----
 * Per upstream identity (a charger id in passthrough, the site id in
 * aggregate), every message the CSMS must eventually see, in order. */

enum store_kind {
    STORE_TX = 0,    /* Start/StopTransaction, TransactionEvent: never dropped */
    STORE_METER = 1, /* periodic MeterValues: thinned beyond the budget */
    STORE_OTHER = 2, /* StatusNotification, Authorize, DataTransfer, ... */
};

struct store_msg {
    int64_t seq;                         /* increasing, never reused */
    char identity[STORE_IDENTITY_MAX];
    enum store_kind kind;
    char action[STORE_ACTION_MAX];
    char tx_local[STORE_TX_MAX];         /* the transaction it belongs to, "" none */
    int64_t created_ms;                  /* wall clock ms when appended */
    char *frame;                         /* the whole OCPP-J CALL as it must be sent,
                                            NUL-terminated; free with store_msg_free */
    size_t len;
    int attempts;                        /* store_queue_attempted() calls */
    char park_reason[STORE_REASON_MAX];  /* parked messages only, else "" */
};

/* Appends a message (frame: the CALL text with its original message id and
 * timestamps; copied). Over the budget, thins meter values (see below): a
 * meter value outside a transaction may then be dropped at once, and
 * *seq_out names a message that is already gone. */
int store_queue_append(struct store *st, const char *identity, enum store_kind kind,
                       const char *action, const char *tx_local, const char *frame,
                       size_t len, int64_t *seq_out);

/* The oldest max messages of identity waiting to be sent, in order (parked
 * ones excluded); *n of out[] are filled, each to be freed with
 * store_msg_free. */
int store_queue_peek(struct store *st, const char *identity, size_t max,
                     struct store_msg *out, size_t *n);

/* The CSMS answered it: gone. -ENOENT if there is no such message. */
int store_queue_remove(struct store *st, int64_t seq);

/* Counts one more send of it (so that after a restart the proxy knows it may
 * have reached the CSMS already). -ENOENT if there is no such message. */
int store_queue_attempted(struct store *st, int64_t seq);

/* The CSMS refused it (CALLERROR or a rejection): kept aside with the reason,
 * no longer peeked or thinned, listed by store_queue_parked(); remove it with
 * store_queue_remove(). -ENOENT if there is no such message. */
int store_queue_park(struct store *st, int64_t seq, const char *reason);

/* The parked messages of identity (NULL: all) with seq > after_seq, oldest
 * first, at most max. */
int store_queue_parked(struct store *st, const char *identity, int64_t after_seq,
                       size_t max, struct store_msg *out, size_t *n);

/* The messages waiting to be sent (parked ones excluded) of identity (NULL:
 * all): their count, the oldest created_ms (0 when empty) and their bytes.
 * Any output may be NULL. */
int store_queue_stats(struct store *st, const char *identity, uint64_t *depth,
                      int64_t *oldest_created_ms, uint64_t *bytes);

/* The identities with messages waiting to be sent, sorted (for replay after a
 * restart); at most max. */
int store_queue_identities(struct store *st, char (*ids)[STORE_IDENTITY_MAX], size_t max,
                           size_t *n);

/* Frees m->frame (m itself is the caller's). */
void store_msg_free(struct store_msg *m);

/* Disk budget: when the queue's bytes (parked ones included) exceed max_bytes,
 * STORE_METER messages are dropped oldest first, down to 90 % of the budget,
 * keeping the first and the last queued meter message of each transaction
 * (by identity and tx_local; meter values with tx_local "" have no such
 * exception); STORE_TX and STORE_OTHER are never dropped. One warn line per
 * thinning pass. If nothing can be thinned the queue keeps
 * growing past the budget (transactions are never dropped) and a warn line
 * says so once, until the queue is back under its budget. */

/* Meter messages dropped by thinning since store_open (a metric). */
uint64_t store_thinned(const struct store *st);

/* The queue's bytes counted against the budget, parked messages included. */
uint64_t store_queue_bytes(const struct store *st);

/* ---- Transaction ids (1.6) ----
 * A transaction started offline gets a local id; when the CSMS assigns the
 * real one, the map is kept until the transaction ends. */

/* Records (or updates) identity's transaction tx_local on connector; tx_real
 * NULL or "" means not known yet and keeps a real id recorded before. */
int store_tx_put(struct store *st, const char *identity, const char *tx_local,
                 const char *tx_real, int connector);

/* The real id of tx_local ("" if not known yet); -ENOENT if tx_local is not
 * recorded, -ENOBUFS if cap is too small. */
int store_tx_get_real(struct store *st, const char *identity, const char *tx_local,
                      char *tx_real, size_t cap);

/* The local id that tx_real replaced; -ENOENT, -ENOBUFS as above. */
int store_tx_get_local(struct store *st, const char *identity, const char *tx_real,
                       char *tx_local, size_t cap);

/* The transaction ended and every message of it was delivered: forgets it. */
int store_tx_end(struct store *st, const char *identity, const char *tx_local);

/* The next local 1.6 transaction id: -1, -2, -3, ... Negative, so that it
 * can never collide with a CSMS's ids (1.6 transactionId is an integer the
 * CSMS assigns, positive in practice); within int32 (after -2147483648 it
 * wraps to -1, with a warn line). The counter is written in the current
 * transaction, so the id is durable together with the messages that carry
 * it: answer the charger only after the commit, and a restart never reuses
 * an id a charger was given. */
int store_next_local_tx(struct store *st, int64_t *out);

/* ---- Authorization ----
 * The local list (captured from the CSMS's SendLocalList, and from config)
 * and the auth cache (idTags the CSMS answered, with expiry). Tags compare
 * case-insensitively (ASCII), as OCPP's IdToken. */

enum store_auth_status {
    STORE_AUTH_ACCEPTED,
    STORE_AUTH_BLOCKED,
    STORE_AUTH_EXPIRED,
    STORE_AUTH_INVALID,
    STORE_AUTH_CONCURRENT,
    STORE_AUTH_REMOVE, /* store_local_list_set only: an entry without idTagInfo,
                          which a Differential update removes (a Full one skips) */
};

/* Applies a SendLocalList to identity's list: full replaces the list,
 * otherwise the n entries update it (STORE_AUTH_REMOVE deletes one); then the
 * list's version is version. expiry_s: 0 none. parent may be NULL, and so may
 * its entries. All or nothing. */
int store_local_list_set(struct store *st, const char *identity, int version, bool full,
                         const char *const *tags, const enum store_auth_status *status,
                         const int64_t *expiry_s, const char *const *parent, size_t n);

/* The version of identity's list; -ENOENT (and *version 0, an empty list)
 * when none was ever set. */
int store_local_list_version(struct store *st, const char *identity, int *version);

/* A tag's entry in identity's list (expiry_s may be NULL); -ENOENT if it has
 * none. The caller compares the expiry with its clock. */
int store_local_list_get(struct store *st, const char *identity, const char *tag,
                         enum store_auth_status *status, int64_t *expiry_s);

/* Records the CSMS's answer for tag (expiry_s: 0 none). Site-wide. Not
 * durable on its own: it is synced with the next durable commit. The same
 * verdict with an expiry less than a minute later is not written again. */
int store_auth_cache_put(struct store *st, const char *tag, enum store_auth_status status,
                         int64_t expiry_s);

/* Forgets every cached answer (a CSMS's ClearCache). */
int store_auth_cache_clear(struct store *st);

/* The cached answer for tag: STORE_AUTH_EXPIRED once now_s >= its expiry;
 * -ENOENT if unknown. */
int store_auth_cache_get(struct store *st, const char *tag, int64_t now_s,
                         enum store_auth_status *status);

/* ---- Key-value ----
 * For other persistent state (aggregate-mode connector numbering, DR events). */

int store_kv_put(struct store *st, const char *ns, const char *key, const char *value);
/* *value is malloc'd (free it); -ENOENT if absent. */
int store_kv_get(struct store *st, const char *ns, const char *key, char **value);
/* -ENOENT if absent. */
int store_kv_delete(struct store *st, const char *ns, const char *key);
/* Deletes every key of ns that holds value, except except_key; returns how
 * many went. */
int store_kv_delete_value(struct store *st, const char *ns, const char *value,
                          const char *except_key);

#endif
