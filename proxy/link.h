/* One WebSocket connection as the relay sees it: a bounded, ordered send queue,
 * reassembly of fragmented messages, and closing with a status code.
 *
 * A link outlives its socket: the queue of a link with no socket is kept (this
 * is how frames are held while the upstream is down) until link_reset.
 */
#ifndef SITEGATE_LINK_H
#define SITEGATE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lws;
struct link_msg;

struct link {
    struct lws *wsi;           /* NULL while not connected */
    struct link_msg *head, *tail;
    size_t queued;             /* messages waiting in the queue */
    size_t queued_bytes;
    size_t max_queued;
    size_t max_bytes;          /* of the messages queued; 0: no bound but max_queued */
    bool close_when_full;      /* a full queue closes the socket (a peer not reading) */
    bool overflowed;           /* it did */
    char *rx;                  /* a message arriving in fragments */
    size_t rx_len, rx_cap;
    /* OCPP-J: a client should not send a CALL before its previous one is
     * answered. With one_call the link keeps that rule for everyone who
     * sends on it (the site's single socket in aggregate mode). */
    bool one_call;
    bool call_out;             /* a CALL is written and not answered yet */
    char call_out_id[37];
    uint64_t call_out_ms;      /* when it was written (monotonic) */
    struct link_msg *calls_head, *calls_tail; /* CALLs waiting for their turn */
    size_t calls_queued;
    uint16_t close_code;       /* a close was asked for: sent once the queue drains */
    bool close_flush;          /* send what is queued before the close frame */
    bool close_sent;
};

/* Close codes of RFC 6455 that the relay uses. */
enum {
    LINK_CLOSE_NORMAL = 1000,
    LINK_CLOSE_GOING_AWAY = 1001,
    LINK_CLOSE_POLICY = 1008,
    LINK_CLOSE_TOO_BIG = 1009,
};

/* Prepares an unconnected link whose queue holds at most max_queued messages. */
void link_init(struct link *l, size_t max_queued);

/* Bounds the bytes queued too; with close_when_full, a message that does not
 * fit closes the socket (1008) instead of being refused alone: the peer is
 * not reading, and the gateway must not buffer for it without bound. */
void link_limit_bytes(struct link *l, size_t max_bytes, bool close_when_full);

/* Binds the link to a connected socket and starts flushing what is queued. */
void link_attach(struct link *l, struct lws *wsi);

/* Unbinds the socket (it closed); the queue is kept. */
void link_detach(struct link *l);

/* Frees the queue and reassembly buffer; the link is then as after link_init. */
void link_reset(struct link *l);

/* Sends one text message, or queues it in order. -ENOBUFS when the queue is full,
 * -ESHUTDOWN when the link is closing. */
int link_send(struct link *l, const char *data, size_t len);

/* Queues a CALL ahead of everything queued (a socket's first message, before
 * what was held while it was down). */
int link_send_first(struct link *l, const char *data, size_t len, const char *id);

/* From now on, CALLs go one at a time (see one_call). */
void link_one_call(struct link *l);

/* The CALL with this id was answered: with one_call, the next may go. */
void link_call_answered(struct link *l, const char *id);

/* With one_call: whether the CALL in flight has had no answer for timeout_ms. */
bool link_call_overdue(const struct link *l, uint64_t timeout_ms);

/* link_send for a CALL, remembering its message id while it is queued. */
int link_send_call(struct link *l, const char *data, size_t len, const char *id);

/* Takes a still-queued CALL back out (it was answered in the peer's place);
 * whether it was there. */
bool link_unqueue(struct link *l, const char *id);

/* Asks for the socket to be closed with this code, after the queued messages
 * when flush is set (they are dropped otherwise). */
void link_close(struct link *l, uint16_t code, bool flush);

/* To call from the socket's WRITEABLE callback; returns -1 when lws must close it. */
int link_on_writeable(struct link *l);

/* To call from a RECEIVE callback. Returns 1 and sets *msg and *msg_len when a whole
 * message is there (valid until the next call), 0 when more fragments are due,
 * -EMSGSIZE when the message would exceed max bytes. */
int link_on_receive(struct link *l, const void *in, size_t len, size_t max,
                    const char **msg, size_t *msg_len);

/* Whether the peer's close should end the socket now (we sent ours first). */
bool link_closing(const struct link *l);

#endif
