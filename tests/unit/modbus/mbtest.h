/* Helpers of the meters tests: a libmodbus server (TCP or RTU) in a thread of
 * the test, whose registers the test sets, that can go silent, and a sample
 * collector with bounded waits on the loop. Static functions only: included
 * once per test executable. */
#ifndef SITEGATE_TEST_MBTEST_H
#define SITEGATE_TEST_MBTEST_H

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <modbus.h>
#include <uv.h>

#include "config.h"
#include "meters.h"

/* --- the server ------------------------------------------------------------- */

#define SRV_REGS 256

struct srv {
    bool rtu;
    char device[128];       /* rtu */
    int port;               /* tcp: 0 picks one on the first start */
    int slave;              /* rtu: the unit id it answers */
    pthread_t thread;
    bool running;
    atomic_bool stop;
    atomic_bool mute;       /* receive, never answer */
    atomic_int requests;
    pthread_mutex_t lock;   /* guards map */
    modbus_mapping_t *map;  /* holding and input registers 0..SRV_REGS-1 */
};

static inline void srv_init(struct srv *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->map = modbus_mapping_new_start_address(0, 0, 0, 0, 0, SRV_REGS, 0, SRV_REGS);
}

static inline void srv_free(struct srv *s)
{
    modbus_mapping_free(s->map);
    pthread_mutex_destroy(&s->lock);
}

static inline void srv_set(struct srv *s, bool input, int address, const uint16_t *regs, int n)
{
    pthread_mutex_lock(&s->lock);
    uint16_t *t = input ? s->map->tab_input_registers : s->map->tab_registers;
    memcpy(t + address, regs, (size_t)n * sizeof(*regs));
    pthread_mutex_unlock(&s->lock);
}

static inline void srv_set_f32(struct srv *s, bool input, int address, float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof(b));
    uint16_t regs[2] = { (uint16_t)(b >> 16), (uint16_t)b };
    srv_set(s, input, address, regs, 2);
}

static inline void srv_answer(struct srv *s, modbus_t *ctx, const uint8_t *q, int len)
{
    atomic_fetch_add(&s->requests, 1);
    if (atomic_load(&s->mute))
        return;
    pthread_mutex_lock(&s->lock);
    modbus_reply(ctx, q, len, s->map);
    pthread_mutex_unlock(&s->lock);
}

/* Several clients at once (one per meter), the way libmodbus's own
 * multi-client example serves them: one context, its socket switched. */
static inline void *srv_tcp_main(void *arg)
{
    struct srv *s = arg;
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", s->port);
    int listener = modbus_tcp_listen(ctx, 8);
    if (listener < 0) {
        perror("modbus_tcp_listen");
        abort();
    }
    int clients[16];
    int n_clients = 0;
    uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
    while (!atomic_load(&s->stop)) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(listener, &fds);
        int maxfd = listener;
        for (int i = 0; i < n_clients; i++) {
            FD_SET(clients[i], &fds);
            if (clients[i] > maxfd)
                maxfd = clients[i];
        }
        struct timeval tv = { 0, 20000 };
        if (select(maxfd + 1, &fds, NULL, NULL, &tv) <= 0)
            continue;
        if (FD_ISSET(listener, &fds)) {
            int fd = accept(listener, NULL, NULL);
            if (fd >= 0 && n_clients < 16)
                clients[n_clients++] = fd;
            else if (fd >= 0)
                close(fd);
        }
        for (int i = 0; i < n_clients; i++) {
            if (!FD_ISSET(clients[i], &fds))
                continue;
            modbus_set_socket(ctx, clients[i]);
            int rc = modbus_receive(ctx, q);
            if (rc > 0) {
                srv_answer(s, ctx, q, rc);
            } else if (rc < 0) {
                close(clients[i]);
                clients[i--] = clients[--n_clients];
            }
        }
    }
    for (int i = 0; i < n_clients; i++)
        close(clients[i]);
    close(listener);
    modbus_set_socket(ctx, -1);
    modbus_free(ctx);
    return NULL;
}

/* Answers read requests (functions 03 and 04: 8 bytes each) for its own unit
 * and stays silent for the others, the way a device on a shared line does.
 * libmodbus's own receive is not used: after a request for another unit it
 * waits for that unit's answer and swallows the next frame instead, which on
 * a line where that unit is absent is the next request. */
