#include "link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

/* lws 4.1's public headers do not name the close opcode for lws_write; it is
 * the write type after LWS_WRITE_BINARY/CONTINUATION/HTTP (see docs/platform.md). */
#define LINK__WRITE_CLOSE 4

/* Seconds a socket may wait for the peer's answer to our close frame. */
#define LINK__CLOSE_WAIT_S 2

struct link_msg {
    struct link_msg *next;
    char id[37];          /* a CALL's message id, "" for anything else */
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of room, then the message */
};

/* Direct writes need LWS_PRE bytes in front of the message: one scratch buffer,
 * reused, since everything runs on the loop thread. */
static unsigned char *link__scratch;
static size_t link__scratch_cap;

static void link__next_call(struct link *l);

static struct link_msg *link__msg_new(const char *data, size_t len, const char *id)
{
    struct link_msg *m = malloc(sizeof(*m) + LWS_PRE + len);
    if (!m)
        return NULL;
    snprintf(m->id, sizeof(m->id), "%s", id);
    m->len = len;
    memcpy(m->data + LWS_PRE, data, len);
    return m;
}

/* Puts m at the head or the tail of a list. */
static void link__put(struct link_msg **head, struct link_msg **tail, struct link_msg *m, bool first)
{
    if (first) {
        m->next = *head;
        *head = m;
        if (!*tail)
            *tail = m;
        return;
    }
    m->next = NULL;
    if (*tail)
        (*tail)->next = m;
    else
        *head = m;
    *tail = m;
}

void link_init(struct link *l, size_t max_queued)
{
    memset(l, 0, sizeof(*l));
    l->max_queued = max_queued;
}

void link_limit_bytes(struct link *l, size_t max_bytes, bool close_when_full)
{
    l->max_bytes = max_bytes;
    l->close_when_full = close_when_full;
}

void link_attach(struct link *l, struct lws *wsi)
{
    l->wsi = wsi;
    l->close_code = 0;
    l->close_sent = false;
    if (l->head)
        lws_callback_on_writable(wsi);
    link__next_call(l);
}

/* With one_call: a CALL let out but not written before the socket died
 * waits for its turn again, ahead of the others. */
static void link__calls_back(struct link *l)
{
    struct link_msg **pp = &l->head, *back = NULL, *back_last = NULL;
    l->tail = NULL;
    while (*pp) {
        struct link_msg *m = *pp;
        if (!m->id[0]) {
            l->tail = m;
            pp = &m->next;
            continue;
        }
        *pp = m->next;
        l->queued--;
        l->queued_bytes -= m->len;
        m->next = NULL;
        if (back_last)
            back_last->next = m;
        else
            back = m;
        back_last = m;
        l->calls_queued++;
    }
    if (!back)
        return;
    back_last->next = l->calls_head;
    if (!l->calls_head)
        l->calls_tail = back_last;
    l->calls_head = back;
}

void link_detach(struct link *l)
{
    if (l->one_call)
        link__calls_back(l);
    l->call_out = false;
    l->wsi = NULL;
    l->close_code = 0;
    l->close_sent = false;
    free(l->rx);
    l->rx = NULL;
    l->rx_len = l->rx_cap = 0;
}

static void link__free_list(struct link_msg *m)
{
    while (m) {
        struct link_msg *next = m->next;
        free(m);
        m = next;
    }
}

static void link__drop_queue(struct link *l)
{
    link__free_list(l->head);
    l->head = l->tail = NULL;
    l->queued = l->queued_bytes = 0;
}

void link_reset(struct link *l)
{
    link__drop_queue(l);
    link__free_list(l->calls_head);
    l->calls_head = l->calls_tail = NULL;
    l->calls_queued = 0;
    link_detach(l);
}

/* Whether a frame can go to the socket now. lws_send_pipe_choked() would poll(2)
 * the socket for every frame; the kernel's buffer is large, and when it is
 * full lws keeps the rest of the frame (partial) and sends it before telling
 * us the socket is writable again. */
static bool link__can_write(const struct link *l)
{
    return !lws_partial_buffered(l->wsi);
}

