#include "bench_wsq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#define BWSQ__OUT_MIN 4096   /* first size of a choked socket's queue */
#define BWSQ__HEAD 4         /* the length in front of a queued message */

/* lws_write needs LWS_PRE bytes of room in front of what it sends. */
static unsigned char bwsq__scratch[LWS_PRE + BWSQ_FRAME_MAX];

static int bwsq__write(struct lws *wsi, const void *msg, size_t len)
{
    memcpy(bwsq__scratch + LWS_PRE, msg, len);
    /* lws keeps what the kernel did not take and finishes it itself. */
    return lws_write(wsi, bwsq__scratch + LWS_PRE, len, LWS_WRITE_TEXT) >= (int)len ? 0 : -1;
}

/* Whether something waits; then the WRITEABLE callback is due. */
static void bwsq__update(struct bwsq *q, struct lws *wsi)
{
    q->busy = q->out_head < q->out_tail || (wsi && lws_partial_buffered(wsi));
    if (q->busy && wsi)
        lws_callback_on_writable(wsi);
}

/* Room for n more queued bytes: the sent part moves out, then the buffer
 * grows (doubling, up to BWSQ_OUT_MAX). */
static int bwsq__room(struct bwsq *q, size_t n)
{
    if (q->out_tail + n <= q->out_cap)
        return 0;
    if (q->out_head) {
        memmove(q->out, q->out + q->out_head, q->out_tail - q->out_head);
        q->out_tail -= q->out_head;
        q->out_head = 0;
    }
    size_t cap = q->out_cap ? q->out_cap : BWSQ__OUT_MIN;
    while (cap < q->out_tail + n && cap < BWSQ_OUT_MAX)
        cap *= 2;
    if (q->out_tail + n > cap)
        return -1;
    if (cap != q->out_cap) {
        unsigned char *grown = realloc(q->out, cap);
        if (!grown)
            return -1;
        q->out = grown;
        q->out_cap = cap;
    }
    return 0;
}

int bwsq_send(struct bwsq *q, struct lws *wsi, const char *msg, size_t len)
{
    if (len > BWSQ_FRAME_MAX)
        return -1;
    if (wsi && q->out_head == q->out_tail && !lws_partial_buffered(wsi)) {
        if (bwsq__write(wsi, msg, len) < 0)
            return -1;
        bwsq__update(q, wsi);
        return 0;
    }
    if (bwsq__room(q, BWSQ__HEAD + len) < 0)
        return -1;
    uint32_t n = (uint32_t)len;
    memcpy(q->out + q->out_tail, &n, BWSQ__HEAD);
    memcpy(q->out + q->out_tail + BWSQ__HEAD, msg, len);
    q->out_tail += BWSQ__HEAD + len;
    bwsq__update(q, wsi);
    return 0;
}

int bwsq_writeable(struct bwsq *q, struct lws *wsi)
{
    while (q->out_head < q->out_tail && !lws_partial_buffered(wsi)) {
        uint32_t n;
        memcpy(&n, q->out + q->out_head, BWSQ__HEAD);
        if (bwsq__write(wsi, q->out + q->out_head + BWSQ__HEAD, n) < 0)
            return -1;
        q->out_head += BWSQ__HEAD + n;
    }
    if (q->out_head == q->out_tail)
        q->out_head = q->out_tail = 0;
    bwsq__update(q, wsi);
    return 0;
}

int bwsq_receive(struct bwsq *q, struct lws *wsi, const void *in, size_t len, const char **msg,
                 size_t *msg_len)
{
    bool final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    if (final && q->rx_len == 0 && lws_is_first_fragment(wsi)) {
        *msg = in; /* the common case: one piece, no copy */
        *msg_len = len;
        return len <= BWSQ_FRAME_MAX ? 1 : -1;
    }
    if (q->rx_len + len > BWSQ_FRAME_MAX)
        return -1;
    if (!q->rx && !(q->rx = malloc(BWSQ_FRAME_MAX)))
        return -1;
    memcpy(q->rx + q->rx_len, in, len);
    q->rx_len += len;
    if (!final)
        return 0;
    *msg = q->rx;
    *msg_len = q->rx_len;
    q->rx_len = 0;
    return 1;
}

void bwsq_free(struct bwsq *q)
{
    free(q->rx);
    free(q->out);
    memset(q, 0, sizeof(*q));
}
