/* Register maps: the entries that say where a quantity lives on a device and
 * how to decode it, whole maps (quantity -> entry), and the template files
 * they are read from. A meter's registers merge onto its template's map
 * (config_meters.c). config/README.md documents the same keys. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"

/* The build sets it (config/CMakeLists.txt); a build that copies these
 * sources without the definition (the fuzz target) gets the install path. */
#ifndef SITEGATE_TEMPLATE_DIR
#define SITEGATE_TEMPLATE_DIR "/usr/share/sitegate/meters"
#endif

#define CONFIG__TEMPLATE_FILE_MAX (256u * 1024)
#define CONFIG__TEMPLATE_NAME_MAX 64

#define KEY(base, key, ty, field, ...) \
    { .name = key, .type = CONFIG__##ty, .off = offsetof(base, field), __VA_ARGS__ }

/* Every quantity with its key, in enum order. */
#define CONFIG__QUANTITIES(X) \
    X(CONFIG_Q_CURRENT_L1, "current_l1") \
    X(CONFIG_Q_CURRENT_L2, "current_l2") \
    X(CONFIG_Q_CURRENT_L3, "current_l3") \
    X(CONFIG_Q_POWER, "power") \
    X(CONFIG_Q_POWER_L1, "power_l1") \
    X(CONFIG_Q_POWER_L2, "power_l2") \
    X(CONFIG_Q_POWER_L3, "power_l3") \
    X(CONFIG_Q_ENERGY_IMPORT, "energy_import") \
    X(CONFIG_Q_VOLTAGE_L1, "voltage_l1") \
    X(CONFIG_Q_VOLTAGE_L2, "voltage_l2") \
    X(CONFIG_Q_VOLTAGE_L3, "voltage_l3") \
    X(CONFIG_Q_OIL_TEMP_C, "oil_temp_c") \
    X(CONFIG_Q_WINDING_TEMP_C, "winding_temp_c") \
    X(CONFIG_Q_LOAD_KVA, "load_kva")

#define CONFIG__QUANTITY_NAME(q, key) [q] = key,
static const char *const config__quantity_names[CONFIG_Q_COUNT] = {
    CONFIG__QUANTITIES(CONFIG__QUANTITY_NAME)
};

const char *config_quantity_name(enum config_quantity q)
{
    return (unsigned)q < CONFIG_Q_COUNT ? config__quantity_names[q] : "?";
}

const char *config_template_dir_default(void)
{
    return SITEGATE_TEMPLATE_DIR;
}

/* --- one register map entry ---------------------------------------------- */

static const struct config__name config__functions[] = {
    { "holding", CONFIG_REG_HOLDING }, { "input", CONFIG_REG_INPUT }, { 0 },
};
static const struct config__name config__types[] = {
    { "u16", CONFIG_REG_U16 },         { "s16", CONFIG_REG_S16 }, { "u32", CONFIG_REG_U32 },
    { "s32", CONFIG_REG_S32 },         { "u64", CONFIG_REG_U64 },
    { "float32", CONFIG_REG_FLOAT32 }, { "float64", CONFIG_REG_FLOAT64 }, { 0 },
};
static const struct config__name config__orders[] = {
    { "big", CONFIG_ORDER_BIG }, { "little", CONFIG_ORDER_LITTLE }, { 0 },
};

static const struct config__key config__register_keys[] = {
    KEY(struct config_register, "address", INT, address, .min = 0, .max = 65535),
    KEY(struct config_register, "function", ENUM, function, .names = config__functions,
        .def = CONFIG_REG_HOLDING),
    KEY(struct config_register, "type", ENUM, type, .names = config__types, .def = CONFIG_REG_U16),
    KEY(struct config_register, "word_order", ENUM, word_order, .names = config__orders,
        .def = CONFIG_ORDER_BIG),
    KEY(struct config_register, "byte_order", ENUM, byte_order, .names = config__orders,
        .def = CONFIG_ORDER_BIG),
    KEY(struct config_register, "scale", DBL, scale, .min = -1e9, .max = 1e9, .def = 1),
    KEY(struct config_register, "offset", DBL, offset, .min = -1e9, .max = 1e9, .def = 0),
    { 0 },
};

int config_register_words(enum config_reg_type t)
{
    switch (t) {
    case CONFIG_REG_U16:
    case CONFIG_REG_S16: return 1;
    case CONFIG_REG_U32:
    case CONFIG_REG_S32:
    case CONFIG_REG_FLOAT32: return 2;
    case CONFIG_REG_U64:
    case CONFIG_REG_FLOAT64: return 4;
    }
    return 1;
}

static int config__register_finish(struct config__ctx *ctx, const cJSON *obj, void *base)
{
    const struct config_register *r = base;
    int rc = 0;
    size_t saved;
    if (r->scale == 0) {
        saved = config__push(ctx, "scale");
        rc = config__fail(ctx, "must not be 0");
        config__pop(ctx, saved);
    } else if (r->address + config_register_words(r->type) - 1 > 65535) {
        saved = config__push(ctx, "address");
        rc = config__fail(ctx, "a %s at %d runs past register 65535",
                          config__types[r->type].name, r->address);
        config__pop(ctx, saved);
    }
    return rc;
}

static const struct config__object config__register_object = {
    .keys = config__register_keys, .finish = config__register_finish,
};

/* An entry of a template or of a meter's registers. Over an entry that is
 * already there (from the template) it changes only the keys it names; a new
 * entry must say at least where (address) and what (type). */
static int config__parse_register(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config_register *r = field;
    struct config_register copy = *r;
    if (!copy.present) {
        int rc = config__defaults(&config__register_object, (char *)&copy);
        if (rc)
            return rc;
    }
    int rc = config__walk(ctx, item, &config__register_object, (char *)&copy);
    if (rc)
        return rc;
    static const char *const needed[] = { "address", "type" };
    for (size_t i = 0; !r->present && i < sizeof(needed) / sizeof(needed[0]); i++) {
        if (!cJSON_GetObjectItemCaseSensitive(item, needed[i])) {
            size_t saved = config__push(ctx, needed[i]);
            rc = config__fail(ctx, "is required");
            config__pop(ctx, saved);
            return rc;
        }
    }
    copy.present = true;
    *r = copy;
    return 0;
}

#define CONFIG__QUANTITY_ROW(q, key) \
    { .name = key, .type = CONFIG__CUSTOM, .off = (q) * sizeof(struct config_register), \
      .parse = config__parse_register },

/* A whole map: quantity -> entry, over an array of CONFIG_Q_COUNT entries. */
static const struct config__key config__map_keys[] = {
    CONFIG__QUANTITIES(CONFIG__QUANTITY_ROW)
    { 0 },
};
_Static_assert(sizeof(config__map_keys) / sizeof(config__map_keys[0]) == CONFIG_Q_COUNT + 1,
               "one row per quantity");
_Static_assert(CONFIG_Q_COUNT < CONFIG__ROWS_MAX, "map rows fit the walker");

static const struct config__object config__map_object = { .keys = config__map_keys };

/* --- templates ------------------------------------------------------------ */

bool config__name_ok(const char *s)
{
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int config__check_dir(struct config__ctx *ctx, char *s)
{
    struct stat st;
    if (stat(s, &st) != 0)
        return config__fail(ctx, "cannot open %s: %s", s, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return config__fail(ctx, "%s is not a directory", s);
    return 0;
}

/* The whole file at path, NUL-terminated, or NULL with errno set (EFBIG when
 * larger than the bound, EINVAL when not a regular file). Opened without
 * blocking so that a FIFO named by mistake fails at once. */
static char *config__read_file(const char *path, size_t max, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    int e = 0;
    char *buf = NULL;
    size_t len = 0;
    if (fstat(fd, &st) != 0) {
        e = errno;
    } else if (!S_ISREG(st.st_mode)) {
        e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    } else if (!(buf = malloc(max + 1))) {
        e = ENOMEM;
    } else {
        for (;;) {
            ssize_t n = read(fd, buf + len, max + 1 - len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                e = errno;
                break;
            }
            if (n == 0)
                break;
            len += (size_t)n;
            if (len > max) {
                e = EFBIG;
                break;
            }
        }
    }
    close(fd);
    if (e) {
        free(buf);
        errno = e;
        return NULL;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

static void config__line_col(const char *text, const char *at, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int config__parse_template(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config_meter *m =
        (struct config_meter *)((char *)field - offsetof(struct config_meter, template_name));
    if (!cJSON_IsString(item) || !item->valuestring)
        return config__fail(ctx, "must be a string");
    const char *name = item->valuestring;
    size_t nlen = strlen(name);
    if (nlen < 1 || nlen > CONFIG__TEMPLATE_NAME_MAX)
        return config__fail(ctx, "must be 1 to %d characters", CONFIG__TEMPLATE_NAME_MAX);
    if (!config__name_ok(name) || name[0] == '.')
        return config__fail(ctx, "may only contain letters, digits and ._- and not start with .");

    const char *dir = ctx->cfg->template_dir ? ctx->cfg->template_dir : SITEGATE_TEMPLATE_DIR;
    char path[CONFIG__PATHNAME_MAX + CONFIG__TEMPLATE_NAME_MAX + 8];
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);

    size_t len = 0;
    char *text = config__read_file(path, CONFIG__TEMPLATE_FILE_MAX, &len);
    if (!text) {
        int e = errno;
        if (e == ENOMEM)
            return -ENOMEM;
        return config__fail(ctx, "no template \"%s\": cannot read %s: %s", name, path,
                            e == EFBIG   ? "larger than 256 KiB"
                            : e == EINVAL ? "not a regular file"
                                          : strerror(e));
    }
    int rc = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    size_t line, col;
    if (!root) {
        config__line_col(text, end ? end : text + len, &line, &col);
        rc = config__fail(ctx, "%s: invalid JSON at line %zu, column %zu", path, line, col);
    } else if (strstr(text, "\\u0000")) {
        rc = config__fail(ctx, "%s: \\u0000 is not allowed", path);
    } else {
        const char *p = end ? end : text + len;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p) {
            config__line_col(text, p, &line, &col);
            rc = config__fail(ctx, "%s: invalid JSON at line %zu, column %zu: text after the end",
                              path, line, col);
        } else {
            /* Errors inside the file name the file, then the path within it. */
            char inner[CONFIG_ERR_MAX];
            struct config__ctx sub = { .cfg = ctx->cfg, .err = inner };
            inner[0] = '\0';
            memset(m->registers, 0, sizeof(m->registers));
            rc = config__walk(&sub, root, &config__map_object, (char *)m->registers);
            if (rc == -EINVAL)
                rc = config__fail(ctx, "%s: %s", path, inner);
        }
    }
    cJSON_Delete(root);
    free(text);
    if (rc)
        return rc;
    char *copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    free(m->template_name);
    m->template_name = copy;
    return 0;
}

int config__parse_overrides(struct config__ctx *ctx, cJSON *item, void *field)
{
    return config__walk(ctx, item, &config__map_object, field);
}
