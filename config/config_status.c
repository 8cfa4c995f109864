/* The "status" section: the listener of the status API, the Prometheus
 * metrics and the dashboard. Absent, there is no such listener.
 * config/README.md documents the same keys; keep the two in step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config_int.h"

#define KEY(base, key, ty, field, ...) \
    { .name = key, .type = CONFIG__##ty, .off = offsetof(base, field), __VA_ARGS__ }

#define CONFIG__TOKEN_MIN 16

/* "host:port" or "[v6]:port": the address is kept apart for the listener. */
static int config__status_check_listen(struct config__ctx *ctx, char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return config__fail(ctx, "must be host:port, e.g. \"127.0.0.1:8080\"");
    char host[256];
    size_t n = (size_t)(colon - s);
    if (s[0] == '[') {
        if (n < 3 || s[n - 1] != ']')
            return config__fail(ctx, "must be [IPv6]:port for an IPv6 address");
        snprintf(host, sizeof(host), "%.*s", (int)(n - 2), s + 1);
    } else {
        if (n >= sizeof(host) || memchr(s, ':', n))
            return config__fail(ctx, "must be host:port (an IPv6 address goes in [])");
        snprintf(host, sizeof(host), "%.*s", (int)n, s);
    }
    if (config__check_address(ctx, host) < 0)
        return config__fail(ctx, "has a malformed host");
    const char *port = colon + 1;
    char *end;
    long v = strtol(port, &end, 10);
    if (!*port || *end || port[0] == '+' || port[0] == '-' || v < 1 || v > 65535)
        return config__fail(ctx, "port must be between 1 and 65535");
    return 0;
}

/* The token from a file (one trailing newline dropped), read without blocking
 * on a FIFO; it goes in an HTTP header, so printable ASCII without spaces.
 * Never shown in an error. */
static int config__status_parse_token_file(struct config__ctx *ctx, cJSON *item, void *field)
{
    if (!cJSON_IsString(item) || !item->valuestring || !item->valuestring[0] ||
        strlen(item->valuestring) > CONFIG__PATHNAME_MAX)
        return config__fail(ctx, "must be a file name of 1 to %d characters",
                            CONFIG__PATHNAME_MAX);
    const char *path = item->valuestring;
    char buf[CONFIG_STATUS_TOKEN_MAX + 1];
    int rc = config__read_secret(ctx, item, buf, sizeof(buf));
    if (!rc) {
        size_t len = strlen(buf);
        bool printable = true;
        for (size_t i = 0; i < len; i++)
            printable &= buf[i] > 0x20 && buf[i] < 0x7f;
        if (len < CONFIG__TOKEN_MIN)
            rc = config__fail(ctx, "%s: the token must be %d to %d characters", path,
                              CONFIG__TOKEN_MIN, CONFIG_STATUS_TOKEN_MAX);
        else if (!printable)
            rc = config__fail(ctx, "%s: the token may only hold printable ASCII without spaces",
                              path);
        else if (!(*(char **)field = strdup(buf)))
            rc = -ENOMEM;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

static const struct config__key config__status_keys[] = {
    KEY(struct config_status, "listen", STR, listen, .min = 3, .max = 300,
        .def_str = "127.0.0.1:8080", .check = config__status_check_listen),
    KEY(struct config_status, "token_file", CUSTOM, token,
        .parse = config__status_parse_token_file),
    KEY(struct config_status, "max_streams", INT, max_streams, .min = 1, .max = 1000, .def = 8),
    { 0 },
};
_Static_assert(sizeof(config__status_keys) / sizeof(config__status_keys[0]) <= CONFIG__ROWS_MAX,
               "config__status_keys too long");

/* Splits the checked listen string into the listener's address and port. */
static int config__status_finish(struct config__ctx *ctx, const cJSON *obj, void *base)
{
    struct config_status *st = base;
    const char *colon = strrchr(st->listen, ':');
    size_t n = (size_t)(colon - st->listen);
    const char *host = st->listen;
    if (host[0] == '[') {
        host++;
        n -= 2;
    }
    if (!(st->address = strndup(host, n)))
        return -ENOMEM;
    st->port = atoi(colon + 1);
    st->enabled = true;
    return 0;
}

static const struct config__object config__status_object = {
    .keys = config__status_keys, .finish = config__status_finish,
};

int config__parse_status(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config_status *st = field;
    int rc = config__defaults(&config__status_object, (char *)st);
    return rc ? rc : config__walk(ctx, item, &config__status_object, (char *)st);
}

void config__free_status(struct config_status *st)
{
    free(st->listen);
    free(st->address);
    if (st->token) {
        OPENSSL_cleanse(st->token, strlen(st->token));
        free(st->token);
    }
}