static inline void *srv_rtu_main(void *arg)
{
    struct srv *s = arg;
    modbus_t *ctx = modbus_new_rtu(s->device, 115200, 'N', 8, 1);
    if (!ctx || modbus_connect(ctx) != 0) {
        fprintf(stderr, "rtu server on %s: %s\n", s->device, modbus_strerror(errno));
        abort();
    }
    if (getenv("MBTEST_DEBUG"))
        modbus_set_debug(ctx, 1);
    int fd = modbus_get_socket(ctx);
    uint8_t q[8];
    size_t have = 0;
    while (!atomic_load(&s->stop)) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(fd, &fds);
        struct timeval tv = { 0, 20000 };
        int r = select(fd + 1, &fds, NULL, NULL, &tv);
        if (r == 0) {
            have = 0; /* a silent gap ends a frame: resynchronise */
            continue;
        }
        if (r < 0)
            continue;
        ssize_t n = read(fd, q + have, sizeof(q) - have);
        if (n <= 0)
            continue;
        have += (size_t)n;
        if (have < sizeof(q))
            continue;
        have = 0;
        if (q[0] == s->slave && (q[1] == 3 || q[1] == 4))
            srv_answer(s, ctx, q, (int)sizeof(q));
    }
    modbus_close(ctx);
    modbus_free(ctx);
    return NULL;
}

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static inline int srv_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("free port");
        abort();
    }
    close(fd);
    return ntohs(a.sin_port);
}

static inline void srv_start(struct srv *s)
{
    if (!s->rtu && s->port == 0)
        s->port = srv_free_port();
    atomic_store(&s->stop, false);
    if (pthread_create(&s->thread, NULL, s->rtu ? srv_rtu_main : srv_tcp_main, s) != 0)
        abort();
    s->running = true;
    if (!s->rtu) { /* listening before the test goes on */
        for (int i = 0; i < 200; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port),
                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
            int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
            close(fd);
            if (ok)
                break;
            usleep(10000);
        }
    }
}

/* Closes the listener and every connection: the meter is gone. */
static inline void srv_stop(struct srv *s)
{
    if (!s->running)
        return;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    s->running = false;
}

/* --- collecting samples on the loop ----------------------------------------- */

#define COLLECT_MAX 4096

struct collect {
    struct meter_sample all[COLLECT_MAX];
    int n;
    int ok[8], failed[8];           /* per meter */
    struct meter_sample last[8];
    struct meters *stop_from_callback; /* meters_stop() from on_sample when set */
    int after_stop;                 /* samples seen after that */
};

static inline void collect_cb(void *ctx, const struct meter_sample *s)
{
    struct collect *c = ctx;
    if (c->n < COLLECT_MAX)
        c->all[c->n++] = *s;
    if (s->meter >= 0 && s->meter < 8) {
        if (s->ok)
            c->ok[s->meter]++;
        else
            c->failed[s->meter]++;
        c->last[s->meter] = *s;
    }
    if (c->stop_from_callback == (struct meters *)-1)
        c->after_stop++;
    if (c->stop_from_callback && c->stop_from_callback != (struct meters *)-1) {
        meters_stop(c->stop_from_callback);
        c->stop_from_callback = (struct meters *)-1;
    }
}

static inline void wait__tick(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until pred() holds or timeout_ms passes; returns pred(). */
static inline bool wait_for(uv_loop_t *loop, bool (*pred)(struct collect *, int), struct collect *c,
                     int arg, int timeout_ms)
{
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, wait__tick, 10, 10);
    uint64_t deadline = uv_hrtime() / 1000000 + (uint64_t)timeout_ms;
    while (!pred(c, arg) && uv_hrtime() / 1000000 < deadline)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return pred(c, arg);
}

/* Predicates: the newest sample of meter `arg` is ok / failed. */
static inline bool last_ok(struct collect *c, int meter)
{
    return c->ok[meter] + c->failed[meter] > 0 && c->last[meter].ok;
}

static inline bool last_failed(struct collect *c, int meter)
{
    return c->ok[meter] + c->failed[meter] > 0 && !c->last[meter].ok;
}

static inline bool never(struct collect *c, int arg)
{
    (void)c;
    (void)arg;
    return false;
}

static inline uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

/* Stops m, runs the loop for the close, and checks the loop closes clean. */
static inline int stop_and_close(uv_loop_t *loop, struct meters *m, uint64_t *stop_ms)
{
    uint64_t t0 = now_ms();
    meters_stop(m);
    if (stop_ms)
        *stop_ms = now_ms() - t0;
    uv_run(loop, UV_RUN_DEFAULT);
    return uv_loop_close(loop);
}

#endif
