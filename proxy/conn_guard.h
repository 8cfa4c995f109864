/* Admission of charger connections: how many sockets in all and per source
 * address, and how long each may take to become a WebSocket.
 *
 * Counted from the TCP accept (before TLS), so that half-open handshakes take
 * their share too; released when lws frees the socket. Pure bookkeeping: the
 * caller gets the peer's address and closes what the sweep reports.
 */
#ifndef SITEGATE_CONN_GUARD_H
#define SITEGATE_CONN_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn_guard_addr;

/* One admitted connection. */
struct conn_guard_conn {
    struct conn_guard_conn *prev, *next;
    struct conn_guard *guard; /* the guard it is counted in */
    struct conn_guard_addr *addr;
    void *owner;              /* the caller's socket */
    uint64_t deadline_ms;     /* for the handshake; 0 once established */
};

struct conn_guard {
    struct conn_guard_addr **buckets;
    size_t n_buckets;
    struct conn_guard_conn *head;
    unsigned total;
    unsigned max_total;
    unsigned max_per_addr;    /* 0: no limit */
    uint64_t handshake_ms;
    unsigned refused_unlogged; /* the caller's: refusals not logged one by one */
};

enum conn_guard_refusal { CONN_GUARD_OK, CONN_GUARD_TOO_MANY, CONN_GUARD_TOO_MANY_FROM_ADDR };

/* Prepares an empty guard. 0 or -ENOMEM. */
int conn_guard_init(struct conn_guard *g, unsigned max_total, unsigned max_per_addr,
                    unsigned handshake_s);

/* Frees the guard and every connection still in it, calling forget(owner)
 * for each (when not NULL) so that the owner drops its pointer to the record. */
void conn_guard_free(struct conn_guard *g, void (*forget)(void *owner));

/* Admits a connection from address (text) at now: *out is its record, or
 * NULL with the reason it is refused (or -ENOMEM as CONN_GUARD_TOO_MANY). */
enum conn_guard_refusal conn_guard_admit(struct conn_guard *g, const char *address, void *owner,
                                         uint64_t now_ms, struct conn_guard_conn **out);

/* The connection is a WebSocket now: no handshake deadline any more. */
void conn_guard_established(struct conn_guard_conn *c);

/* The connection is gone: frees its record. */
void conn_guard_release(struct conn_guard *g, struct conn_guard_conn *c);

/* Calls expired(ctx, owner) for every handshake past its deadline (once each:
 * its deadline is cleared); returns how many. */
size_t conn_guard_sweep(struct conn_guard *g, uint64_t now_ms,
                        void (*expired)(void *ctx, void *owner), void *ctx);

/* Connections now, in all and from one address. */
unsigned conn_guard_count(const struct conn_guard *g, const char *address);

#endif
