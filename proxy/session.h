/* Internal to proxy/: the proxy and one session per connected charger.
 *
 * A session lives while its charger is connected or its upstream socket is
 * still closing; a charger reconnecting under the same id takes over the
 * existing session (and its upstream socket).
 */
#ifndef SITEGATE_SESSION_H
#define SITEGATE_SESSION_H

#include <stdbool.h>

#include <libwebsockets.h>
#include <uv.h>

#include "aggregate.h"
#include "config.h"
#include "conn_guard.h"
#include "csms_limits.h"
#include "frame.h"
#include "link.h"
#include "offline.h"
#include "pending.h"
#include "proxy.h"
#include "rate_limit.h"

#define PROXY_PROTO_HTTP "sitegate-http"
#define PROXY_PROTO_CSMS "sitegate-csms"

enum session_side { SESSION_DOWN, SESSION_UP };

enum upstream_state {
    UPSTREAM_IDLE,       /* no socket, none wanted */
    UPSTREAM_CONNECTING,
    UPSTREAM_OPEN,
    UPSTREAM_CLOSING,
    UPSTREAM_BACKOFF,    /* waiting for the retry timer */
};

struct upstream_url {
    bool tls;
    char host[256];
    char host_header[272];
    int port;
    char path[512];      /* without a trailing slash; "" for none */
};

/* What lws keeps per charger socket (zeroed for a handshake that was refused).
 * The link is per socket, so that a socket being replaced by the charger's
 * new one still closes properly on its own. */
struct charger_conn {
    struct session *s;          /* NULL once replaced */
    struct link link;
    uint16_t peer_close_code;   /* what the charger closed with, to pass upstream */
    uint64_t serial;            /* tells this socket from the charger's later ones */
    char id[CONFIG_ID_MAX + 1];
    struct rate_limit rate;     /* limits.charger_frames_per_s */
    uint64_t last_rx_ms;        /* the last whole frame, for limits.idle_timeout_s */
};

#define SESSION_MAX_CONNECTORS 16 /* config: chargers[].connectors <= 16 */

/* The gateway's smart charging of one charger (smart_charging.c). */
struct smart_state {
    enum { SMART_UNKNOWN, SMART_DISCOVERING, SMART_READY } phase;
    bool boot_refused;            /* the CSMS did not accept its BootNotification */
    struct proxy_charging how;
    int following;                /* 1, 0, or -1 not known yet */
    int unanswered;               /* profiles sent and not answered yet */
    bool safe_sent;               /* the safe default under the leases, on this socket */
    uint64_t lease_renew_ms;      /* when the dynamic profiles are sent again */
    bool have_want;
    double want_charger_a;
    double want_connector_a[SESSION_MAX_CONNECTORS];
    double sent_charger_a;        /* NAN: not sent on this socket */
    double sent_connector_a[SESSION_MAX_CONNECTORS];
};

struct session {
    struct session *next;             /* in the proxy's hash bucket */
    struct proxy *proxy;
    char id[CONFIG_ID_MAX + 1];
    const struct config_charger *cfg; /* the charger's entry, or the defaults */
    enum ocpp_version version;

    struct charger_conn *down;        /* the charger's socket; NULL while away */
    struct pending to_charger;        /* CALLs the charger has to answer */
    struct charger_call *calls_head;  /* CALLs waiting their turn (charger_calls.c) */
    struct charger_call *calls_tail;
    size_t calls_len;

    struct link up;                   /* the CSMS */
    struct pending to_csms;           /* CALLs the CSMS has to answer */
    enum upstream_state up_state;
    struct lws *up_connecting;        /* set by lws while the handshake runs */
    unsigned up_failures;             /* consecutive, for the backoff */
    uv_timer_t retry;
    uint64_t up_connect_ms;           /* when it started (limits.handshake_timeout_s) */
    int closing_handles;              /* the timers still closing when it goes */
    struct session *pace_next;        /* waiting for a connect slot (csms_side.c) */
    bool paced;

    struct smart_state smart;
    struct offline_state offline;
    struct aggregate *site;           /* aggregate mode: set on the site's own session */
};

/* Whether a session has a charger side to answer (a connected charger, or
 * the chargers behind the site session). */
static inline bool session_has_down(const struct session *s)
{
    return s->down || s->site;
}

/* A client vhost toward the CSMS and the client certificate it presents. */
struct proxy_client_vhost {
    const char *cert, *key;    /* the config's; NULL: none */
    struct lws_vhost *vh;
};

struct proxy {
    uv_loop_t *loop;
    struct lws_context *ctx;
    struct lws_vhost *vhost;       /* ws:// for chargers; NULL with listen.plain off */
    struct lws_vhost *tls_vhost;   /* wss:// for chargers; NULL without listen.tls */
    struct proxy_client_vhost *up_vhosts; /* [0]: the default client certificate */
    size_t n_up_vhosts;
    struct conn_guard guard;       /* charger sockets: counts and handshake deadlines */
    struct lws_protocols protocols[5];
    const struct config *cfg;
    struct upstream_url url;
    lws_retry_bo_t down_policy;
    lws_retry_bo_t up_policy;
    struct session **buckets;
    size_t n_buckets;
    size_t n_sessions;
    uv_timer_t sweep;
    struct proxy_stats stats;
    struct proxy_traffic traffic; /* frames per action, CSMS round trips (proxy_status.c) */
    struct proxy_observer observer;
    struct csms_limits csms_limits;
    struct store *store;       /* durable state; NULL: no offline answering */
    struct aggregate *agg;     /* aggregate mode: the site and its chargers */
    uint64_t next_call_id;     /* the gateway's own message ids: "sg-<hex>" */
    uint64_t next_conn_serial; /* charger_conn.serial */
    unsigned sweeps;           /* counts the sweeps, for what runs every minute */
    bool draining;
    uv_timer_t drain_deadline;
    /* Upstream connects, paced at upstream.reconnect_rate_per_s (a token
     * bucket, and the sessions waiting for a token, first come first served). */
    struct rate_limit connects;
    struct session *pace_head, *pace_tail;
    uv_timer_t pacer;
    int open_handles;          /* counted down as they close, at the end */
    void (*drained)(void *arg);
    void *drained_arg;
};

