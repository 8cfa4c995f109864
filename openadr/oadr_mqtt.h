/* The MQTT side of demand response: one paho.mqtt.c async client on the
 * gateway's libuv loop.
 *
 * paho calls back on its own threads; those callbacks only copy what they
 * got into a bounded, locked mailbox and wake the loop (uv_async_send).
 * Everything else (connecting, subscribing, the handlers below, publishing,
 * shutting down) happens on the loop thread.
 *
 * The client connects to mqtt:// or mqtts:// (CA file, client certificate
 * and key, user name and password), with a clean session; on every connect
 * it subscribes (QoS 1) to the topics given, then publishes the retained
 * online status and calls up(). A lost or refused connection is retried
 * after a backoff that doubles from reconnect_min_s to reconnect_max_s
 * (with jitter); the broker publishes the retained offline status (the last
 * will) when the gateway vanishes, and the gateway publishes it itself when
 * it stops.
 */
#ifndef SITEGATE_OADR_MQTT_H
#define SITEGATE_OADR_MQTT_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

/* Messages waiting in the mailbox at most (beyond, paho is told to deliver
 * them again later: its messageArrived returns 0); and messages paho keeps
 * unsent at most. */
#define OADR_MQTT_QUEUE_MAX 256
/* Topics subscribed at most (one per program, and the VEN's). */
#define OADR_MQTT_TOPICS_MAX 17

/* Every string must outlive the client (they come from the config). */
struct oadr_mqtt_opts {
    const char *broker;           /* mqtt://host[:port] or mqtts://host[:port] */
    const char *client_id;
    const char *username;         /* NULL: none */
    const char *password;         /* NULL: none */
    const char *ca_file;          /* mqtts: NULL for the system's CAs */
    const char *cert_file;        /* mqtts client certificate; NULL: none */
    const char *key_file;
    int keepalive_s;
    double reconnect_min_s;
    double reconnect_max_s;
    size_t max_message_bytes;     /* larger messages are counted, not copied */
    const char *const *topics;    /* subscribed on every connect, QoS 1 */
    size_t n_topics;
    const char *status_topic;     /* retained status, QoS 1 */
    const char *online;           /* its payload while connected */
    const char *offline;          /* ... after (the last will) */
};

/* Called on the loop thread. */
struct oadr_mqtt_handlers {
    void *ctx;
    void (*up)(void *ctx);                          /* connected and subscribed */
    void (*down)(void *ctx, const char *why);       /* lost, refused, or could not subscribe */
    void (*message)(void *ctx, const char *topic, const char *payload, size_t len);
    void (*oversized)(void *ctx, const char *topic, size_t len);
    void (*stopped)(void *ctx);                     /* after oadr_mqtt_stop: all is closed */
};

struct oadr_mqtt;

/* Creates the client and starts connecting. 0, -EINVAL (a broker URL paho
 * refuses, no topic or more than OADR_MQTT_TOPICS_MAX), -ENOMEM. */
int oadr_mqtt_start(struct oadr_mqtt **out, uv_loop_t *loop, const struct oadr_mqtt_opts *opts,
                    const struct oadr_mqtt_handlers *h);

/* Publishes (QoS 1). Messages not yet sent (the connection is down, or a
 * burst) are kept by paho, up to OADR_MQTT_QUEUE_MAX: past it the oldest go.
 * 0, -ENOTCONN (not kept, or stopping), -EIO. */
int oadr_mqtt_publish(struct oadr_mqtt *m, const char *topic, const char *payload, bool retained);

/* Whether the client is connected and subscribed. */
bool oadr_mqtt_up(const struct oadr_mqtt *m);

/* Publishes the offline status, disconnects, destroys the paho client and
 * closes the loop handles; stopped() runs when all is done and m is freed
 * right after. Safe with m NULL. */
void oadr_mqtt_stop(struct oadr_mqtt *m);

#endif
