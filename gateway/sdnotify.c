#include "sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

int sdnotify_send(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !path[0])
        return 1;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
        return -EINVAL;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* an abstract socket */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
    int rc = sent < 0 ? -errno : 0;
    close(fd);
    if (rc < 0)
        log_warn("gateway", "cannot notify systemd socket=%s: %s", path, strerror(-rc));
    return rc;
}

static void sdnotify__ping(uv_timer_t *t)
{
    sdnotify_send("WATCHDOG=1");
}

int sdnotify_watchdog_start(struct sdnotify_watchdog *w, uv_loop_t *loop)
{
    memset(w, 0, sizeof(*w));
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    if (!usec || !usec[0])
        return 0;
    char *end;
    if (pid && pid[0] && strtol(pid, &end, 10) != (long)getpid())
        return 0; /* meant for another process */
    errno = 0;
    unsigned long long us = strtoull(usec, &end, 10);
    if (errno || *end || us == 0) {
        log_warn("gateway", "ignoring WATCHDOG_USEC=%s", usec);
        return -EINVAL;
    }
    uint64_t every_ms = us / 2000 ? us / 2000 : 1;
    int rc = uv_timer_init(loop, &w->timer);
    if (rc < 0)
        return rc;
    w->active = true;
    uv_timer_start(&w->timer, sdnotify__ping, 0, every_ms);
    log_info("gateway", "systemd watchdog on every_ms=%llu", (unsigned long long)every_ms);
    return 0;
}

void sdnotify_watchdog_stop(struct sdnotify_watchdog *w)
{
    if (!w->active)
        return;
    w->active = false;
    uv_close((uv_handle_t *)&w->timer, NULL);
}