static int link__write(struct lws *wsi, unsigned char *data, size_t len)
{
    int n = lws_write(wsi, data, len, LWS_WRITE_TEXT);
    return n < (int)len ? -1 : 0;
}

static int link__write_direct(struct link *l, const char *data, size_t len)
{
    if (link__scratch_cap < LWS_PRE + len) {
        unsigned char *grown = realloc(link__scratch, LWS_PRE + len);
        if (!grown)
            return -ENOMEM;
        link__scratch = grown;
        link__scratch_cap = LWS_PRE + len;
    }
    memcpy(link__scratch + LWS_PRE, data, len);
    /* lws keeps whatever the kernel did not take and finishes it itself. */
    return link__write(l->wsi, link__scratch + LWS_PRE, len);
}

int link_send(struct link *l, const char *data, size_t len)
{
    return link_send_call(l, data, len, "");
}

static int link__enqueue(struct link *l, const char *data, size_t len, const char *id, bool first)
{
    if (l->queued >= l->max_queued || (l->max_bytes && l->queued_bytes + len > l->max_bytes)) {
        if (l->close_when_full && l->wsi) {
            l->overflowed = true;
            link_close(l, LINK_CLOSE_POLICY, false);
        }
        return -ENOBUFS;
    }
    struct link_msg *m = link__msg_new(data, len, id);
    if (!m)
        return -ENOMEM;
    link__put(&l->head, &l->tail, m, first);
    l->queued++;
    l->queued_bytes += len;
    if (l->wsi)
        lws_callback_on_writable(l->wsi);
    return 0;
}

static uint64_t link__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* With one_call: the oldest waiting CALL goes, if none is out. */
static void link__next_call(struct link *l)
{
    struct link_msg *m = l->calls_head;
    if (!l->one_call || l->call_out || !m || !l->wsi || l->close_code)
        return;
    l->calls_head = m->next;
    if (!l->calls_head)
        l->calls_tail = NULL;
    l->calls_queued--;
    l->call_out = true;
    l->call_out_ms = link__now_ms();
    snprintf(l->call_out_id, sizeof(l->call_out_id), "%s", m->id);
    if (!l->head && link__can_write(l)) {
        if (link__write_direct(l, (const char *)m->data + LWS_PRE, m->len) < 0)
            l->call_out = false; /* the socket is failing: lws closes it */
        free(m);
        return;
    }
    link__put(&l->head, &l->tail, m, false);
    l->queued++;
    l->queued_bytes += m->len;
    lws_callback_on_writable(l->wsi);
}

/* A CALL waiting for its turn (one_call), first or last. */
static int link__wait_call(struct link *l, const char *data, size_t len, const char *id, bool first)
{
    if (l->queued + l->calls_queued >= l->max_queued)
        return -ENOBUFS;
    struct link_msg *m = link__msg_new(data, len, id);
    if (!m)
        return -ENOMEM;
    link__put(&l->calls_head, &l->calls_tail, m, first);
    l->calls_queued++;
    link__next_call(l);
    return 0;
}

void link_one_call(struct link *l)
{
    l->one_call = true;
}

void link_call_answered(struct link *l, const char *id)
{
    if (!l->call_out || strcmp(l->call_out_id, id) != 0)
        return;
    l->call_out = false;
    link__next_call(l);
}

bool link_call_overdue(const struct link *l, uint64_t timeout_ms)
{
    return l->call_out && link__now_ms() - l->call_out_ms > timeout_ms;
}

int link_send_call(struct link *l, const char *data, size_t len, const char *id)
{
    if (l->close_code)
        return -ESHUTDOWN;
    if (l->one_call && id[0])
        return link__wait_call(l, data, len, id, false);
    /* Writing at once, when nothing is queued, saves a poll round per message. */
    if (l->wsi && !l->head && link__can_write(l))
        return link__write_direct(l, data, len) == 0 ? 0 : -EIO;
    return link__enqueue(l, data, len, id, false);
}

int link_send_first(struct link *l, const char *data, size_t len, const char *id)
{
    if (l->close_code)
        return -ESHUTDOWN;
    if (l->one_call)
        return link__wait_call(l, data, len, id, true);
    return link__enqueue(l, data, len, id, true);
}

