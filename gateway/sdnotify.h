/* systemd's service notifications (Type=notify, the watchdog), spoken
 * directly over $NOTIFY_SOCKET, a unix datagram socket: no libsystemd.
 * Without $NOTIFY_SOCKET (not under systemd) everything here does nothing. */
#ifndef SITEGATE_SDNOTIFY_H
#define SITEGATE_SDNOTIFY_H

#include <stdbool.h>

#include <uv.h>

/* Sends one state ("READY=1", "STOPPING=1", "STATUS=...", newline-separated
 * lines). 0 when sent, 1 when there is no $NOTIFY_SOCKET, or a negative errno. */
int sdnotify_send(const char *state);

/* Pings the watchdog ("WATCHDOG=1") from the loop at half of $WATCHDOG_USEC,
 * when systemd asked for it (and $WATCHDOG_PID, if set, is this process): a
 * loop that stalls stops the pings and systemd restarts the gateway. */
struct sdnotify_watchdog {
    uv_timer_t timer;
    bool active;
};

/* Starts the pings if the watchdog is on; 0 or a negative errno. */
int sdnotify_watchdog_start(struct sdnotify_watchdog *w, uv_loop_t *loop);

/* Stops them (the timer closes with the loop's next run). */
void sdnotify_watchdog_stop(struct sdnotify_watchdog *w);

#endif
