#include "bench_lws.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLWS__ID_MAX 64    /* the longest charger id a tool connects with */

int blws_init(struct blws *b, const char *tool)
{
    b->tool = tool;
    signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(LLL_ERR, NULL);
    if (uv_loop_init(&b->loop) != 0) {
        fprintf(stderr, "%s: cannot create the event loop\n", tool);
        return -1;
    }
    uv_signal_init(&b->loop, &b->sigint);
    uv_signal_init(&b->loop, &b->sigterm);
    return 0;
}

/* On the tool's loop, foreign to lws (docs/platform.md): lws neither runs nor
 * closes it, and leaves SIGSEGV/SIGFPE alone. */
static int blws__context(struct blws *b, uint64_t options, const struct lws_protocols *protocols)
{
    void *foreign_loops[1] = { &b->loop };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN | options;
    info.foreign_loops = foreign_loops; /* read only during creation */
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    b->ctx = lws_create_context(&info);
    if (!b->ctx)
        fprintf(stderr, "%s: cannot create the lws context (libwebsockets-evlib-uv?)\n", b->tool);
    return b->ctx ? 0 : -1;
}

int blws_context(struct blws *b, const struct lws_protocols *protocols)
{
    return blws__context(b, 0, protocols);
}

struct lws_vhost *blws_listen(struct blws *b, const char *name, int port,
                              const struct lws_protocols *protocols)
{
    if (blws__context(b, LWS_SERVER_OPTION_EXPLICIT_VHOSTS, NULL) < 0)
        return NULL;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.vhost_name = name;
    info.iface = "127.0.0.1";
    info.port = port;
    info.protocols = protocols;
    struct lws_vhost *vh = lws_create_vhost(b->ctx, &info);
    if (!vh) {
        fprintf(stderr, "%s: cannot listen on 127.0.0.1:%d\n", b->tool, port);
        return NULL;
    }
    printf("port=%d\n", lws_get_vhost_listen_port(vh));
    fflush(stdout);
    return vh;
}

void blws_catch_signals(struct blws *b, uv_signal_cb on_signal)
{
    uv_signal_start(&b->sigint, on_signal, SIGINT);
    uv_signal_start(&b->sigterm, on_signal, SIGTERM);
}

void blws_stop(struct blws *b)
{
    if (b->ctx)
        lws_context_destroy(b->ctx);
    uv_close((uv_handle_t *)&b->sigint, NULL);
    uv_close((uv_handle_t *)&b->sigterm, NULL);
}

void blws_run(struct blws *b)
{
    uv_run(&b->loop, UV_RUN_DEFAULT);
    if (b->ctx)
        lws_context_destroy(b->ctx);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&b->loop) != 0)
        fprintf(stderr, "%s: event loop closed with handles left\n", b->tool);
}

int blws_parse_url(const char *text, struct blws_url *url)
{
    if (strncmp(text, "ws://", 5) != 0)
        return -1;
    const char *host = text + 5, *slash = strchr(host, '/'), *colon = strchr(host, ':');
    if (colon && slash && colon > slash)
        colon = NULL; /* a ':' in the path */
    size_t hl = colon ? (size_t)(colon - host) : slash ? (size_t)(slash - host) : strlen(host);
    if (hl == 0 || hl >= sizeof(url->host))
        return -1;
    memcpy(url->host, host, hl);
    url->host[hl] = '\0';
    url->port = 80;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (p < 1 || p > 65535 || (*end && *end != '/'))
            return -1;
        url->port = (int)p;
    }
    snprintf(url->path, sizeof(url->path), "%s", slash ? slash : "");
    size_t pl = strlen(url->path);
    if (pl && url->path[pl - 1] == '/')
        url->path[pl - 1] = '\0';
    return 0;
}

int blws_parse_port(const char *text, int *port)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*end || v < 0 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

struct lws *blws_connect(const struct blws_url *url, const char *id,
                         struct lws_client_connect_info *i)
{
    char path[sizeof(url->path) + BLWS__ID_MAX + 2];
    snprintf(path, sizeof(path), "%s/%s", url->path, id);
    i->address = url->host;
    i->port = url->port;
    i->path = path; /* lws copies it before returning */
    i->host = url->host;
    i->origin = url->host;
    return lws_client_connect_via_info(i);
}

const char *blws_charger_id(struct lws *wsi, char *uri, size_t cap)
{
    const char *proto = lws_get_protocol(wsi)->name;
    if (strcmp(proto, "ocpp1.6") != 0 && strcmp(proto, "ocpp2.0.1") != 0)
        return NULL; /* no subprotocol offered: lws bound it to the first protocol */
    int n = lws_hdr_copy(wsi, uri, (int)cap, WSI_TOKEN_GET_URI);
    if (n <= 0)
        return NULL;
    while (n > 0 && uri[n - 1] == '/')
        uri[--n] = '\0';
    const char *slash = strrchr(uri, '/');
    return slash ? slash + 1 : uri;
}

void blws_drop(struct lws *wsi)
{
    if (wsi)
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, LWS_TO_KILL_ASYNC);
}
