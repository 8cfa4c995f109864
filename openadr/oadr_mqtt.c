/* The paho.mqtt.c async client on the loop (oadr_mqtt.h).
 *
 * Threads: the oadr__on_* functions run on paho's threads and touch nothing
 * but the mailbox (under m->lock); uv_async_send is called with the lock
 * held, so that once the loop has set `closing` (under the lock) no thread
 * can wake a handle that is being closed. Everything else runs on the loop.
 *
 * Backpressure: a message that finds the mailbox full waits (up to
 * OADR__FULL_WAIT_MS, woken when the loop drains it or closes) on paho's
 * receive thread, which stops reading from the broker meanwhile; only then
 * is paho told to deliver it again later, which it does slowly (one try per
 * receive cycle). Nothing is dropped either way. */
#include "oadr_mqtt.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <MQTTAsync.h>

#include "log.h"

#define OADR__TEXT_MAX 160           /* a topic or an error message, cut */
#define OADR__URI_MAX 600
#define OADR__STOP_GUARD_MS 3000     /* if the broker never answers while stopping */
#define OADR__CONNECT_TIMEOUT_S 10
#define OADR__FULL_WAIT_MS 1000       /* a message waits this long for room */

enum oadr__kind {
    OADR__CONNECTED,
    OADR__CONNECT_FAILED,
    OADR__LOST,
    OADR__SUBSCRIBED,
    OADR__SUBSCRIBE_FAILED,
    OADR__PUBLISH_FAILED,
    OADR__OFFLINE_SENT,          /* the offline status at a stop: acknowledged or not */
    OADR__MESSAGE,
    OADR__OVERSIZED,
    OADR__DISCONNECTED,
};

struct oadr__item {
    struct oadr__item *next;
    enum oadr__kind kind;
    int code;
    char text[OADR__TEXT_MAX];   /* the topic of a message, else an error text */
    size_t len;                  /* a message's payload bytes (or an oversized one's size) */
    char payload[];              /* len + 1 bytes for a message */
};

enum oadr__state { OADR__IDLE, OADR__CONNECTING, OADR__SUBSCRIBING, OADR__UP, OADR__STOPPING };

struct oadr_mqtt {
    uv_loop_t *loop;
    struct oadr_mqtt_opts o;
    struct oadr_mqtt_handlers h;
    MQTTAsync client;
    char uri[OADR__URI_MAX];
    enum oadr__state state;
    int failures;                /* connect attempts since the last success */
    uv_async_t wake;
    uv_timer_t retry;            /* the next connect; while stopping, the guard */
    int handles_open;

    pthread_mutex_t lock;        /* guards what follows */
    pthread_cond_t room;         /* the loop took the mailbox, or closes */
    struct oadr__item *head, *tail;
    size_t messages;             /* OADR__MESSAGE items queued */
    bool closing;
};

/* --- paho's threads -------------------------------------------------------- */

/* Queues an item (taking it) and wakes the loop: 0, or -EAGAIN when the
 * mailbox stayed full of messages, -ESHUTDOWN when closing (the item is then
 * still the caller's). A message waits for room, the rest never does. */
