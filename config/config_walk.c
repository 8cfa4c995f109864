/* The generic walker: applies a key table (config.c) to a JSON object, row by
 * row, with the type and bounds checks every key shares, and keeps the JSON
 * path that each error names. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

/* --- errors and paths ---------------------------------------------------- */

static int config__vfail(struct config__ctx *ctx, bool with_path, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int config__vfail(struct config__ctx *ctx, bool with_path, const char *fmt, va_list ap)
{
    int n = 0;
    if (with_path && ctx->plen)
        n = snprintf(ctx->err, CONFIG_ERR_MAX, "%s: ", ctx->path);
    if (n >= 0 && n < CONFIG_ERR_MAX)
        vsnprintf(ctx->err + n, CONFIG_ERR_MAX - (size_t)n, fmt, ap);
    return -EINVAL;
}

int config__fail(struct config__ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = config__vfail(ctx, true, fmt, ap);
    va_end(ap);
    return rc;
}

int config__err(struct config__ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = config__vfail(ctx, false, fmt, ap);
    va_end(ap);
    return rc;
}

/* Keys come from the file: an unknown one is shown printable and cut short,
 * and an empty one as "" so that the message still points somewhere. */
size_t config__push(struct config__ctx *ctx, const char *key)
{
    size_t saved = ctx->plen;
    if (!*key)
        key = "\"\"";
    size_t cap = sizeof(ctx->path);
    if (ctx->plen && ctx->plen < cap - 1)
        ctx->path[ctx->plen++] = '.';
    size_t shown = 0;
    for (const char *k = key; *k && ctx->plen < cap - 1; k++, shown++) {
        if (shown == CONFIG__KEY_SHOWN) {
            for (int i = 0; i < 3 && ctx->plen < cap - 1; i++)
                ctx->path[ctx->plen++] = '.';
            break;
        }
        unsigned char c = (unsigned char)*k;
        ctx->path[ctx->plen++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    ctx->path[ctx->plen] = '\0';
    return saved;
}

size_t config__push_index(struct config__ctx *ctx, size_t index)
{
    size_t saved = ctx->plen;
    int n = snprintf(ctx->path + ctx->plen, sizeof(ctx->path) - ctx->plen, "[%zu]", index);
    if (n > 0)
        ctx->plen += (size_t)n < sizeof(ctx->path) - ctx->plen ? (size_t)n
                                                               : sizeof(ctx->path) - ctx->plen - 1;
    return saved;
}

void config__pop(struct config__ctx *ctx, size_t saved)
{
    ctx->plen = saved;
    ctx->path[saved] = '\0';
}

/* --- the walker ---------------------------------------------------------- */

int config__defaults(const struct config__object *o, char *base)
{
    for (const struct config__key *k = o->keys; k->name; k++) {
        if (k->flags & o->exclude)
            continue;
        void *f = base + k->off;
        switch (k->type) {
        case CONFIG__STR:
            if (k->def_str && !(*(char **)f = strdup(k->def_str)))
                return -ENOMEM;
            break;
        case CONFIG__INT: *(int *)f = (int)k->def; break;
        case CONFIG__SIZE: *(size_t *)f = (size_t)k->def; break;
        case CONFIG__DBL: *(double *)f = k->def; break;
        case CONFIG__BOOL: *(bool *)f = k->def != 0; break;
        case CONFIG__ENUM:
        case CONFIG__LOGLEVEL: *(int *)f = (int)k->def; break;
        case CONFIG__OBJECT: {
            int rc = config__defaults(k->child, base + k->off);
            if (rc)
                return rc;
            break;
        }
        case CONFIG__IDBUF:
        case CONFIG__CUSTOM:
            break;
        }
    }
    return 0;
}

/* A number within the row's bounds, or the error naming them. */
static int config__number(struct config__ctx *ctx, const struct config__key *k, const cJSON *item,
                          bool integer, double *out)
{
    if (!cJSON_IsNumber(item))
        return config__fail(ctx, integer ? "must be an integer" : "must be a number");
    double v = item->valuedouble;
    if (!isfinite(v))
        return config__fail(ctx, "must be a finite number");
    if (integer && v != floor(v))
        return config__fail(ctx, "must be an integer");
    if (integer && (v < k->min || v > k->max))
        return config__fail(ctx, "must be between %lld and %lld", (long long)k->min,
                            (long long)k->max);
    if ((k->flags & CONFIG__MIN_EXCL) && (v <= k->min || v > k->max))
        return config__fail(ctx, "must be greater than %.15g and at most %.15g", k->min, k->max);
    if (v < k->min || v > k->max)
        return config__fail(ctx, "must be between %.15g and %.15g", k->min, k->max);
    *out = v;
    return 0;
}

static int config__string(struct config__ctx *ctx, const struct config__key *k,
                          const cJSON *item, const char **out)
{
    if (!cJSON_IsString(item) || !item->valuestring)
        return config__fail(ctx, "must be a string");
    size_t len = strlen(item->valuestring);
    if (len < k->min || len > k->max)
        return config__fail(ctx, "must be %d to %d characters", (int)k->min, (int)k->max);
    *out = item->valuestring;
    return 0;
}

static int config__enum(struct config__ctx *ctx, const struct config__key *k, const cJSON *item,
                        int *out)
{
    if (cJSON_IsString(item) && item->valuestring) {
        for (const struct config__name *n = k->names; n->name; n++) {
            if (strcmp(item->valuestring, n->name) == 0) {
                *out = n->value;
                return 0;
            }
        }
    }
    char list[160] = "";
    size_t used = 0;
    for (const struct config__name *n = k->names; n->name && used < sizeof(list); n++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s\"%s\"", used ? ", " : "", n->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return config__fail(ctx, "must be one of %s", list);
}

static int config__value(struct config__ctx *ctx, const struct config__key *k, cJSON *item,
                         char *base)
{
    void *f = base + k->off;
    double v = 0;
    const char *s = NULL;
    int rc;
    switch (k->type) {
    case CONFIG__STR: {
        if ((rc = config__string(ctx, k, item, &s)))
            return rc;
        char *copy = strdup(s);
        if (!copy)
            return -ENOMEM;
        if (k->check && (rc = k->check(ctx, copy))) {
            free(copy);
            return rc;
        }
        free(*(char **)f);
        *(char **)f = copy;
        return 0;
    }
    case CONFIG__IDBUF: {
        if ((rc = config__string(ctx, k, item, &s)))
            return rc;
        char copy[CONFIG_ID_MAX + 1];
        snprintf(copy, sizeof(copy), "%s", s);
        if (k->check && (rc = k->check(ctx, copy)))
            return rc;
        memcpy(f, copy, sizeof(copy));
        return 0;
    }
    case CONFIG__INT:
        if ((rc = config__number(ctx, k, item, true, &v)))
            return rc;
        *(int *)f = (int)v;
        return 0;
    case CONFIG__SIZE:
        if ((rc = config__number(ctx, k, item, true, &v)))
            return rc;
        *(size_t *)f = (size_t)v;
        return 0;
    case CONFIG__DBL:
        if ((rc = config__number(ctx, k, item, false, &v)))
            return rc;
        *(double *)f = v;
        return 0;
    case CONFIG__BOOL:
        if (!cJSON_IsBool(item))
            return config__fail(ctx, "must be true or false");
        *(bool *)f = cJSON_IsTrue(item);
        return 0;
    case CONFIG__ENUM:
        return config__enum(ctx, k, item, (int *)f);
    case CONFIG__LOGLEVEL: {
        enum log_level level;
        if (!cJSON_IsString(item) || !item->valuestring ||
            !log_level_parse(item->valuestring, &level))
            return config__fail(ctx, "must be one of \"error\", \"warn\", \"info\", \"debug\"");
        *(int *)f = (int)level;
        return 0;
    }
    case CONFIG__OBJECT:
        return config__walk(ctx, item, k->child, f);
    case CONFIG__CUSTOM:
        return k->parse(ctx, item, f);
    }
    return -EINVAL;
}

/* Applies table o to the JSON object obj, filling the struct at base. Unknown
 * and repeated keys are found first (cJSON keeps both copies of a repeated key,
 * and silently using either would hide a typo); then the rows run in table
 * order, which is what lets later rows depend on earlier ones. */
int config__walk(struct config__ctx *ctx, cJSON *obj, const struct config__object *o, char *base)
{
    if (!cJSON_IsObject(obj))
        return config__fail(ctx, "must be an object");

    cJSON *items[CONFIG__ROWS_MAX] = { 0 };
    int rc = 0;
    for (cJSON *c = obj->child; c; c = c->next) {
        const struct config__key *k = o->keys;
        while (k->name && strcmp(k->name, c->string ? c->string : "") != 0)
            k++;
        size_t saved = config__push(ctx, c->string ? c->string : "");
        if (!k->name)
            rc = config__fail(ctx, "unknown key");
        else if (k->flags & o->exclude)
            rc = config__fail(ctx, "%s", o->exclude_why);
        else if (items[k - o->keys])
            rc = config__fail(ctx, "duplicate key");
        config__pop(ctx, saved);
        if (rc)
            return rc;
        items[k - o->keys] = c;
    }

    for (const struct config__key *k = o->keys; k->name; k++) {
        cJSON *item = items[k - o->keys];
        size_t saved = config__push(ctx, k->name);
        if (item)
            rc = config__value(ctx, k, item, base);
        else if ((k->flags & CONFIG__REQUIRED) && !(k->flags & o->exclude))
            rc = config__fail(ctx, "is required");
        config__pop(ctx, saved);
        if (rc)
            return rc;
    }
    return o->finish ? o->finish(ctx, obj, base) : 0;
}
