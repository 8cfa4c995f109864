/* The "openadr" section: demand-response events over MQTT (OpenADR 3.1).
 * Absent, demand response is off. config/README.md documents the same keys;
 * keep the two in step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "config_int.h"

#define KEY(base, key, ty, field, ...) \
    { .name = key, .type = CONFIG__##ty, .off = offsetof(base, field), __VA_ARGS__ }

#define CONFIG__OADR_SECRET_MAX 256

/* --- values ---------------------------------------------------------------- */

static bool config__oadr_char(char c, const char *extra)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr(extra, c));
}

/* mqtt://host[:port] or mqtts://host[:port]: the gateway adds nothing to it,
 * and credentials belong in username/password, not in a URL that is logged. */
static int config__oadr_check_broker(struct config__ctx *ctx, char *s)
{
    const char *host;
    if (strncmp(s, "mqtt://", 7) == 0)
        host = s + 7;
    else if (strncmp(s, "mqtts://", 8) == 0)
        host = s + 8;
    else
        return config__fail(ctx, "must start with mqtt:// or mqtts://");
    if (strpbrk(host, "/@?# \t"))
        return config__fail(ctx, "must be mqtt[s]://host[:port], without a path or credentials");
    char name[260];
    snprintf(name, sizeof(name), "%s", host);
    char *port = NULL;
    if (name[0] == '[') {
        char *close = strchr(name, ']');
        if (!close || (close[1] && close[1] != ':'))
            return config__fail(ctx, "has a malformed IPv6 address");
        port = close[1] == ':' ? close + 2 : NULL;
        *close = '\0';
        memmove(name, name + 1, strlen(name));
    } else if ((port = strchr(name, ':'))) {
        *port++ = '\0';
    }
    if (config__check_address(ctx, name) < 0)
        return config__fail(ctx, "has a malformed host");
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);
        if (!*port || *end || v < 1 || v > 65535 || port[0] == '+' || port[0] == '-')
            return config__fail(ctx, "port must be between 1 and 65535");
    }
    return 0;
}

/* The VEN and client ids end up in MQTT topics: no "/", "+", "#". */
static int config__oadr_check_name(struct config__ctx *ctx, char *s)
{
    for (const char *p = s; *p; p++) {
        if (!config__oadr_char(*p, "._:-"))
            return config__fail(ctx, "may only contain letters, digits and ._:-");
    }
    return 0;
}

static int config__oadr_check_prefix(struct config__ctx *ctx, char *s)
{
    for (const char *p = s; *p; p++) {
        if (!config__oadr_char(*p, "._-/"))
            return config__fail(ctx, "may only contain letters, digits and ._-/");
    }
    if (s[0] == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//"))
        return config__fail(ctx, "must not start or end with / or have empty levels");
    return 0;
}

/* An array of 1..max unique strings of 1..128 characters; program ids are
 * OpenADR objectIDs ([A-Za-z0-9_-]), group names any printable text. */
static int config__oadr_list(struct config__ctx *ctx, cJSON *item, char ***out, size_t *n_out,
                             size_t min, size_t max, bool object_id)
{
    if (!cJSON_IsArray(item))
        return config__fail(ctx, "must be an array");
    int n = cJSON_GetArraySize(item);
    if ((size_t)n < min || (size_t)n > max)
        return config__fail(ctx, "must have %zu to %zu entries", min, max);
    if (n == 0)
        return 0;
    char **list = calloc((size_t)n, sizeof(*list));
    if (!list)
        return -ENOMEM;
    *out = list;
    size_t i = 0;
    for (cJSON *e = item->child; e; e = e->next, i++) {
        size_t saved = config__push_index(ctx, i);
        int rc = 0;
        const char *s = cJSON_IsString(e) ? e->valuestring : NULL;
        size_t len = s ? strlen(s) : 0;
        if (!s)
            rc = config__fail(ctx, "must be a string");
        else if (len < 1 || len > CONFIG_OADR_ID_MAX)
            rc = config__fail(ctx, "must be 1 to %d characters", CONFIG_OADR_ID_MAX);
        for (size_t k = 0; !rc && k < len; k++) {
            unsigned char c = (unsigned char)s[k];
            if (object_id ? !config__oadr_char((char)c, "_-") : (c < 0x20 || c == 0x7f))
                rc = config__fail(ctx, object_id ? "may only contain letters, digits, _ and -"
                                                 : "must not contain control characters");
        }
        for (size_t k = 0; !rc && k < i; k++) {
            if (strcmp(list[k], s) == 0)
                rc = config__fail(ctx, "duplicate \"%s\"", s);
        }
        if (!rc && !(list[i] = strdup(s)))
            rc = -ENOMEM;
        config__pop(ctx, saved);
        if (rc)
            return rc;
        *n_out = i + 1;
    }
    return 0;
}

/* The section a field of it belongs to. */
#define CONFIG__OADR_OF(field, member) \
    ((struct config_openadr *)((char *)(field) - offsetof(struct config_openadr, member)))

static int config__oadr_parse_programs(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config_openadr *o = CONFIG__OADR_OF(field, programs);
    return config__oadr_list(ctx, item, &o->programs, &o->n_programs, 1,
                             CONFIG_OADR_PROGRAMS_MAX, true);
}

static int config__oadr_parse_groups(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config_openadr *o = CONFIG__OADR_OF(field, groups);
    return config__oadr_list(ctx, item, &o->groups, &o->n_groups, 0, CONFIG_OADR_GROUPS_MAX,
                             false);
}

/* Four fractions, one per SIMPLE level, each 0..1 and none below the one
 * before: a higher level never sheds less. */
static int config__oadr_parse_shed(struct config__ctx *ctx, cJSON *item, void *field)
{
    double *shed = field;
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != CONFIG_OADR_SIMPLE_LEVELS)
        return config__fail(ctx, "must be an array of %d numbers (SIMPLE levels 0 to 3)",
                            CONFIG_OADR_SIMPLE_LEVELS);
    double v[CONFIG_OADR_SIMPLE_LEVELS];
    size_t i = 0;
    for (cJSON *e = item->child; e; e = e->next, i++) {
        size_t saved = config__push_index(ctx, i);
        int rc = 0;
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= 1))
            rc = config__fail(ctx, "must be a number from 0 to 1");
        else if (i > 0 && e->valuedouble < v[i - 1])
            rc = config__fail(ctx, "must not be below the level before (%.15g)", v[i - 1]);
        config__pop(ctx, saved);
        if (rc)
            return rc;
        v[i] = e->valuedouble;
    }
    memcpy(shed, v, sizeof(v));
    return 0;
}