static int oadr__post(struct oadr_mqtt *m, struct oadr__item *it)
{
    int rc = 0;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += OADR__FULL_WAIT_MS / 1000;
    until.tv_nsec += (long)(OADR__FULL_WAIT_MS % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&m->lock);
    while (!m->closing && it->kind == OADR__MESSAGE && m->messages >= OADR_MQTT_QUEUE_MAX &&
           pthread_cond_timedwait(&m->room, &m->lock, &until) == 0)
        ;
    if (m->closing) {
        rc = -ESHUTDOWN;
    } else if (it->kind == OADR__MESSAGE && m->messages >= OADR_MQTT_QUEUE_MAX) {
        rc = -EAGAIN;
    } else {
        it->next = NULL;
        if (m->tail)
            m->tail->next = it;
        else
            m->head = it;
        m->tail = it;
        m->messages += it->kind == OADR__MESSAGE;
        uv_async_send(&m->wake);
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static void oadr__post_event(struct oadr_mqtt *m, enum oadr__kind kind, int code, const char *text)
{
    struct oadr__item *it = calloc(1, sizeof(*it));
    if (!it)
        return; /* nothing can be done on a paho thread; the loop's guard timers still run */
    it->kind = kind;
    it->code = code;
    snprintf(it->text, sizeof(it->text), "%s", text ? text : "");
    if (oadr__post(m, it) < 0)
        free(it);
}

static void oadr__on_connected(void *ctx, MQTTAsync_successData *resp)
{
    oadr__post_event(ctx, OADR__CONNECTED, 0, NULL);
}

static void oadr__on_connect_failed(void *ctx, MQTTAsync_failureData *resp)
{
    oadr__post_event(ctx, OADR__CONNECT_FAILED, resp ? resp->code : 0, resp ? resp->message : NULL);
}

static void oadr__on_lost(void *ctx, char *cause)
{
    oadr__post_event(ctx, OADR__LOST, 0, cause);
}

static void oadr__on_subscribed(void *ctx, MQTTAsync_successData *resp)
{
    struct oadr_mqtt *m = ctx;
    /* A refused topic comes back as granted QoS 0x80 (MQTT 3.1.1). */
    for (size_t i = 0; resp && i < m->o.n_topics; i++) {
        int qos = m->o.n_topics == 1 ? resp->alt.qos : resp->alt.qosList[i];
        if (qos == MQTT_BAD_SUBSCRIBE) {
            oadr__post_event(m, OADR__SUBSCRIBE_FAILED, qos, m->o.topics[i]);
            return;
        }
    }
    oadr__post_event(m, OADR__SUBSCRIBED, 0, NULL);
}

static void oadr__on_subscribe_failed(void *ctx, MQTTAsync_failureData *resp)
{
    oadr__post_event(ctx, OADR__SUBSCRIBE_FAILED, resp ? resp->code : 0,
                     resp ? resp->message : NULL);
}

static void oadr__on_publish_failed(void *ctx, MQTTAsync_failureData *resp)
{
    oadr__post_event(ctx, OADR__PUBLISH_FAILED, resp ? resp->code : 0, resp ? resp->message : NULL);
}

static void oadr__on_offline_sent(void *ctx, MQTTAsync_successData *resp)
{
    oadr__post_event(ctx, OADR__OFFLINE_SENT, 0, NULL);
}

static void oadr__on_offline_failed(void *ctx, MQTTAsync_failureData *resp)
{
    oadr__post_event(ctx, OADR__OFFLINE_SENT, resp ? resp->code : 0, NULL);
}

static void oadr__on_disconnected(void *ctx, MQTTAsync_successData *resp)
{
    oadr__post_event(ctx, OADR__DISCONNECTED, 0, NULL);
}

static void oadr__on_disconnect_failed(void *ctx, MQTTAsync_failureData *resp)
{
    oadr__post_event(ctx, OADR__DISCONNECTED, resp ? resp->code : 0, NULL);
}

/* Returns 1 when the message was taken (paho frees nothing then: we do), 0
 * to have paho deliver it again later (the mailbox is full). */
static int oadr__on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *msg)
{
    struct oadr_mqtt *m = ctx;
    size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
    bool oversized = len > m->o.max_message_bytes;
    struct oadr__item *it = calloc(1, sizeof(*it) + (oversized ? 0 : len + 1));
    if (!it)
        return 0;
    size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    if (tlen >= sizeof(it->text))
        tlen = sizeof(it->text) - 1;
    memcpy(it->text, topic, tlen);
    it->text[tlen] = '\0';
    it->kind = oversized ? OADR__OVERSIZED : OADR__MESSAGE;
    it->len = len;
    if (!oversized && len)
        memcpy(it->payload, msg->payload, len);
    int rc = oadr__post(m, it);
    if (rc < 0)
        free(it);
    if (rc == -EAGAIN)
        return 0;
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

/* --- the loop -------------------------------------------------------------- */

static void oadr__connect(struct oadr_mqtt *m);

static void oadr__retry_cb(uv_timer_t *t)
{
    oadr__connect(t->data);
}

/* The next attempt after a backoff that doubles per failure, with jitter:
 * a random point in the upper half of the step. */
static void oadr__schedule_retry(struct oadr_mqtt *m)
{
    double delay = m->o.reconnect_min_s;
    for (int i = 0; i < m->failures && delay < m->o.reconnect_max_s; i++)
        delay *= 2;
    if (delay > m->o.reconnect_max_s)
        delay = m->o.reconnect_max_s;
    uint32_t r = 0;
    if (uv_random(NULL, NULL, &r, sizeof(r), 0, NULL) != 0)
        r = UINT32_MAX / 2;
    delay *= 0.5 + 0.5 * ((double)r / UINT32_MAX);
    m->failures++;
    m->state = OADR__IDLE;
    uv_timer_start(&m->retry, oadr__retry_cb, (uint64_t)(delay * 1000), 0);
}

static void oadr__connect(struct oadr_mqtt *m)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    co.keepAliveInterval = m->o.keepalive_s;
    co.cleansession = 1;
    co.connectTimeout = OADR__CONNECT_TIMEOUT_S;
    co.onSuccess = oadr__on_connected;
    co.onFailure = oadr__on_connect_failed;
    co.context = m;
    co.username = m->o.username;
    co.password = m->o.password;
    will.topicName = m->o.status_topic;
    will.message = m->o.offline;
    will.retained = 1;
    will.qos = 1;
    co.will = &will;
    if (strncmp(m->o.broker, "mqtts://", 8) == 0) {
        ssl.trustStore = m->o.ca_file;
        ssl.keyStore = m->o.cert_file;
        ssl.privateKey = m->o.key_file;
        ssl.enableServerCertAuth = 1;
        ssl.verify = 1; /* the broker's name must match its certificate */
        co.ssl = &ssl;
    }
    m->state = OADR__CONNECTING;
    int rc = MQTTAsync_connect(m->client, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        log_warn("openadr", "cannot start connecting broker=%s rc=%d", m->o.broker, rc);
        oadr__schedule_retry(m);
    }
}

static void oadr__subscribe(struct oadr_mqtt *m)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    int qos[OADR_MQTT_TOPICS_MAX];
    size_t n = m->o.n_topics;
    for (size_t i = 0; i < n; i++)
        qos[i] = 1;
    ro.onSuccess = oadr__on_subscribed;
    ro.onFailure = oadr__on_subscribe_failed;
    ro.context = m;
    m->state = OADR__SUBSCRIBING;
    int rc = MQTTAsync_subscribeMany(m->client, (int)n, (char *const *)m->o.topics, qos, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        oadr__post_event(m, OADR__SUBSCRIBE_FAILED, rc, "cannot send the subscription");
}

static int oadr__publish(struct oadr_mqtt *m, const char *topic, const char *payload,
                         bool retained, MQTTAsync_onSuccess *done, MQTTAsync_onFailure *failed)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    msg.payload = (void *)payload;
    msg.payloadlen = (int)strlen(payload);
    msg.qos = 1;
    msg.retained = retained;
    ro.onSuccess = done;
    ro.onFailure = failed;
    ro.context = m;
    int rc = MQTTAsync_sendMessage(m->client, topic, &msg, &ro);
    if (rc == MQTTASYNC_SUCCESS)
        return 0;
    return rc == MQTTASYNC_DISCONNECTED ? -ENOTCONN : -EIO;
}