/* Session registry (proxy.c). */
struct session *proxy__find(struct proxy *p, const char *id);
struct session *proxy__session_new(struct proxy *p, const char *id,
                                   const struct config_charger *cfg);
/* Frees the session once neither socket is left and no backlog waits. */
void proxy__session_release(struct session *s);
/* Prepares a socket's link with the configured bounds (limits.hold_frames,
 * limits.max_queued_bytes); close_when_full: a peer that lets it fill is
 * closed rather than its frames dropped. */
void proxy__link_init(struct proxy *p, struct link *l, bool close_when_full);
/* Whether the session needs its upstream socket: its charger is connected, or
 * it still has a backlog to replay (even with its charger gone). */
bool proxy__wants_upstream(const struct session *s);

/* The vhosts (vhosts.c): the listeners and the CSMS client vhosts; the
 * client vhost of a charger's upstream socket; freeing their table. */
int proxy__vhosts_create(struct proxy *p);
struct lws_vhost *proxy__upstream_vhost(const struct proxy *p, const struct config_charger *cfg);
void proxy__vhosts_free(struct proxy *p);

/* The limits on chargers' sockets (charger_limits.c). */
/* A TCP connection was accepted: 0 to keep it, -1 to close it (too many). */
int charger_limits_admit(struct proxy *p, struct lws *wsi);
/* The socket is a WebSocket now (its handshake deadline is over). */
void charger_limits_established(struct proxy *p, struct lws *wsi, struct charger_conn *c);
/* lws frees the socket: it no longer counts. */
void charger_limits_release(struct lws *wsi);
/* Drops the socket's pointer to its record (the guard is being freed). */
void charger_limits_forget(void *wsi);
/* A whole frame from the charger: true to relay it, false when it was over
 * limits.charger_frames_per_s (answered, or the socket closed). */
bool charger_limits_frame(struct session *s, struct charger_conn *c, const char *msg, size_t len);
/* Closes handshakes past limits.handshake_timeout_s (every sweep). */
void charger_limits_sweep(struct proxy *p, uint64_t now_ms);
/* Closes the session's charger when it was silent for limits.idle_timeout_s
 * (every sweep, in the sweep's walk over the sessions). */
void charger_limits_idle(struct session *s, uint64_t now_ms);

/* The lws protocol callbacks (charger_side.c, csms_side.c). */
int charger_side_callback(struct lws *wsi, enum lws_callback_reasons reason,
                          void *user, void *in, size_t len);
int csms_side_callback(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len);

/* The upstream socket (csms_side.c). */
void csms_side_connect(struct session *s);
void csms_side_close(struct session *s, uint16_t code);
/* Ends an upstream handshake past limits.handshake_timeout_s (every sweep). */
void csms_side_sweep(struct session *s, uint64_t now_ms);
/* Hangs the upstream socket up at once (a dead link needs no close handshake). */
void csms_side_drop(struct session *s);
/* Takes a session out of the connect queue (it is going away). */
void csms_side_unpace(struct session *s);
/* Prepares the connect pacer (upstream.reconnect_rate_per_s, a second's
 * worth at once). */
void csms_side_pacing_init(struct proxy *p);
int csms_side_parse_url(const char *url, struct upstream_url *out);

/* Smart charging (smart_charging.c). */
/* A new socket of the charger: its abilities are asked again. */
void smart_reset(struct session *s);
/* Sends whatever limit differs from what the charger has; how many profiles. */
int smart_send(struct session *s);
/* Sends again the dynamic profiles whose lease is half gone (every sweep). */
void smart_renew_leases(struct session *s, uint64_t now_ms);
/* A CSMS limit of a charger in A (a limit in W over its phases and voltage). */
double smart_to_amps(const struct proxy *p, const char *charger, char unit, double limit, int phases);
/* A CALL the charger sent (already forwarded): what the balancer needs from it. */
void smart_charger_call(struct session *s, const struct frame *f);
/* The CSMS answered one of the charger's CALLs. */
void smart_csms_answer(struct session *s, const struct pending_call *call, const struct frame *f);
/* A CALL from the CSMS for the charger; true when the gateway answered it itself. */
bool smart_csms_call(struct session *s, const struct frame *f);

/* The relay between them (relay.c). */
void relay_from_charger(struct session *s, const char *msg, size_t len);
void relay_from_csms(struct session *s, const char *msg, size_t len);
/* Sends a frame to one side of a session: the CSMS's socket (in aggregate
 * mode the site's, for the answers to the CSMS's CALLs routed to a charger),
 * or toward the charger (its socket; for the site session, the charger whose
 * CALL the frame answers). -ENOTCONN when nobody is there. */
int session_send(struct session *s, enum session_side to, const char *frame, size_t len);
/* Counts a frame relayed (proxy_status.c): a CALL (call NULL), or the answer
 * to call, whose round trip is measured when it came from the CSMS. */
void proxy__count_frame(struct proxy *p, enum proxy_dir from, const struct frame *f,
                        const struct pending_call *call, uint64_t now_ms);
/* Answers a CALL on that side with a CALLERROR. */
void relay_send_error(struct session *s, enum session_side to, const char *id,
                      const char *code, const char *description);

#endif