static int config__oadr_set_secret(struct config__ctx *ctx, char **field, const char *value)
{
    size_t len = strlen(value);
    if (len < 1 || len > CONFIG__OADR_SECRET_MAX)
        return config__fail(ctx, "the password must be 1 to %d characters",
                            CONFIG__OADR_SECRET_MAX);
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    *field = copy;
    return 0;
}

static int config__oadr_parse_password(struct config__ctx *ctx, cJSON *item, void *field)
{
    if (!cJSON_IsString(item) || !item->valuestring)
        return config__fail(ctx, "must be a string");
    return config__oadr_set_secret(ctx, field, item->valuestring);
}

/* The password from a file (a trailing newline is dropped), read without
 * blocking on a FIFO; never shown in an error. */
static int config__oadr_parse_password_file(struct config__ctx *ctx, cJSON *item, void *field)
{
    if (*(char **)field)
        return config__fail(ctx, "cannot be used together with password");
    if (!cJSON_IsString(item) || !item->valuestring || !item->valuestring[0] ||
        strlen(item->valuestring) > CONFIG__PATHNAME_MAX)
        return config__fail(ctx, "must be a file name of 1 to %d characters",
                            CONFIG__PATHNAME_MAX);
    char buf[CONFIG__OADR_SECRET_MAX + 1];
    int rc = config__read_secret(ctx, item, buf, sizeof(buf));
    if (!rc)
        rc = config__oadr_set_secret(ctx, field, buf);
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

/* --- the section ----------------------------------------------------------- */

static const struct config__key config__oadr_keys[] = {
    KEY(struct config_openadr, "broker", STR, broker, .flags = CONFIG__REQUIRED, .min = 1,
        .max = 300, .check = config__oadr_check_broker),
    KEY(struct config_openadr, "ven_id", STR, ven_id, .flags = CONFIG__REQUIRED, .min = 1,
        .max = CONFIG_OADR_ID_MAX, .check = config__oadr_check_name),
    KEY(struct config_openadr, "topic_prefix", STR, topic_prefix, .min = 1, .max = 128,
        .def_str = "oadr", .check = config__oadr_check_prefix),
    KEY(struct config_openadr, "programs", CUSTOM, programs, .flags = CONFIG__REQUIRED,
        .parse = config__oadr_parse_programs),
    KEY(struct config_openadr, "groups", CUSTOM, groups, .parse = config__oadr_parse_groups),
    KEY(struct config_openadr, "client_id", STR, client_id, .min = 1, .max = CONFIG_OADR_ID_MAX,
        .check = config__oadr_check_name),
    KEY(struct config_openadr, "username", STR, username, .min = 1, .max = 256),
    /* password before password_file: the file refuses to fill what is set. */
    KEY(struct config_openadr, "password", CUSTOM, password,
        .parse = config__oadr_parse_password),
    KEY(struct config_openadr, "password_file", CUSTOM, password,
        .parse = config__oadr_parse_password_file),
    KEY(struct config_openadr, "ca_file", STR, ca_file, .min = 1, .max = CONFIG__PATHNAME_MAX,
        .check = config__check_readable),
    KEY(struct config_openadr, "cert_file", STR, cert_file, .min = 1,
        .max = CONFIG__PATHNAME_MAX, .check = config__check_readable),
    KEY(struct config_openadr, "key_file", STR, key_file, .min = 1, .max = CONFIG__PATHNAME_MAX,
        .check = config__check_readable),
    KEY(struct config_openadr, "keepalive_s", INT, keepalive_s, .min = 5, .max = 3600, .def = 30),
    KEY(struct config_openadr, "reconnect_min_s", DBL, reconnect_min_s, .min = 0.1, .max = 600,
        .def = 1),
    KEY(struct config_openadr, "reconnect_max_s", DBL, reconnect_max_s, .min = 0.1, .max = 3600,
        .def = 60),
    KEY(struct config_openadr, "report_interval_s", INT, report_interval_s, .min = 1,
        .max = 86400, .def = 300),
    KEY(struct config_openadr, "simple_shed_fractions", CUSTOM, simple_shed,
        .parse = config__oadr_parse_shed),
    KEY(struct config_openadr, "max_future_h", INT, max_future_h, .min = 1, .max = 8760,
        .def = 168),
    KEY(struct config_openadr, "max_message_bytes", SIZE, max_message_bytes, .min = 1024,
        .max = 1048576, .def = 65536),
    { 0 },
};
_Static_assert(sizeof(config__oadr_keys) / sizeof(config__oadr_keys[0]) <= CONFIG__ROWS_MAX,
               "config__oadr_keys too long");

static int config__oadr_fail_at(struct config__ctx *ctx, const char *key, const char *msg)
{
    size_t saved = config__push(ctx, key);
    int rc = config__fail(ctx, "%s", msg);
    config__pop(ctx, saved);
    return rc;
}

static int config__oadr_finish(struct config__ctx *ctx, const cJSON *obj, void *base)
{
    struct config_openadr *o = base;
    if (o->reconnect_max_s < o->reconnect_min_s)
        return config__oadr_fail_at(ctx, "reconnect_max_s", "must be at least reconnect_min_s");
    bool tls = strncmp(o->broker, "mqtts://", 8) == 0;
    static const char *const tls_keys[] = { "ca_file", "cert_file", "key_file" };
    for (size_t i = 0; i < 3 && !tls; i++) {
        if (cJSON_GetObjectItemCaseSensitive(obj, tls_keys[i]))
            return config__oadr_fail_at(ctx, tls_keys[i], "only with an mqtts:// broker");
    }
    if (!o->cert_file != !o->key_file)
        return config__oadr_fail_at(ctx, o->cert_file ? "key_file" : "cert_file",
                                    "cert_file and key_file go together");
    if (o->password && !o->username)
        return config__oadr_fail_at(ctx, "username", "is required with a password");
    if (!o->client_id) {
        size_t n = strlen(o->ven_id) + sizeof("sitegate-");
        if (!(o->client_id = malloc(n)))
            return -ENOMEM;
        snprintf(o->client_id, n, "sitegate-%s", o->ven_id);
    }
    o->enabled = true;
    return 0;
}

static const struct config__object config__oadr_object = {
    .keys = config__oadr_keys, .finish = config__oadr_finish,
};

int config__parse_openadr(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config_openadr *o = field;
    static const double shed[CONFIG_OADR_SIMPLE_LEVELS] = { 0, 0.25, 0.5, 0.75 };
    memcpy(o->simple_shed, shed, sizeof(shed));
    int rc = config__defaults(&config__oadr_object, (char *)o);
    return rc ? rc : config__walk(ctx, item, &config__oadr_object, (char *)o);
}

static void config__oadr_free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void config__free_openadr(struct config_openadr *o)
{
    free(o->broker);
    free(o->ven_id);
    free(o->topic_prefix);
    config__oadr_free_list(o->programs, o->n_programs);
    config__oadr_free_list(o->groups, o->n_groups);
    free(o->client_id);
    free(o->username);
    if (o->password) {
        OPENSSL_cleanse(o->password, strlen(o->password));
        free(o->password);
    }
    free(o->ca_file);
    free(o->cert_file);
    free(o->key_file);
}