int oadr_mqtt_publish(struct oadr_mqtt *m, const char *topic, const char *payload, bool retained)
{
    if (!m || m->state == OADR__STOPPING)
        return -ENOTCONN;
    return oadr__publish(m, topic, payload, retained, NULL, oadr__on_publish_failed);
}

bool oadr_mqtt_up(const struct oadr_mqtt *m)
{
    return m && m->state == OADR__UP;
}

static void oadr__closed(uv_handle_t *h)
{
    struct oadr_mqtt *m = h->data;
    if (--m->handles_open > 0)
        return;
    /* paho is gone and `closing` kept every late post out: the rest is ours. */
    for (struct oadr__item *it = m->head, *next; it; it = next) {
        next = it->next;
        free(it);
    }
    pthread_cond_destroy(&m->room);
    pthread_mutex_destroy(&m->lock);
    struct oadr_mqtt_handlers h_copy = m->h;
    free(m);
    if (h_copy.stopped)
        h_copy.stopped(h_copy.ctx);
}

/* The end of a stop: no more posts, paho destroyed (on the loop thread, never
 * inside its callbacks), then the handles. */
static void oadr__finish(struct oadr_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    bool done = m->closing;
    m->closing = true;
    pthread_cond_broadcast(&m->room); /* a paho thread waiting for room returns */
    pthread_mutex_unlock(&m->lock);
    if (done)
        return;
    MQTTAsync_destroy(&m->client);
    m->handles_open = 2;
    uv_close((uv_handle_t *)&m->wake, oadr__closed);
    uv_close((uv_handle_t *)&m->retry, oadr__closed);
}

