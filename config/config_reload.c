/* Live reload: which keys a SIGHUP may change in a running gateway, and
 * applying them.
 *
 * The table below is the whole rule: a key listed here is applied in place;
 * any other change needs a restart (listeners, the upstream, the chargers'
 * list and wiring, meters, demand response, the state directory, ...). Keys
 * are compared as written in the two files, so a key added to the loader
 * later is restart-only until it is listed here, and writing out a default
 * that was left out counts as a change. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

/* JSON paths of the keys a reload applies; "[]" stands for any index. */
static const char *const config__hot[] = {
    "site.grid_limit_kw",
    "site.phase_limit_a",
    "site.margin_kw",
    "site.schedule",
    "site.meter_stale_s",
    "site.other_load_max_kw",
    "site.fallback_ev_kw",
    "balancer.increase_interval_s",
    "balancer.deadband_a",
    "balancer.headroom_a",
    "balancer.apply_window_s",
    "charger_defaults.min_current_a",
    "charger_defaults.max_current_a",
    "charger_defaults.priority",
    "chargers[].min_current_a",
    "chargers[].max_current_a",
    "chargers[].priority",
    "log_level",
};

#define CONFIG__DIFF_PATH_MAX 192

struct config__diff {
    char *applied, *restart;
    size_t applied_cap, restart_cap;
    int n_restart;
};

/* path with its indexes taken out ("chargers[3].priority" is
 * "chargers[].priority"); returns its length. */
static size_t config__shape(const char *path, char shape[CONFIG__DIFF_PATH_MAX])
{
    size_t n = 0;
    for (const char *p = path; *p && n + 1 < CONFIG__DIFF_PATH_MAX; p++) {
        shape[n++] = *p;
        if (*p == '[') {
            while (p[1] && p[1] != ']')
                p++;
        }
    }
    shape[n] = '\0';
    return n;
}

/* Whether path (with real indexes) is a hot key. */
static bool config__is_hot(const char *path)
{
    char shape[CONFIG__DIFF_PATH_MAX];
    config__shape(path, shape);
    for (size_t i = 0; i < sizeof(config__hot) / sizeof(config__hot[0]); i++) {
        if (strcmp(shape, config__hot[i]) == 0)
            return true;
    }
    return false;
}

/* Whether some hot key lies under path (then an object or array there is
 * compared member by member rather than as a whole). */
static bool config__has_hot_below(const char *path)
{
    char shape[CONFIG__DIFF_PATH_MAX];
    size_t n = config__shape(path, shape);
    for (size_t i = 0; i < sizeof(config__hot) / sizeof(config__hot[0]); i++) {
        const char *h = config__hot[i];
        if (strncmp(h, shape, n) == 0 && (h[n] == '.' || h[n] == '['))
            return true;
    }
    return false;
}

static void config__note(char *out, size_t cap, const char *path)
{
    if (!cap)
        return;
    size_t used = strlen(out);
    size_t need = strlen(path) + (used ? 1 : 0);
    if (used + need + 4 > cap) {
        if (used + 4 <= cap && (used < 3 || strcmp(out + used - 3, "...") != 0))
            snprintf(out + used, cap - used, "%s...", used ? " " : "");
        return;
    }
    snprintf(out + used, cap - used, "%s%s", used ? " " : "", path);
}

static void config__changed(struct config__diff *d, const char *path)
{
    if (config__is_hot(path)) {
        config__note(d->applied, d->applied_cap, path);
    } else {
        config__note(d->restart, d->restart_cap, path);
        d->n_restart++;
    }
}

static void config__compare(struct config__diff *d, const cJSON *a, const cJSON *b,
                            const char *path);

static void config__compare_members(struct config__diff *d, const cJSON *a, const cJSON *b,
                                    const char *path)
{
    char sub[CONFIG__DIFF_PATH_MAX];
    for (const cJSON *x = a->child; x; x = x->next) {
        snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", x->string);
        config__compare(d, x, cJSON_GetObjectItemCaseSensitive(b, x->string), sub);
    }
    for (const cJSON *y = b->child; y; y = y->next) {
        if (!cJSON_GetObjectItemCaseSensitive(a, y->string)) {
            snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", y->string);
            config__changed(d, sub);
        }
    }
}

