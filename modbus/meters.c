/* The meter workers: one thread per Modbus TCP meter and per RTU line, each
 * with its own libmodbus context (a modbus_t is not thread-safe), posting
 * samples to the mailbox and waking the loop. See meters.h for the contract.
 *
 * Stopping: the stop flag, the condition variable the workers sleep on and the
 * TCP sockets' descriptors are guarded by one mutex. meters_stop sets the flag,
 * wakes the sleepers and shuts the TCP sockets down (so that a blocked read
 * returns at once); a worker forgets its descriptor under the same mutex
 * before closing it, so the shutdown can never hit a reused descriptor. */
#include "meters.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <modbus.h>

#include "decode.h"
#include "log.h"
#include "mailbox.h"
#include "plan.h"

#define METERS__BACKOFF_MAX_MS 30000

struct meters__device {
    int meter; /* index in cfg->meters */
    char name[CONFIG_METER_NAME_MAX + 1];
    enum config_meter_role role;
    int unit_id, poll_ms, timeout_ms, retries;
    struct config_register map[CONFIG_Q_COUNT];
    struct plan plan;
    uint64_t due_ms;    /* next reading */
    unsigned failures;  /* in a row, for the backoff */
    int state;          /* -1 unknown, 0 failing, 1 ok: logged on change */
};

struct meters__bus {
    struct meters *owner;
    pthread_t thread;
    bool started;
    enum config_transport transport;
    char *host;  /* tcp */
    char port[8];
    char *device; /* rtu */
    int baud, data_bits, stop_bits;
    char parity;
    modbus_t *ctx;
    bool connected;
    int fd; /* the connected TCP socket, under owner->lock; -1: none */
    struct meters__device *devs;
    size_t n_devs;
};

struct meters {
    uv_loop_t *loop;
    uv_async_t async;
    void (*on_sample)(void *ctx, const struct meter_sample *s);
    void *ctx;
    pthread_mutex_t lock; /* stopping, cond, buses' fd */
    pthread_cond_t cond;
    bool stopping;
    bool closed;          /* loop thread: meters_stop was called */
    struct mailbox mailbox;
    struct meter_sample *drain;
    size_t drain_cap;
    struct meters__bus *buses;
    size_t n_buses;
};

static uint64_t meters__now_ms(void)
{
    return uv_hrtime() / 1000000;
}

static bool meters__stopping(struct meters *m)
{
    pthread_mutex_lock(&m->lock);
    bool s = m->stopping;
    pthread_mutex_unlock(&m->lock);
    return s;
}

/* Doubles from poll_ms with each failure in a row, up to 30 s. */
static uint64_t meters__backoff_ms(int poll_ms, unsigned failures)
{
    uint64_t d = (uint64_t)poll_ms;
    for (unsigned i = 1; i < failures && d < METERS__BACKOFF_MAX_MS; i++)
        d *= 2;
    if (d > METERS__BACKOFF_MAX_MS)
        d = METERS__BACKOFF_MAX_MS;
    return d > (uint64_t)poll_ms ? d : (uint64_t)poll_ms;
}

/* --- the worker ------------------------------------------------------------ */

static void meters__sample_init(struct meter_sample *s, const struct meters__device *d,
                                uint64_t taken_ms)
{
    memset(s, 0, sizeof(*s));
    s->meter = d->meter;
    s->role = d->role;
    s->taken_ms = taken_ms;
    for (int i = 0; i < 3; i++)
        s->current_a[i] = s->power_phase_w[i] = s->voltage_v[i] = NAN;
    s->power_w = s->energy_wh = s->oil_temp_c = s->winding_temp_c = s->load_kva = NAN;
}

static double *meters__field(struct meter_sample *s, enum config_quantity q)
{
    switch (q) {
    case CONFIG_Q_CURRENT_L1: return &s->current_a[0];
    case CONFIG_Q_CURRENT_L2: return &s->current_a[1];
    case CONFIG_Q_CURRENT_L3: return &s->current_a[2];
    case CONFIG_Q_POWER: return &s->power_w;
    case CONFIG_Q_POWER_L1: return &s->power_phase_w[0];
    case CONFIG_Q_POWER_L2: return &s->power_phase_w[1];
    case CONFIG_Q_POWER_L3: return &s->power_phase_w[2];
    case CONFIG_Q_ENERGY_IMPORT: return &s->energy_wh;
    case CONFIG_Q_VOLTAGE_L1: return &s->voltage_v[0];
    case CONFIG_Q_VOLTAGE_L2: return &s->voltage_v[1];
    case CONFIG_Q_VOLTAGE_L3: return &s->voltage_v[2];
    case CONFIG_Q_OIL_TEMP_C: return &s->oil_temp_c;
    case CONFIG_Q_WINDING_TEMP_C: return &s->winding_temp_c;
    case CONFIG_Q_LOAD_KVA: return &s->load_kva;
    case CONFIG_Q_COUNT: break;
    }
    return NULL;
}