static void oadr__stop_guard(uv_timer_t *t)
{
    struct oadr_mqtt *m = t->data;
    log_warn("openadr", "the broker did not answer in time while stopping");
    oadr__finish(m);
}

/* At a stop, once the offline status is out: no grace for messages in
 * flight (paho would check them only at its next timeout sweep). */
static void oadr__disconnect(struct oadr_mqtt *m)
{
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 0;
    d.onSuccess = oadr__on_disconnected;
    d.onFailure = oadr__on_disconnect_failed;
    d.context = m;
    if (MQTTAsync_disconnect(m->client, &d) != MQTTASYNC_SUCCESS)
        oadr__finish(m);
}

static void oadr__handle(struct oadr_mqtt *m, struct oadr__item *it)
{
    const struct oadr_mqtt_handlers *h = &m->h;
    char why[OADR__TEXT_MAX + 48];
    if (m->state == OADR__STOPPING) {
        if (it->kind == OADR__OFFLINE_SENT)
            oadr__disconnect(m);
        else if (it->kind == OADR__DISCONNECTED || it->kind == OADR__LOST)
            oadr__finish(m); /* done, or nothing left to wait for */
        return; /* everything else is moot now */
    }
    switch (it->kind) {
    case OADR__CONNECTED:
        m->failures = 0;
        oadr__subscribe(m);
        break;
    case OADR__CONNECT_FAILED:
        snprintf(why, sizeof(why), "connect failed rc=%d %s", it->code, it->text);
        h->down(h->ctx, why);
        oadr__schedule_retry(m);
        break;
    case OADR__LOST:
        snprintf(why, sizeof(why), "connection lost %s", it->text);
        h->down(h->ctx, why);
        oadr__schedule_retry(m);
        break;
    case OADR__SUBSCRIBED:
        m->state = OADR__UP;
        if (oadr_mqtt_publish(m, m->o.status_topic, m->o.online, true) < 0)
            log_warn("openadr", "cannot publish the online status topic=%s", m->o.status_topic);
        h->up(h->ctx);
        break;
    case OADR__SUBSCRIBE_FAILED: {
        if (m->state != OADR__SUBSCRIBING)
            break; /* the connection went meanwhile: a new one subscribes again */
        snprintf(why, sizeof(why), "subscription refused rc=%d %s", it->code, it->text);
        h->down(h->ctx, why);
        /* Try again on a fresh connection, after the backoff. */
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        MQTTAsync_disconnect(m->client, &d);
        oadr__schedule_retry(m);
        break;
    }
    case OADR__PUBLISH_FAILED:
        log_warn("openadr", "publish failed rc=%d %s", it->code, it->text);
        break;
    case OADR__MESSAGE:
        h->message(h->ctx, it->text, it->payload, it->len);
        break;
    case OADR__OVERSIZED:
        h->oversized(h->ctx, it->text, it->len);
        break;
    case OADR__OFFLINE_SENT:
    case OADR__DISCONNECTED:
        break;
    }
}

static void oadr__wake(uv_async_t *a)
{
    struct oadr_mqtt *m = a->data;
    /* uv_async_send coalesces: take everything there is. */
    pthread_mutex_lock(&m->lock);
    struct oadr__item *list = m->head;
    m->head = m->tail = NULL;
    m->messages = 0;
    pthread_cond_broadcast(&m->room);
    pthread_mutex_unlock(&m->lock);
    while (list) {
        struct oadr__item *it = list;
        list = it->next;
        /* Once finishing (handles closing, m freed only by their close
         * callbacks, later), the rest is only freed. */
        if (m->handles_open == 0)
            oadr__handle(m, it);
        free(it);
    }
}

