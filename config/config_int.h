/* Internal to config/: the key table types and the parse context shared by the
 * tables (config.c), the walker (config_walk.c), the value parsers
 * (config_values.c) and the check pass (config_check.c). */
#ifndef SITEGATE_CONFIG_INT_H
#define SITEGATE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "config.h"

/* Longest JSON path an error names; ours nest three deep ("chargers[9999].id"),
 * only an unknown key's own name (cut at CONFIG__KEY_SHOWN) makes one long. */
#define CONFIG__PATH_MAX 192
#define CONFIG__KEY_SHOWN 64

#define CONFIG__FILE_MAX (4u * 1024 * 1024)
#define CONFIG__SCHEDULE_MAX 48
#define CONFIG__CHARGERS_MAX 10000
#define CONFIG__PATHNAME_MAX 4096   /* file and directory names in the config */
#define CONFIG__SECRET_FILE_MAX 1024
#define CONFIG__UPSTREAM_PW_MAX 64

/* --- the key tables (config.c) and the walker that applies them
 * (config_walk.c) -------------------------------------------------------- */

struct config__ctx;

/* The walker keeps one slot per row of the object it parses. */
#define CONFIG__ROWS_MAX 24

enum config__type {
    CONFIG__STR,      /* char *, allocated; min/max bound the length */
    CONFIG__IDBUF,    /* char[CONFIG_ID_MAX + 1]; min/max bound the length */
    CONFIG__INT,      /* int */
    CONFIG__SIZE,     /* size_t */
    CONFIG__DBL,      /* double */
    CONFIG__BOOL,     /* bool */
    CONFIG__ENUM,     /* an enum, by name from names[] */
    CONFIG__LOGLEVEL, /* enum log_level, by log_level_parse */
    CONFIG__OBJECT,   /* a nested object, by its own table */
    CONFIG__CUSTOM,   /* parse() does everything */
};

enum {
    CONFIG__REQUIRED = 1u << 0,
    CONFIG__MIN_EXCL = 1u << 1,    /* the value must be above min, not at it */
    CONFIG__PER_CHARGER = 1u << 2, /* chargers[] only, not charger_defaults */
};

struct config__name {
    const char *name;
    int value;
};

struct config__object;

struct config__key {
    const char *name;
    enum config__type type;
    size_t off;          /* of the field, from the object's base */
    unsigned flags;
    double min, max;     /* numbers: bounds; strings: length bounds */
    double def;          /* numbers, bools, enums */
    const char *def_str; /* strings */
    const struct config__name *names;
    const struct config__object *child;
    int (*check)(struct config__ctx *ctx, char *s);
    int (*parse)(struct config__ctx *ctx, cJSON *item, void *field);
};

struct config__object {
    const struct config__key *keys; /* ends with a row whose name is NULL */
    unsigned exclude;               /* rows with these flags are refused here... */
    const char *exclude_why;        /* ...with this message */
    /* Rules between keys of one object that need to know what was written in
     * it (not just the values, which may be inherited). */
    int (*finish)(struct config__ctx *ctx, const cJSON *obj, void *base);
};

struct config__ctx {
    struct config *cfg;
    char *err;                    /* CONFIG_ERR_MAX bytes */
    char path[CONFIG__PATH_MAX];  /* JSON path of the value being parsed */
    size_t plen;
};

/* Writes "<current path>: <message>" into ctx->err; returns -EINVAL. */
int config__fail(struct config__ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes the message as given (it names its own path); returns -EINVAL. */
int config__err(struct config__ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends ".key" (or "[index]") to the current path; returns what to pop back to. */
size_t config__push(struct config__ctx *ctx, const char *key);
size_t config__push_index(struct config__ctx *ctx, size_t index);
void config__pop(struct config__ctx *ctx, size_t saved);

/* Sets the defaults of every row of o (and of nested objects) in the struct at
 * base. Returns 0 or -ENOMEM. */
int config__defaults(const struct config__object *o, char *base);

/* Applies table o to the JSON object obj, filling the struct at base; on error
 * ctx->err names the path. */
int config__walk(struct config__ctx *ctx, cJSON *obj, const struct config__object *o, char *base);

/* Value parsers and string checks used by the key tables (config_values.c).
 * A parser gets the JSON value and the field it fills; a check gets the field's
 * freshly copied string, may normalise it in place, and fails with the path. */
int config__check_site_id(struct config__ctx *ctx, char *s);
int config__check_charger_id(struct config__ctx *ctx, char *s);
int config__check_timezone(struct config__ctx *ctx, char *s);
int config__check_address(struct config__ctx *ctx, char *s);
int config__check_path(struct config__ctx *ctx, char *s);
int config__check_url(struct config__ctx *ctx, char *s);
int config__check_readable(struct config__ctx *ctx, char *s);
int config__parse_time(struct config__ctx *ctx, cJSON *item, void *field);
/* Reads the secret file item names (a path string) into buf, NUL-terminated,
 * one trailing newline dropped; a FIFO never blocks it; empty, too large (cap
 * - 1 bytes at most) or holding a NUL is an error naming the file, never its
 * content. buf is wiped on error. */
int config__read_secret(struct config__ctx *ctx, const cJSON *item, char *buf, size_t cap);
int config__parse_password_hash(struct config__ctx *ctx, cJSON *item, void *field);
int config__parse_password_file(struct config__ctx *ctx, cJSON *item, void *field);
int config__parse_upstream_password(struct config__ctx *ctx, cJSON *item, void *field);
int config__parse_upstream_password_file(struct config__ctx *ctx, cJSON *item, void *field);

/* Register maps (config_registers.c): the template_dir check; a meter's
 * "template" (field: &meter->template_name; fills meter->registers from the
 * file) and "registers" (field: meter->registers; merges onto what is there);
 * the character rule of meter and template names, [A-Za-z0-9_.-]. */
int config__check_dir(struct config__ctx *ctx, char *s);
int config__parse_template(struct config__ctx *ctx, cJSON *item, void *field);
int config__parse_overrides(struct config__ctx *ctx, cJSON *item, void *field);
bool config__name_ok(const char *s);

/* Meters (config_meters.c): the meters[] array, the meter rules of the check
 * pass, and freeing. */
/* offline.local_list (config_local_list.c). */
int config__parse_local_list(struct config__ctx *ctx, cJSON *item, void *field);

int config__parse_meters(struct config__ctx *ctx, cJSON *item, void *field);
int config__check_meters(struct config__ctx *ctx);
void config__free_meters(struct config_meter *meters, size_t n);

/* Demand response (config_openadr.c): the "openadr" section (field:
 * &cfg->openadr), and freeing it. */
int config__parse_openadr(struct config__ctx *ctx, cJSON *item, void *field);
void config__free_openadr(struct config_openadr *o);

/* TLS (config_tls.c): the "listen.tls" section (field: &cfg->listen.tls), the
 * rules between certificates, keys and security profiles (a check pass step),
 * and freeing every TLS key. */
int config__parse_listen_tls(struct config__ctx *ctx, cJSON *item, void *field);
int config__check_tls(struct config__ctx *ctx);
void config__free_tls(struct config *cfg);

/* The status listener (config_status.c): the "status" section (field:
 * &cfg->status), and freeing it. */
int config__parse_status(struct config__ctx *ctx, cJSON *item, void *field);
void config__free_status(struct config_status *s);

/* The cross-key rules, run once the whole file is parsed (config_check.c). Also
 * builds the by-id index config_find_charger searches. */
int config__check(struct config__ctx *ctx);

#endif