static void meters__post(struct meters__bus *b, struct meters__device *d,
                         const struct meter_sample *s)
{
    struct meters *m = b->owner;
    if (meters__stopping(m))
        return; /* a read cut short by the stop is not the meter's failure */
    int state = s->ok ? 1 : 0;
    if (state != d->state) {
        if (s->ok)
            log_info("modbus", "meter ok name=%s", d->name);
        else
            log_warn("modbus", "meter failing name=%s reason=%s", d->name, s->error);
        d->state = state;
    }
    d->failures = s->ok ? 0 : d->failures + 1;
    mailbox_post(&m->mailbox, s);
    uv_async_send(&m->async);
}

static void meters__disconnect(struct meters__bus *b)
{
    if (!b->connected)
        return;
    pthread_mutex_lock(&b->owner->lock);
    b->fd = -1;
    pthread_mutex_unlock(&b->owner->lock);
    modbus_close(b->ctx);
    b->connected = false;
}

static int meters__connect(struct meters__bus *b, const struct meters__device *d, char *why,
                           size_t why_len)
{
    if (b->connected)
        return 0;
    modbus_set_response_timeout(b->ctx, (uint32_t)(d->timeout_ms / 1000),
                                (uint32_t)(d->timeout_ms % 1000) * 1000);
    if (modbus_connect(b->ctx) != 0) {
        int e = errno;
        /* libmodbus reports a name that does not resolve as ECONNREFUSED. */
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
        int g = b->transport == CONFIG_MODBUS_TCP && e == ECONNREFUSED
                    ? getaddrinfo(b->host, b->port, &hints, &res)
                    : 0;
        if (res)
            freeaddrinfo(res);
        if (g)
            snprintf(why, why_len, "connect: cannot resolve %s: %s", b->host, gai_strerror(g));
        else
            snprintf(why, why_len, "connect: %s", modbus_strerror(e));
        return -1;
    }
    b->connected = true;
    if (b->transport == CONFIG_MODBUS_TCP) {
        pthread_mutex_lock(&b->owner->lock);
        b->fd = modbus_get_socket(b->ctx);
        if (b->owner->stopping) /* stopped while connecting: cut it now */
            shutdown(b->fd, SHUT_RDWR);
        pthread_mutex_unlock(&b->owner->lock);
    }
    return 0;
}

static bool meters__exception(int e)
{
    return e > MODBUS_ENOBASE && e <= EMBXGTAR;
}

/* Reads one planned span, retrying timeouts. On a failure that leaves the
 * line in doubt, drops the connection (TCP) or flushes it (RTU). */
static int meters__read(struct meters__bus *b, const struct meters__device *d,
                        const struct plan_read *r, uint16_t *regs, char *why, size_t why_len)
{
    for (int attempt = 0;; attempt++) {
        int n = r->function == CONFIG_REG_INPUT
                    ? modbus_read_input_registers(b->ctx, r->address, r->count, regs)
                    : modbus_read_registers(b->ctx, r->address, r->count, regs);
        if (n == r->count)
            return 0;
        int e = n < 0 ? errno : EMBBADDATA;
        snprintf(why, why_len, "%s %d+%d: %s", r->function == CONFIG_REG_INPUT ? "input" : "holding",
                 r->address, r->count, modbus_strerror(e));
        if (meters__exception(e))
            return -1; /* the device answered: the line is fine */
        if (e == ETIMEDOUT && attempt < d->retries && !meters__stopping(b->owner)) {
            modbus_flush(b->ctx);
            continue;
        }
        bool line_error = e == ETIMEDOUT || e == EMBBADCRC || e == EMBBADDATA ||
                          e == EMBBADEXC || e == EMBMDATA || e == EMBBADSLAVE;
        if (b->transport == CONFIG_MODBUS_RTU && line_error)
            modbus_flush(b->ctx);
        else
            meters__disconnect(b);
        return -1;
    }
}