static void config__compare(struct config__diff *d, const cJSON *a, const cJSON *b,
                            const char *path)
{
    if (!b) {
        config__changed(d, path);
        return;
    }
    if (config__is_hot(path)) {
        if (!cJSON_Compare(a, b, true))
            config__changed(d, path);
        return;
    }
    /* Objects key by key, so that the log names the very key. */
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        config__compare_members(d, a, b, path);
        return;
    }
    if (!config__has_hot_below(path)) {
        if (!cJSON_Compare(a, b, true))
            config__changed(d, path);
        return;
    }
    /* An array with hot keys in its entries (chargers): entry by entry, and
     * entries added or removed need a restart. */
    if (cJSON_IsArray(a) && cJSON_IsArray(b) &&
        cJSON_GetArraySize(a) == cJSON_GetArraySize(b)) {
        char sub[CONFIG__DIFF_PATH_MAX];
        int i = 0;
        for (const cJSON *x = a->child, *y = b->child; x && y; x = x->next, y = y->next, i++) {
            snprintf(sub, sizeof(sub), "%s[%d]", path, i);
            config__compare(d, x, y, sub);
        }
        return;
    }
    if (!cJSON_Compare(a, b, true))
        config__changed(d, path);
}

int config_reload_diff(const char *old_text, size_t old_len, const char *new_text, size_t new_len,
                       char *applied, size_t applied_cap, char *restart, size_t restart_cap)
{
    if (applied_cap)
        applied[0] = '\0';
    if (restart_cap)
        restart[0] = '\0';
    cJSON *a = cJSON_ParseWithLength(old_text, old_len);
    cJSON *b = cJSON_ParseWithLength(new_text, new_len);
    int rc = -EINVAL;
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        struct config__diff d = {
            .applied = applied, .applied_cap = applied_cap,
            .restart = restart, .restart_cap = restart_cap,
        };
        config__compare_members(&d, a, b, "");
        rc = d.n_restart;
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    return rc;
}

static void config__apply_charger(struct config_charger *live, const struct config_charger *fresh)
{
    live->min_current_a = fresh->min_current_a;
    live->max_current_a = fresh->max_current_a;
    live->priority = fresh->priority;
}

void config_reload_apply(struct config *live, struct config *fresh)
{
    live->site.grid_limit_kw = fresh->site.grid_limit_kw;
    live->site.phase_limit_a = fresh->site.phase_limit_a;
    live->site.margin_kw = fresh->site.margin_kw;
    live->site.meter_stale_s = fresh->site.meter_stale_s;
    live->site.other_load_max_kw = fresh->site.other_load_max_kw;
    live->site.fallback_ev_kw = fresh->site.fallback_ev_kw;
    /* Swapped, so that config_free(fresh) frees the old schedule. Nobody
     * keeps a pointer into it: the control loop copies it (control_reload). */
    struct config_schedule *schedule = live->site.schedule;
    size_t n_schedule = live->site.n_schedule;
    live->site.schedule = fresh->site.schedule;
    live->site.n_schedule = fresh->site.n_schedule;
    fresh->site.schedule = schedule;
    fresh->site.n_schedule = n_schedule;

    live->balancer.increase_interval_s = fresh->balancer.increase_interval_s;
    live->balancer.deadband_a = fresh->balancer.deadband_a;
    live->balancer.headroom_a = fresh->balancer.headroom_a;
    live->balancer.apply_window_s = fresh->balancer.apply_window_s;

    /* The same chargers in the same order (anything else needs a restart). */
    config__apply_charger(&live->charger_defaults, &fresh->charger_defaults);
    for (size_t i = 0; i < live->n_chargers && i < fresh->n_chargers; i++)
        config__apply_charger(&live->chargers[i], &fresh->chargers[i]);
    live->log_level = fresh->log_level;
}
