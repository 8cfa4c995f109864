#include "gateway.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libwebsockets.h>
#include <uv.h>

#include "control.h"
#include "dr.h"
#include "log.h"
#include "metering.h"
#include "proxy.h"
#include "reload.h"
#include "sdnotify.h"
#include "site.h"
#include "status.h"
#include "store.h"

struct gateway {
    uv_loop_t loop;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    struct lws_context *lws;
    struct proxy *proxy;
    struct site site;
    struct control control;
    struct metering metering;
    struct dr dr;
    struct store *store;
    struct status *status;          /* NULL: no status listener */
    struct reload reload;
    bool reloading;                 /* reload started: SIGHUP is handled */
    struct sdnotify_watchdog watchdog;
    bool stopping;
    int exit_code;
};

static void gateway__lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    log_msg(level == LLL_ERR ? LOG_LVL_ERROR : LOG_LVL_WARN, "lws", "%.*s", (int)n, line);
}

/* Two sockets per charger in passthrough mode: ask for all the kernel allows. */
static void gateway__raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = rl.rlim_max;
    if (rl.rlim_cur >= want)
        return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        log_warn("gateway", "cannot raise the open-files limit from=%llu to=%llu: %s",
                 (unsigned long long)was, (unsigned long long)want, strerror(errno));
    else
        log_info("gateway", "open-files limit raised from=%llu to=%llu",
                 (unsigned long long)was, (unsigned long long)want);
}

/* Sockets beyond the chargers' own: listeners, the store, status clients,
 * meters, the MQTT broker. */
#define GATEWAY__SPARE_FILES 64

/* Says so when even the raised limit cannot hold two sockets per configured
 * charger: the chargers past it would be refused at accept. */
static void gateway__check_nofile(size_t n_chargers)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)n_chargers * 2 + GATEWAY__SPARE_FILES;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need)
        log_warn("gateway", "open-files limit too low for the configured chargers limit=%llu "
                 "chargers=%zu need=%llu (raise LimitNOFILE or ulimit -n)",
                 (unsigned long long)rl.rlim_cur, n_chargers, (unsigned long long)need);
}

static struct lws_context *gateway__lws_create(uv_loop_t *loop)
{
    void *foreign_loops[1] = { loop };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = foreign_loops; /* read only during creation */
    info.port = CONTEXT_PORT_NO_LISTEN;
    return lws_create_context(&info);
}

/* What the relay did, for the log (the metrics endpoint shows it live). */
static void gateway__log_stats(const struct proxy_stats *st)
{
    log_info("gateway", "totals frames_from_chargers=%llu frames_from_csms=%llu bad_frames=%llu "
             "oversized=%llu unmatched_results=%llu expired_calls=%llu refused_calls=%llu "
             "refused_handshakes=%llu dropped=%llu profile_writes=%llu profile_failures=%llu",
             (unsigned long long)st->frames_from_chargers, (unsigned long long)st->frames_from_csms,
             (unsigned long long)st->bad_frames, (unsigned long long)st->oversized_frames,
             (unsigned long long)st->unmatched_results, (unsigned long long)st->expired_calls,
             (unsigned long long)st->refused_calls, (unsigned long long)st->refused_handshakes,
             (unsigned long long)st->dropped_frames, (unsigned long long)st->profile_writes,
             (unsigned long long)st->profile_failures);
}

static void gateway__drained(void *arg)
{
    struct gateway *g = arg;
    gateway__log_stats(proxy_get_stats(g->proxy));
    /* Foreign-loop teardown (docs/platform.md): destroy once, close our handles and
     * let the loop finish; gateway_run destroys again after uv_run returns. */
    lws_context_destroy(g->lws);
    /* After the sockets (their last messages may still be stored), before the
     * proxy (the store's last commit answers through it). */
    store_close(g->store);
    proxy_destroy(g->proxy);
    g->proxy = NULL;
    uv_close((uv_handle_t *)&g->sigterm, NULL);
    uv_close((uv_handle_t *)&g->sigint, NULL);
}

/* No more limits while the sockets close: chargers keep what they have (and,
 * under leases, fall back to their safe default). */
static void gateway__stop_control(struct gateway *g)
{
    status_stop(g->status); /* reads what stops below */
    if (g->reloading)
        reload_stop(&g->reload);
    sdnotify_watchdog_stop(&g->watchdog);
    dr_stop(&g->dr);
    metering_stop(&g->metering);
    control_stop(&g->control);
}