static void meters__poll(struct meters__bus *b, struct meters__device *d)
{
    uint16_t regs[CONFIG_Q_COUNT][PLAN_MAX_REGS];
    struct meter_sample s;
    meters__sample_init(&s, d, meters__now_ms());

    int rc = meters__connect(b, d, s.error, sizeof(s.error));
    if (!rc) {
        modbus_set_slave(b->ctx, d->unit_id);
        modbus_set_response_timeout(b->ctx, (uint32_t)(d->timeout_ms / 1000),
                                    (uint32_t)(d->timeout_ms % 1000) * 1000);
    }
    for (size_t i = 0; !rc && i < d->plan.n_reads; i++) {
        if (meters__stopping(b->owner))
            return;
        rc = meters__read(b, d, &d->plan.reads[i], regs[i], s.error, sizeof(s.error));
    }
    for (int q = 0; !rc && q < CONFIG_Q_COUNT; q++) {
        if (d->plan.read_of[q] < 0)
            continue;
        const uint16_t *at = regs[d->plan.read_of[q]] + d->plan.offset_of[q];
        rc = decode_value(at, &d->map[q], q, meters__field(&s, q), s.error, sizeof(s.error));
    }
    if (!rc && d->map[CONFIG_Q_POWER].present && d->map[CONFIG_Q_POWER_L1].present &&
        d->map[CONFIG_Q_POWER_L2].present && d->map[CONFIG_Q_POWER_L3].present)
        rc = decode_check_phases(s.power_w, s.power_phase_w, s.error, sizeof(s.error));
    if (rc) {
        char error[METER_ERROR_MAX];
        memcpy(error, s.error, sizeof(error));
        meters__sample_init(&s, d, s.taken_ms);
        memcpy(s.error, error, sizeof(error));
    } else {
        s.ok = true;
    }
    meters__post(b, d, &s);
}

static void meters__schedule(struct meters__device *d, uint64_t started, uint64_t now)
{
    if (d->failures) {
        d->due_ms = now + meters__backoff_ms(d->poll_ms, d->failures);
        return;
    }
    /* A steady rate, without a burst of catch-up polls after a slow one. */
    d->due_ms = started + (uint64_t)d->poll_ms;
    if (d->due_ms < now)
        d->due_ms = now;
}

static void *meters__worker(void *arg)
{
    struct meters__bus *b = arg;
    struct meters *m = b->owner;
    for (;;) {
        if (meters__stopping(m))
            break;
        uint64_t now = meters__now_ms();
        uint64_t next = UINT64_MAX;
        for (size_t i = 0; i < b->n_devs; i++) {
            struct meters__device *d = &b->devs[i];
            if (d->due_ms <= now) {
                uint64_t started = now;
                meters__poll(b, d);
                if (meters__stopping(m))
                    break;
                now = meters__now_ms();
                meters__schedule(d, started, now);
            }
            if (d->due_ms < next)
                next = d->due_ms;
        }
        pthread_mutex_lock(&m->lock);
        if (!m->stopping && next > meters__now_ms()) {
            struct timespec ts = { .tv_sec = (time_t)(next / 1000),
                                   .tv_nsec = (long)(next % 1000) * 1000000 };
            pthread_cond_timedwait(&m->cond, &m->lock, &ts);
        }
        pthread_mutex_unlock(&m->lock);
    }
    meters__disconnect(b);
    return NULL;
}

/* --- the loop side ---------------------------------------------------------- */

static void meters__on_wake(uv_async_t *handle)
{
    struct meters *m = handle->data;
    size_t n = mailbox_take(&m->mailbox, m->drain, m->drain_cap);
    for (size_t i = 0; i < n && !m->closed; i++)
        m->on_sample(m->ctx, &m->drain[i]);
}

