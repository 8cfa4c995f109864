/* One WebSocket's traffic as the bench tools (fast_csms, loadgen, ref_relay)
 * handle it: whole messages put together from lws's pieces, and a bounded
 * send queue.
 *
 * A message is written at once when nothing waits before it: neither in this
 * queue nor in what lws kept of a partial write (lws_partial_buffered, a flag:
 * no poll(2) per message as lws_send_pipe_choked does). Otherwise it is
 * queued, up to BWSQ_OUT_MAX bytes, and written from the WRITEABLE callback.
 * Loop thread only: the direct writes share one scratch buffer.
 */
#ifndef SITEGATE_BENCH_WSQ_H
#define SITEGATE_BENCH_WSQ_H

#include <stdbool.h>
#include <stddef.h>

struct lws;

#define BWSQ_FRAME_MAX 65536        /* largest message, either way */
#define BWSQ_OUT_MAX (1024 * 1024)  /* bytes waiting for a choked socket, at most */

struct bwsq {
    char *rx;                    /* a message arriving in pieces (BWSQ_FRAME_MAX) */
    size_t rx_len;
    unsigned char *out;          /* queued messages: [uint32 length][bytes] ... */
    size_t out_head, out_tail, out_cap;
    bool busy;                   /* something waits: queued here, or kept by lws */
};

/* Sends a text message, or queues it (wsi NULL: no socket yet, it waits for
 * the first bwsq_writeable). -1: the socket must be closed (the write
 * failed, or the queue would pass BWSQ_OUT_MAX: a peer not reading). */
int bwsq_send(struct bwsq *q, struct lws *wsi, const char *msg, size_t len);

/* From the WRITEABLE callback (or once the socket is up): writes what is
 * queued. -1: close. */
int bwsq_writeable(struct bwsq *q, struct lws *wsi);

/* From the RECEIVE callback: 1 and the message when it is whole (valid until
 * the next call), 0 while pieces are due, -1 when it passes BWSQ_FRAME_MAX
 * (or no memory). */
int bwsq_receive(struct bwsq *q, struct lws *wsi, const void *in, size_t len, const char **msg,
                 size_t *msg_len);

/* Frees the buffers; the queue is as zeroed again. */
void bwsq_free(struct bwsq *q);

#endif
