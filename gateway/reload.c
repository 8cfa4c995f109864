#include "reload.h"

#include <signal.h>
#include <stdlib.h>

#include "config.h"
#include "control.h"
#include "dr.h"
#include "log.h"
#include "sdnotify.h"

#define RELOAD__NAMES_MAX 768

static void reload__run(struct reload *r)
{
    char err[CONFIG_ERR_MAX];
    char *text;
    size_t len;
    struct config fresh;
    if (config_read_file(r->path, &text, &len, err) < 0 || config_parse(text, len, &fresh, err) < 0) {
        config_free_text(text, len);
        r->invalid++;
        log_error("reload", "config refused, the running one stays: %s", err);
        return;
    }
    char applied[RELOAD__NAMES_MAX], restart[RELOAD__NAMES_MAX];
    int n = config_reload_diff(r->text, r->len, text, len, applied, sizeof(applied), restart,
                               sizeof(restart));
    if (n != 0) {
        r->refused++;
        log_warn("reload", "config refused, the running one stays: these keys need a restart: %s",
                 n > 0 ? restart : "(cannot compare)");
        config_free(&fresh);
        config_free_text(text, len);
        return;
    }
    config_reload_apply(r->cfg, &fresh);
    config_free(&fresh);
    config_free_text(r->text, r->len);
    r->text = text;
    r->len = len;
    log_set_level(r->cfg->log_level);
    control_reload(r->control);
    dr_reload(r->dr);
    r->applied++;
    log_info("reload", "config applied changed=%s grid_limit_kw=%.1f margin_kw=%.1f schedule=%zu",
             applied[0] ? applied : "(nothing)", r->cfg->site.grid_limit_kw, r->cfg->site.margin_kw,
             r->cfg->site.n_schedule);
}

static void reload__on_sighup(uv_signal_t *h, int signum)
{
    struct reload *r = h->data;
    log_info("reload", "SIGHUP: reading config=%s", r->path);
    sdnotify_send("RELOADING=1");
    reload__run(r);
    sdnotify_send("READY=1");
}

void reload_start(struct reload *r, uv_loop_t *loop, const char *path, struct config *cfg,
                  char *text, size_t len, struct control *control, struct dr *dr)
{
    r->path = path;
    r->cfg = cfg;
    r->text = text;
    r->len = len;
    r->control = control;
    r->dr = dr;
    uv_signal_init(loop, &r->sighup);
    r->sighup.data = r;
    uv_signal_start(&r->sighup, reload__on_sighup, SIGHUP);
}

void reload_stop(struct reload *r)
{
    if (!uv_is_closing((uv_handle_t *)&r->sighup))
        uv_close((uv_handle_t *)&r->sighup, NULL);
}

void reload_free(struct reload *r)
{
    config_free_text(r->text, r->len);
    r->text = NULL;
    r->len = 0;
}