static void meters__free(struct meters *m)
{
    for (size_t i = 0; i < m->n_buses; i++) {
        struct meters__bus *b = &m->buses[i];
        if (b->ctx)
            modbus_free(b->ctx);
        free(b->host);
        free(b->device);
        free(b->devs);
    }
    free(m->buses);
    free(m->drain);
    mailbox_destroy(&m->mailbox);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static void meters__on_close(uv_handle_t *handle)
{
    meters__free(handle->data);
}

/* The bus a meter belongs to: its own for TCP, the one of its serial line. */
static struct meters__bus *meters__bus_for(struct meters *m, const struct config_meter *cm)
{
    if (cm->transport == CONFIG_MODBUS_RTU) {
        for (size_t i = 0; i < m->n_buses; i++) {
            struct meters__bus *b = &m->buses[i];
            if (b->transport == CONFIG_MODBUS_RTU && strcmp(b->device, cm->rtu.device) == 0)
                return b;
        }
    }
    struct meters__bus *b = &m->buses[m->n_buses++];
    b->owner = m;
    b->fd = -1;
    b->transport = cm->transport;
    if (cm->transport == CONFIG_MODBUS_TCP) {
        b->host = strdup(cm->tcp.host);
        snprintf(b->port, sizeof(b->port), "%d", cm->tcp.port);
        b->ctx = b->host ? modbus_new_tcp_pi(b->host, b->port) : NULL;
    } else {
        b->device = strdup(cm->rtu.device);
        b->baud = cm->rtu.baud;
        b->parity = cm->rtu.parity == CONFIG_PARITY_EVEN  ? 'E'
                    : cm->rtu.parity == CONFIG_PARITY_ODD ? 'O'
                                                          : 'N';
        b->data_bits = cm->rtu.data_bits;
        b->stop_bits = cm->rtu.stop_bits;
        b->ctx = b->device ? modbus_new_rtu(b->device, b->baud, b->parity, b->data_bits,
                                            b->stop_bits)
                           : NULL;
    }
    return b;
}

static int meters__build(struct meters *m, const struct config *cfg)
{
    m->buses = calloc(cfg->n_meters, sizeof(*m->buses));
    if (!m->buses)
        return -ENOMEM;
    uint64_t now = meters__now_ms();
    for (size_t i = 0; i < cfg->n_meters; i++) {
        const struct config_meter *cm = &cfg->meters[i];
        struct meters__bus *b = meters__bus_for(m, cm);
        if (!b->ctx)
            return errno ? -errno : -ENOMEM;
        struct meters__device *devs = realloc(b->devs, (b->n_devs + 1) * sizeof(*devs));
        if (!devs)
            return -ENOMEM;
        b->devs = devs;
        struct meters__device *d = &devs[b->n_devs++];
        memset(d, 0, sizeof(*d));
        d->meter = (int)i;
        snprintf(d->name, sizeof(d->name), "%s", cm->name);
        d->role = cm->role;
        d->unit_id = cm->unit_id;
        d->poll_ms = cm->poll_ms;
        d->timeout_ms = cm->timeout_ms;
        d->retries = cm->retries;
        memcpy(d->map, cm->registers, sizeof(d->map));
        plan_build(&d->plan, d->map);
        d->due_ms = now;
        d->state = -1;
    }
    return 0;
}

static int meters__init_sync(struct meters *m)
{
    int rc = pthread_mutex_init(&m->lock, NULL);
    if (rc)
        return -rc;
    pthread_condattr_t attr;
    rc = pthread_condattr_init(&attr);
    if (!rc) {
        /* Sleep on the clock uv_hrtime() reads. */
        rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (!rc)
            rc = pthread_cond_init(&m->cond, &attr);
        pthread_condattr_destroy(&attr);
    }
    if (rc) {
        pthread_mutex_destroy(&m->lock);
        return -rc;
    }
    return 0;
}

/* Joins the workers that started; the loop thread must not be one of them. */
static void meters__join(struct meters *m)
{
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    for (size_t i = 0; i < m->n_buses; i++) {
        if (m->buses[i].fd >= 0)
            shutdown(m->buses[i].fd, SHUT_RDWR);
    }
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < m->n_buses; i++) {
        if (m->buses[i].started)
            pthread_join(m->buses[i].thread, NULL);
        m->buses[i].started = false;
    }
}

int meters_start(struct meters **out, uv_loop_t *loop, const struct config *cfg,
                 void (*on_sample)(void *ctx, const struct meter_sample *s), void *ctx)
{
    *out = NULL;
    if (cfg->n_meters == 0)
        return 0;
    struct meters *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->loop = loop;
    m->on_sample = on_sample;
    m->ctx = ctx;
    int rc = meters__init_sync(m);
    if (rc) {
        free(m);
        return rc;
    }
    rc = mailbox_init(&m->mailbox, cfg->n_meters);
    m->drain_cap = cfg->n_meters * MAILBOX_DEPTH;
    if (!rc && !(m->drain = calloc(m->drain_cap, sizeof(*m->drain))))
        rc = -ENOMEM;
    if (!rc)
        rc = meters__build(m, cfg);
    if (!rc)
        rc = uv_async_init(loop, &m->async, meters__on_wake);
    if (rc) {
        meters__free(m);
        return rc;
    }
    m->async.data = m;

    /* Signals stay with the loop thread: the workers block them all. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (size_t i = 0; !rc && i < m->n_buses; i++) {
        rc = -pthread_create(&m->buses[i].thread, NULL, meters__worker, &m->buses[i]);
        m->buses[i].started = rc == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        meters__join(m);
        m->closed = true;
        uv_close((uv_handle_t *)&m->async, meters__on_close);
        return rc;
    }
    *out = m;
    return 0;
}

void meters_stop(struct meters *m)
{
    if (!m || m->closed)
        return;
    meters__join(m);
    m->closed = true;
    uv_close((uv_handle_t *)&m->async, meters__on_close);
}

uint64_t meters_dropped(const struct meters *m)
{
    return m ? mailbox_dropped((struct mailbox *)&m->mailbox) : 0;
}
