/* The RTU worker over a pseudo-terminal pair made by socat, with a libmodbus
 * RTU server (unit 1) on the far end: two meters share the line, the one that
 * answers keeps giving good samples while the absent one times out; the
 * server going quiet and coming back; a serial device that does not exist.
 * Without socat this test fails saying so: it is never skipped. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "mbtest.h"
#include "test.h"

static uv_loop_t loop;
static struct srv server;
static struct collect col;
static struct config cfg;
static char tmpdir[64], end_a[128], end_b[128];
static pid_t socat_pid;

static bool on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
    for (char *dir = strtok(buf, ":"); dir; dir = strtok(NULL, ":")) {
        char file[4200];
        snprintf(file, sizeof(file), "%s/%s", dir, prog);
        if (access(file, X_OK) == 0)
            return true;
    }
    return false;
}

static void kill_socat(void)
{
    if (socat_pid <= 0)
        return;
    kill(socat_pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(socat_pid, NULL, WNOHANG) == socat_pid) {
            socat_pid = 0;
            return;
        }
        usleep(10000);
    }
    kill(socat_pid, SIGKILL);
    waitpid(socat_pid, NULL, 0);
    socat_pid = 0;
}

/* Starts `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B` and waits
 * (5 s at most) for both ends to appear. */
static const char *start_socat(void)
{
    if (!on_path("socat"))
        return "socat is not installed (apt-get install socat): the RTU test needs it for a "
               "pseudo-terminal pair";
    char a[160], b[160], log[128];
    snprintf(a, sizeof(a), "pty,raw,echo=0,link=%s", end_a);
    snprintf(b, sizeof(b), "pty,raw,echo=0,link=%s", end_b);
    snprintf(log, sizeof(log), "%s/socat.log", tmpdir);
    socat_pid = fork();
    if (socat_pid < 0)
        return "fork failed";
    if (socat_pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("socat", "socat", "-d", "-d", a, b, (char *)NULL);
        _exit(127);
    }
    atexit(kill_socat);
    for (int i = 0; i < 500; i++) {
        struct stat st;
        if (stat(end_a, &st) == 0 && stat(end_b, &st) == 0)
            return NULL;
        int status;
        if (waitpid(socat_pid, &status, WNOHANG) == socat_pid) {
            socat_pid = 0;
            return "socat exited before making the pseudo-terminal pair";
        }
        usleep(10000);
    }
    kill_socat();
    return "socat made no pseudo-terminal pair within 5 s";
}

static bool load_cfg(const char *device)
{
    char json[2048];
    snprintf(json, sizeof(json),
             "{\"site\":{\"id\":\"S\",\"grid_limit_kw\":500},"
             "\"upstream\":{\"url\":\"ws://127.0.0.1:9/ocpp\"},"
             "\"meters\":["
             "{\"name\":\"grid\",\"role\":\"grid\",\"unit_id\":1,"
             "\"rtu\":{\"device\":\"%s\",\"baud\":115200},\"poll_ms\":100,\"timeout_ms\":150,"
             "\"retries\":0,\"registers\":{"
             "\"power\":{\"address\":0,\"type\":\"float32\"},"
             "\"voltage_l1\":{\"address\":20,\"function\":\"input\",\"type\":\"u16\","
             "\"scale\":0.1}}},"
             "{\"name\":\"ev\",\"role\":\"ev_submeter\",\"unit_id\":2,"
             "\"rtu\":{\"device\":\"%s\",\"baud\":115200},\"poll_ms\":100,\"timeout_ms\":150,"
             "\"retries\":0,\"registers\":{\"power\":{\"address\":0,\"type\":\"float32\"}}}]}",
             device, device);
    char err[CONFIG_ERR_MAX];
    if (config_parse(json, strlen(json), &cfg, err) != 0) {
        fprintf(stderr, "config: %s\n", err);
        return false;
    }
    return true;
}

static const char *want_part;
static bool last_failed_with(struct collect *c, int meter)
{
    return last_failed(c, meter) && strstr(c->last[meter].error, want_part) != NULL;
}

static bool ok_count_at_least(struct collect *c, int n)
{
    return c->ok[0] >= n;
}

TEST(shared_line)
{
    const char *why = start_socat();
    if (why)
        TEST__FAIL("%s", why);
    memset(&col, 0, sizeof(col));
    uv_loop_init(&loop);
    srv_init(&server);
    server.rtu = true;
    server.slave = 1;
    snprintf(server.device, sizeof(server.device), "%s", end_b);
    srv_set_f32(&server, false, 0, 7360.0f);
    const uint16_t v[] = { 2312 };
    srv_set(&server, true, 20, v, 1);
    srv_start(&server);

    ASSERT(load_cfg(end_a));
    struct meters *m = NULL;
    ASSERT_EQ(meters_start(&m, &loop, &cfg, collect_cb, &col), 0);
    config_free(&cfg);

    ASSERT(wait_for(&loop, last_ok, &col, 0, 5000));
    ASSERT_DBL_NEAR(col.last[0].power_w, 7360, 1e-3);
    ASSERT_DBL_NEAR(col.last[0].voltage_v[0], 231.2, 1e-9);
    ASSERT_EQ(col.last[0].role, CONFIG_METER_GRID);
    /* Unit 2 is not on the line: its readings time out... */
    want_part = "Connection timed out";
    ASSERT(wait_for(&loop, last_failed_with, &col, 1, 5000));
    fprintf(stderr, "  unit 2: %s\n", col.last[1].error);
    /* ...while unit 1 keeps answering on the same line. */
    int ok_before = col.ok[0];
    ASSERT(wait_for(&loop, ok_count_at_least, &col, ok_before + 4, 3000));
    ASSERT(last_ok(&col, 0));

    /* The server goes quiet: unit 1 fails too; back: ok again. */
    srv_stop(&server);
    ASSERT(wait_for(&loop, last_failed, &col, 0, 5000));
    srv_set_f32(&server, false, 0, 8000.0f);
    srv_start(&server);
    ASSERT(wait_for(&loop, last_ok, &col, 0, 10000));
    ASSERT_DBL_NEAR(col.last[0].power_w, 8000, 1e-3);

    uint64_t stop_ms;
    ASSERT_EQ(stop_and_close(&loop, m, &stop_ms), 0);
    fprintf(stderr, "  stop took %llu ms\n", (unsigned long long)stop_ms);
    ASSERT(stop_ms < 1000); /* a serial read finishes first: at most timeout_ms */
    srv_stop(&server);
    srv_free(&server);
    kill_socat();
}

TEST(missing_device)
{
    memset(&col, 0, sizeof(col));
    uv_loop_init(&loop);
    char dev[128];
    snprintf(dev, sizeof(dev), "%s/no-such-tty", tmpdir);
    ASSERT(load_cfg(dev));
    struct meters *m = NULL;
    ASSERT_EQ(meters_start(&m, &loop, &cfg, collect_cb, &col), 0);
    config_free(&cfg);
    want_part = "connect: No such file or directory";
    ASSERT(wait_for(&loop, last_failed_with, &col, 0, 5000));
    ASSERT(wait_for(&loop, last_failed_with, &col, 1, 5000));
    ASSERT_EQ(stop_and_close(&loop, m, NULL), 0);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_meters_rtu.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(end_a, sizeof(end_a), "%s/a", tmpdir);
    snprintf(end_b, sizeof(end_b), "%s/b", tmpdir);
    RUN(shared_line);
    RUN(missing_device);
    kill_socat();
    char log[128];
    snprintf(log, sizeof(log), "%s/socat.log", tmpdir);
    unlink(log);
    rmdir(tmpdir);
    return test_summary();
}