/* The mailbox's lock, and its condition on the monotonic clock. */
static int oadr__sync_init(struct oadr_mqtt *m)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -ENOMEM;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
                     pthread_cond_init(&m->room, &attr) == 0
                 ? 0
                 : -ENOMEM;
    pthread_condattr_destroy(&attr);
    if (rc == 0 && pthread_mutex_init(&m->lock, NULL) != 0) {
        pthread_cond_destroy(&m->room);
        rc = -ENOMEM;
    }
    return rc;
}

/* paho wants tcp:// and ssl://, with the port spelled out. */
static int oadr__uri(const char *broker, char *out, size_t cap)
{
    const char *scheme, *rest;
    int port;
    if (strncmp(broker, "mqtt://", 7) == 0) {
        scheme = "tcp";
        rest = broker + 7;
        port = 1883;
    } else if (strncmp(broker, "mqtts://", 8) == 0) {
        scheme = "ssl";
        rest = broker + 8;
        port = 8883;
    } else {
        return -EINVAL;
    }
    const char *close = strrchr(rest, ']');
    const char *colon = strrchr(close ? close : rest, ':');
    int n = colon ? snprintf(out, cap, "%s://%s", scheme, rest)
                  : snprintf(out, cap, "%s://%s:%d", scheme, rest, port);
    return n < 0 || (size_t)n >= cap ? -EINVAL : 0;
}

int oadr_mqtt_start(struct oadr_mqtt **out, uv_loop_t *loop, const struct oadr_mqtt_opts *opts,
                    const struct oadr_mqtt_handlers *h)
{
    static bool initialised;
    if (!initialised) {
        /* OpenSSL is the process's (libwebsockets initialised it). */
        MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
        init.do_openssl_init = 0;
        MQTTAsync_global_init(&init);
        initialised = true;
    }
    *out = NULL;
    if (opts->n_topics < 1 || opts->n_topics > OADR_MQTT_TOPICS_MAX)
        return -EINVAL;
    struct oadr_mqtt *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->loop = loop;
    m->o = *opts;
    m->h = *h;
    if (oadr__uri(opts->broker, m->uri, sizeof(m->uri)) < 0) {
        free(m);
        return -EINVAL;
    }
    MQTTAsync_createOptions cr = MQTTAsync_createOptions_initializer;
    /* Messages not yet handed to the socket (the broker gone, or a burst)
     * are kept up to a bound; past it the oldest go. */
    cr.sendWhileDisconnected = 1;
    cr.maxBufferedMessages = OADR_MQTT_QUEUE_MAX;
    cr.deleteOldestMessages = 1;
    int rc = MQTTAsync_createWithOptions(&m->client, m->uri, opts->client_id,
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &cr);
    if (rc != MQTTASYNC_SUCCESS) {
        free(m);
        return -EINVAL;
    }
    rc = MQTTAsync_setCallbacks(m->client, m, oadr__on_lost, oadr__on_message, NULL);
    if (rc != MQTTASYNC_SUCCESS || oadr__sync_init(m) < 0) {
        MQTTAsync_destroy(&m->client);
        free(m);
        return -ENOMEM;
    }
    uv_async_init(loop, &m->wake, oadr__wake);
    uv_timer_init(loop, &m->retry);
    m->wake.data = m->retry.data = m;
    oadr__connect(m);
    *out = m;
    return 0;
}

/* Connected: the offline status first (its acknowledgement, or failure,
 * leads to the disconnect), then the disconnect, each answered by paho on
 * its threads; a guard timer ends it if the broker falls silent. */
void oadr_mqtt_stop(struct oadr_mqtt *m)
{
    if (!m || m->state == OADR__STOPPING)
        return;
    enum oadr__state was = m->state;
    m->state = OADR__STOPPING;
    uv_timer_stop(&m->retry);
    if (was != OADR__UP && was != OADR__SUBSCRIBING) {
        oadr__finish(m);
        return;
    }
    uv_timer_start(&m->retry, oadr__stop_guard, OADR__STOP_GUARD_MS, 0);
    if (was == OADR__SUBSCRIBING ||
        oadr__publish(m, m->o.status_topic, m->o.offline, true, oadr__on_offline_sent,
                      oadr__on_offline_failed) < 0)
        oadr__disconnect(m);
}
