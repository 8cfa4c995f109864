/* The libwebsockets-on-libuv plumbing the bench tools (fast_csms, loadgen,
 * ref_relay) share: the process around the loop (signals, the lws context,
 * the two-step teardown a foreign loop asks for), listening, connecting to a
 * ws:// URL, and the few socket helpers. None of it runs per message: the
 * per-message work is bench_wsq.c's. Loop thread only.
 *
 * A tool's life: blws_init, blws_context or blws_listen, blws_catch_signals;
 * to stop, blws_stop (from a timer or a signal, never from an lws callback)
 * and close its own handles; blws_run returns once they are all closed.
 */
#ifndef SITEGATE_BENCH_LWS_H
#define SITEGATE_BENCH_LWS_H

#include <stddef.h>

#include <libwebsockets.h>
#include <uv.h>

struct blws {
    uv_loop_t loop;
    struct lws_context *ctx;       /* NULL until made */
    uv_signal_t sigint, sigterm;
    const char *tool;              /* the prefix of its lines on stderr */
};

/* Ignores SIGPIPE, keeps lws to its errors, and prepares the loop and the
 * SIGINT/SIGTERM handles. -1 (and a line on stderr): no loop. */
int blws_init(struct blws *b, const char *tool);

/* A client's context: protocols on the default vhost, listening nowhere.
 * -1 (and a line on stderr) when lws cannot make it. */
int blws_context(struct blws *b, const struct lws_protocols *protocols);

/* A server's context with one vhost name listening on 127.0.0.1:port (0: a
 * free port) with protocols; the first stdout line is "port=<N>". NULL (and a
 * line on stderr) when it cannot. */
struct lws_vhost *blws_listen(struct blws *b, const char *name, int port,
                              const struct lws_protocols *protocols);

/* SIGINT and SIGTERM call on_signal from now on. */
void blws_catch_signals(struct blws *b, uv_signal_cb on_signal);

/* The first half of the teardown: destroys the context (if made) and closes
 * the signal handles. The tool then closes its own handles. */
void blws_stop(struct blws *b);

/* Runs the loop until every handle is closed, then the second half of the
 * teardown: destroys the context again (lws closes its handles now) and
 * closes the loop. */
void blws_run(struct blws *b);

/* A ws://host[:port][/path] URL, the path without a trailing '/'. */
struct blws_url {
    char host[256], path[512];
    int port;
};

/* -1: not such a URL, or a part too long. */
int blws_parse_url(const char *text, struct blws_url *url);

/* A port number, 0 to 65535, the whole text. -1: not one. */
int blws_parse_port(const char *text, int *port);

/* Starts a connect to <url>/<id>: address, port, path, Host and Origin from
 * url; the rest of i (context, protocols, userdata, ...) is the caller's.
 * lws_client_connect_via_info's result. */
struct lws *blws_connect(const struct blws_url *url, const char *id,
                         struct lws_client_connect_info *i);

/* From LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: the charger's id, the last
 * segment of the request path (in uri, possibly empty), or NULL when the
 * socket offered no OCPP subprotocol or has no path. */
const char *blws_charger_id(struct lws *wsi, char *uri, size_t cap);

/* Hangs a socket up without a close handshake (it is a benchmark); NULL: no
 * socket, nothing to do. */
void blws_drop(struct lws *wsi);

#endif
