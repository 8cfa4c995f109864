/* CALLs in flight toward one peer, by message id.
 *
 * Every CALL the relay passes to a peer (or the gateway sends itself) is
 * entered here; the peer's CALLRESULT/CALLERROR is matched by id and routed
 * back to whoever sent the CALL. A result that matches nothing is not
 * delivered. The table is small (a peer has a handful of CALLs in flight) and
 * bounded, so a linear scan beats hashing.
 */
#ifndef SITEGATE_PENDING_H
#define SITEGATE_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct pending_call;

/* Called when the gateway's own CALL is answered (f) or times out (f == NULL). */
typedef void (*pending_cb)(void *ctx, const struct pending_call *call, const struct frame *f);

struct pending_call {
    char id[FRAME_ID_MAX + 1];
    char action[FRAME_NAME_MAX + 1];
    uint64_t sent_ms;
    uint64_t deadline_ms;
    pending_cb on_answer; /* NULL: relayed for the other peer */
    void *ctx;
    bool relayed;         /* with on_answer: the answer is relayed all the same, and
                             on_answer only looks at it (and handles no answer) */
    char *frame;          /* a copy of the CALL, when it must outlive the link; freed
                             by the table after expiry or abandon, by the taker else */
    size_t frame_len;
    int64_t tag, tag2;    /* the sender's own use (replay: queue seq, local tx id) */
};

struct pending {
    struct pending_call *calls;
    size_t n, cap, max;
};

/* Prepares an empty table of at most max calls. */
void pending_init(struct pending *p, size_t max);

/* Frees the table (and the frames it holds); pending CALLs are not called back. */
void pending_free(struct pending *p);

/* Enters a CALL. -EEXIST when the id is already in flight, -ENOBUFS when full. */
int pending_add(struct pending *p, const struct pending_call *call);

/* Removes the CALL with this id into *out (its frame, if any, is the caller's
 * to free); -ENOENT when there is none. */
int pending_take(struct pending *p, const char *id, struct pending_call *out);

/* Whether a CALL with this id is in flight. */
int pending_has(const struct pending *p, const char *id);

/* Removes every CALL whose deadline is before now, oldest first, calling back
 * those with a callback; returns how many expired. */
size_t pending_expire(struct pending *p, uint64_t now_ms);

/* Brings the deadline of every relayed CALL forward to at most wait_ms after
 * it was sent (the peer turned out unreachable while they were held). */
void pending_hurry_relayed(struct pending *p, uint64_t wait_ms);

/* Removes every CALL (the peer went away), oldest first, calling back those
 * with a callback. */
size_t pending_abandon(struct pending *p);

#endif