static void gateway__on_signal(uv_signal_t *h, int signum)
{
    struct gateway *g = h->data;
    if (g->stopping)
        return;
    g->stopping = true;
    log_info("gateway", "stopping signal=%s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    sdnotify_send("STOPPING=1");
    gateway__stop_control(g);
    proxy_drain(g->proxy, gateway__drained, g);
}

/* The status listener and SIGHUP handling, once everything they read runs;
 * then systemd hears that the gateway is ready. */
static int gateway__start_ops(struct gateway *g, struct config *cfg, const char *path, char *text,
                              size_t len)
{
    const struct status_sources src = {
        .cfg = cfg, .site = &g->site, .control = &g->control, .proxy = g->proxy,
        .store = g->store, .dr = &g->dr, .metering = &g->metering, .reload = &g->reload,
    };
    int rc = status_start(&g->status, &g->loop, g->lws, &src);
    if (rc < 0)
        return rc;
    reload_start(&g->reload, &g->loop, path, cfg, text, len, &g->control, &g->dr);
    g->reloading = true;
    sdnotify_watchdog_start(&g->watchdog, &g->loop);
    char state[128];
    snprintf(state, sizeof(state), "READY=1\nSTATUS=site %s, %zu chargers configured", cfg->site.id,
             cfg->n_chargers);
    sdnotify_send(state);
    return 0;
}

int gateway_run(struct config *cfg, const char *path, char *text, size_t len)
{
    struct gateway g;
    memset(&g, 0, sizeof(g));

    /* lws sizes its socket table from the limit in force when it starts. */
    gateway__raise_nofile();
    gateway__check_nofile(cfg->n_chargers);
    lws_set_log_level(log_enabled(LOG_LVL_DEBUG) ? (LLL_ERR | LLL_WARN) : LLL_ERR,
                      gateway__lws_log);
    signal(SIGPIPE, SIG_IGN);

    if (uv_loop_init(&g.loop) != 0) {
        log_error("gateway", "cannot create the event loop");
        config_free_text(text, len);
        return GATEWAY_EXIT_FAILURE;
    }
    g.lws = gateway__lws_create(&g.loop);
    if (!g.lws) {
        log_error("gateway", "cannot create the WebSocket context (is libwebsockets-evlib-uv installed?)");
        uv_loop_close(&g.loop);
        config_free_text(text, len);
        return GATEWAY_EXIT_FAILURE;
    }
    /* Schedules are in the site's local time. */
    setenv("TZ", cfg->site.timezone, 1);
    tzset();

    int rc = store_open(&g.store, &g.loop, cfg->state_dir, (uint64_t)cfg->offline.max_queue_mb << 20);
    if (rc < 0)
        log_error("gateway", "cannot open the store in state_dir=%s: %s", cfg->state_dir, strerror(-rc));
    if (rc == 0)
        rc = site_init(&g.site, &g.loop, cfg);
    if (rc == 0)
        rc = proxy_create(&g.proxy, &g.loop, g.lws, cfg);
    if (rc == 0) {
        struct proxy_observer observer;
        site_observer(&g.site, &observer);
        proxy_set_observer(g.proxy, &observer);
        rc = proxy_set_store(g.proxy, g.store);
    }
    if (rc < 0) {
        config_free_text(text, len);
        site_free(&g.site);
        store_close(g.store);
        lws_context_destroy(g.lws);
        uv_run(&g.loop, UV_RUN_DEFAULT);
        lws_context_destroy(g.lws);
        uv_run(&g.loop, UV_RUN_DEFAULT);
        uv_loop_close(&g.loop);
        return GATEWAY_EXIT_FAILURE;
    }
    control_start(&g.control, &g.loop, &g.site, g.proxy, cfg);

    uv_signal_init(&g.loop, &g.sigterm);
    uv_signal_init(&g.loop, &g.sigint);
    g.sigterm.data = g.sigint.data = &g;
    uv_signal_start(&g.sigterm, gateway__on_signal, SIGTERM);
    uv_signal_start(&g.sigint, gateway__on_signal, SIGINT);
    log_info("gateway", "started version=%s site=%s chargers=%zu meters=%zu", SITEGATE_VERSION,
             cfg->site.id, cfg->n_chargers, cfg->n_meters);
    if (metering_start(&g.metering, &g.loop, &g.site, cfg) < 0 ||
        dr_start(&g.dr, &g.loop, cfg, g.store, &g.control) < 0 ||
        gateway__start_ops(&g, cfg, path, text, len) < 0) {
        /* Without its meters the site would run on the fail-safe for good,
         * without its DR client it would miss the utility's events, without
         * its status listener nobody would see it: refuse to start, so that
         * the site manager sees it at once. */
        if (!g.reloading)
            config_free_text(text, len);
        g.stopping = true;
        g.exit_code = GATEWAY_EXIT_FAILURE;
        gateway__stop_control(&g);
        proxy_drain(g.proxy, gateway__drained, &g);
    }

    uv_run(&g.loop, UV_RUN_DEFAULT);
    lws_context_destroy(g.lws);
    uv_run(&g.loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&g.loop);
    status_free(g.status);
    reload_free(&g.reload);
    site_free(&g.site);
    if (rc != 0)
        log_warn("gateway", "event loop closed with handles left: %s", uv_strerror(rc));
    log_info("gateway", "stopped");
    return g.exit_code;
}