void link_close(struct link *l, uint16_t code, bool flush)
{
    if (!l->wsi || l->close_code)
        return;
    l->close_code = code;
    l->close_flush = flush;
    if (!flush)
        link__drop_queue(l);
    lws_callback_on_writable(l->wsi);
    /* A peer that never reads must not hold the close up forever. */
    lws_set_timeout(l->wsi, PENDING_TIMEOUT_CLOSE_SEND, LINK__CLOSE_WAIT_S + 1);
}

static int link__send_close(struct link *l)
{
    unsigned char buf[LWS_PRE + 2];
    buf[LWS_PRE] = (unsigned char)(l->close_code >> 8);
    buf[LWS_PRE + 1] = (unsigned char)(l->close_code & 0xff);
    /* lws_close_reason() + return -1 loses the frame on a libuv loop with
     * Debian's lws (docs/platform.md): write it ourselves and wait for the echo. */
    if (lws_write(l->wsi, buf + LWS_PRE, 2, (enum lws_write_protocol)LINK__WRITE_CLOSE) < 0)
        return -1;
    l->close_sent = true;
    lws_set_timeout(l->wsi, PENDING_TIMEOUT_CLOSE_ACK, LINK__CLOSE_WAIT_S);
    return 0;
}

int link_on_writeable(struct link *l)
{
    if (l->close_sent)
        return 0;
    while (l->head && link__can_write(l)) {
        struct link_msg *m = l->head;
        l->head = m->next;
        if (!l->head)
            l->tail = NULL;
        l->queued--;
        l->queued_bytes -= m->len;
        int rc = link__write(l->wsi, m->data + LWS_PRE, m->len);
        free(m);
        if (rc < 0)
            return -1;
    }
    if (l->head) {
        lws_callback_on_writable(l->wsi);
        return 0;
    }
    if (l->close_code && link__can_write(l))
        return link__send_close(l);
    if (l->close_code)
        lws_callback_on_writable(l->wsi);
    return 0;
}

int link_on_receive(struct link *l, const void *in, size_t len, size_t max,
                    const char **msg, size_t *msg_len)
{
    bool first = lws_is_first_fragment(l->wsi);
    bool final = lws_is_final_fragment(l->wsi) && !lws_remaining_packet_payload(l->wsi);

    if (first && final && l->rx_len == 0) {
        if (len > max)
            return -EMSGSIZE;
        *msg = in; /* the common case: one fragment, no copy */
        *msg_len = len;
        return 1;
    }
    if (l->rx_len + len > max)
        return -EMSGSIZE;
    if (l->rx_len + len > l->rx_cap) {
        size_t cap = l->rx_cap ? l->rx_cap : 4096;
        while (cap < l->rx_len + len)
            cap *= 2;
        if (cap > max)
            cap = max;
        char *grown = realloc(l->rx, cap);
        if (!grown)
            return -ENOMEM;
        l->rx = grown;
        l->rx_cap = cap;
    }
    memcpy(l->rx + l->rx_len, in, len);
    l->rx_len += len;
    if (!final)
        return 0;
    *msg = l->rx;
    *msg_len = l->rx_len;
    l->rx_len = 0; /* the buffer stays valid until the next call */
    return 1;
}

/* Takes the message with this id out of a list; its length, or -1. */
static long link__take(struct link_msg **head, struct link_msg **tail, const char *id)
{
    struct link_msg *prev = NULL;
    for (struct link_msg *m = *head; m; prev = m, m = m->next) {
        if (!m->id[0] || strcmp(m->id, id) != 0)
            continue;
        if (prev)
            prev->next = m->next;
        else
            *head = m->next;
        if (*tail == m)
            *tail = prev;
        long len = (long)m->len;
        free(m);
        return len;
    }
    return -1;
}

bool link_unqueue(struct link *l, const char *id)
{
    long len = link__take(&l->head, &l->tail, id);
    if (len >= 0) {
        l->queued--;
        l->queued_bytes -= (size_t)len;
        return true;
    }
    if (link__take(&l->calls_head, &l->calls_tail, id) < 0)
        return false;
    l->calls_queued--;
    return true;
}

bool link_closing(const struct link *l)
{
    return l->close_sent || l->close_code;
}
