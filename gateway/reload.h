/* Live reload: SIGHUP reads the config file again.
 *
 * An invalid file is refused and the running config stays, word for word. A
 * valid one whose changes all are of the keys a reload applies (config.h,
 * config_reload.c: caps, margins, the schedule, charger limits and
 * priorities, balancer tuning, log_level) is applied in place, without
 * touching a socket; one that also changes anything else (a listener, the
 * upstream, the chargers' list, meters, ...) is refused whole, and the log
 * names every key that needs a restart.
 *
 * Why in place: the proxy, the site, the control loop, the meters and
 * demand response all hold pointers into the one struct config (the
 * chargers' entries above all), and their sessions must not be dropped. So
 * the new file is parsed into a second struct, only the hot fields are
 * copied (the schedule array swapped) into the live one, and the second
 * struct is freed; then the control loop and demand response take the new
 * values (control_reload, dr_reload).
 */
#ifndef SITEGATE_RELOAD_H
#define SITEGATE_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct config;
struct control;
struct dr;

struct reload {
    uv_signal_t sighup;
    const char *path;
    struct config *cfg;        /* the live config, changed in place */
    char *text;                /* the text it was last loaded from */
    size_t len;
    struct control *control;
    struct dr *dr;
    uint64_t applied, refused, invalid;  /* reloads so far, by outcome */
};

/* Handles SIGHUP from now on. text is the file's content the running config
 * was parsed from; the reload owns it from here. */
void reload_start(struct reload *r, uv_loop_t *loop, const char *path, struct config *cfg,
                  char *text, size_t len, struct control *control, struct dr *dr);

/* Stops handling SIGHUP (the handle closes with the loop's next run). */
void reload_stop(struct reload *r);

/* Frees the text; after the loop has closed the handle. */
void reload_free(struct reload *r);

#endif
