/* The worker and the shipped eastron_sdm630 template against the Python meter
 * simulator the integration tests and the demo use (tests/sim/modbus_meter.py,
 * pymodbus): the two agree on every address, type and unit, and the sim's
 * command line stops cleanly on SIGTERM. Without /usr/bin/python3 and
 * python3-pymodbus this test fails saying so. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "mbtest.h"
#include "test.h"

static uv_loop_t loop;
static struct collect col;
static pid_t sim_pid;

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static void kill_sim(void)
{
    if (sim_pid > 0) {
        kill(sim_pid, SIGKILL);
        waitpid(sim_pid, NULL, 0);
        sim_pid = 0;
    }
}

static const char *start_sim(int port)
{
    if (access(PYTHON, X_OK) != 0)
        return PYTHON " is missing: install python3 and python3-pymodbus (tests/setup.sh)";
    char p[16];
    snprintf(p, sizeof(p), "%d", port);
    sim_pid = fork();
    if (sim_pid < 0)
        return "fork failed";
    if (sim_pid == 0) {
        execl(PYTHON, PYTHON, "-u", SIM_METER, "--port", p, "--building-kw", "40", "--quiet",
              (char *)NULL);
        _exit(127);
    }
    atexit(kill_sim);
    for (int i = 0; i < 1000; i++) { /* 10 s: pymodbus takes a while to import */
        if (port_accepts(port))
            return NULL;
        int status;
        if (waitpid(sim_pid, &status, WNOHANG) == sim_pid) {
            sim_pid = 0;
            return "the meter simulator exited at start (is python3-pymodbus installed?)";
        }
        usleep(10000);
    }
    kill_sim();
    return "the meter simulator did not listen within 10 s";
}

TEST(sdm630_template_reads_the_sim)
{
    int port = srv_free_port();
    const char *why = start_sim(port);
    if (why)
        TEST__FAIL("%s", why);
    memset(&col, 0, sizeof(col));
    uv_loop_init(&loop);
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"site\":{\"id\":\"S\",\"grid_limit_kw\":100},"
             "\"upstream\":{\"url\":\"ws://127.0.0.1:9/ocpp\"},"
             "\"meters\":[{\"name\":\"grid\",\"role\":\"grid\",\"template\":\"eastron_sdm630\","
             "\"tcp\":{\"host\":\"127.0.0.1\",\"port\":%d},\"poll_ms\":200}]}",
             port);
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    ASSERT_EQ(config_parse(json, strlen(json), &cfg, err), 0);
    struct meters *m = NULL;
    ASSERT_EQ(meters_start(&m, &loop, &cfg, collect_cb, &col), 0);
    config_free(&cfg);
    ASSERT(wait_for(&loop, last_ok, &col, 0, 10000));
    const struct meter_sample *s = &col.last[0];
    /* 40 kW of building load, spread over three phases at 230 V. */
    ASSERT_DBL_NEAR(s->power_w, 40000, 0.01);
    for (int i = 0; i < 3; i++) {
        ASSERT_DBL_NEAR(s->power_phase_w[i], 40000.0 / 3, 0.01);
        ASSERT_DBL_NEAR(s->current_a[i], 40000.0 / 3 / 230, 1e-4);
        ASSERT_DBL_NEAR(s->voltage_v[i], 230, 0);
    }
    /* kWh scaled to Wh, growing at 40 kW: about 11 Wh a second. */
    ASSERT(s->energy_wh >= 0 && s->energy_wh < 1000);
    double e0 = s->energy_wh;
    wait_for(&loop, never, &col, 0, 1500);
    ASSERT(col.last[0].ok);
    ASSERT(col.last[0].energy_wh > e0);
    ASSERT(isnan(col.last[0].oil_temp_c));
    ASSERT_EQ(stop_and_close(&loop, m, NULL), 0);

    /* The command line ends cleanly on SIGTERM. */
    kill(sim_pid, SIGTERM);
    int status = -1;
    for (int i = 0; i < 500 && waitpid(sim_pid, &status, WNOHANG) == 0; i++)
        usleep(10000);
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    sim_pid = 0;
}

int main(void)
{
    RUN(sdm630_template_reads_the_sim);
    kill_sim();
    return test_summary();
}
