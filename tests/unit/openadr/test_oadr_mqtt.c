/* The MQTT client on a libuv loop (openadr/oadr_mqtt.c) against a real
 * Mosquitto started here: messages cross from paho's threads to the loop,
 * none is lost when the mailbox is full (paho delivers them again), large
 * ones are counted not copied, a missing broker is retried with backoff,
 * and every stop ends with the loop closing cleanly. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "oadr_mqtt.h"
#include "test.h"

static int port;
static pid_t broker_pid = -1;
static char conf[64];

struct seen {
    int up, down, stopped, oversized;
    size_t oversized_len;
    int messages;
    char last[256];
    char last_topic[160];
};

static void on_up(void *ctx) { ((struct seen *)ctx)->up++; }
static void on_down(void *ctx, const char *why) { ((struct seen *)ctx)->down++; }
static void on_stopped(void *ctx) { ((struct seen *)ctx)->stopped++; }

static void on_message(void *ctx, const char *topic, const char *payload, size_t len)
{
    struct seen *s = ctx;
    s->messages++;
    snprintf(s->last, sizeof(s->last), "%.*s", (int)len, payload);
    snprintf(s->last_topic, sizeof(s->last_topic), "%s", topic);
}

static void on_oversized(void *ctx, const char *topic, size_t len)
{
    struct seen *s = ctx;
    s->oversized++;
    s->oversized_len = len;
}

static const char *const topics[] = { "t/a/+", "t/b/+" };

static struct oadr_mqtt_opts opts(char *broker)
{
    snprintf(broker, 64, "mqtt://127.0.0.1:%d", port);
    return (struct oadr_mqtt_opts){
        .broker = broker, .client_id = "unit-test", .keepalive_s = 5, .reconnect_min_s = 0.1,
        .reconnect_max_s = 0.4, .max_message_bytes = 64, .topics = topics, .n_topics = 2,
        .status_topic = "t/status", .online = "on", .offline = "off",
    };
}

static struct oadr_mqtt_handlers handlers(struct seen *s)
{
    return (struct oadr_mqtt_handlers){ .ctx = s, .up = on_up, .down = on_down,
                                        .message = on_message, .oversized = on_oversized,
                                        .stopped = on_stopped };
}

static void tick_cb(uv_timer_t *t)
{
}

/* Runs the loop until *flag reaches want or ms pass; whether it did. */
static bool run_until(uv_loop_t *loop, const int *flag, int want, uint64_t ms)
{
    uint64_t deadline = uv_hrtime() / 1000000 + ms;
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    /* a repeating timer keeps uv_run(ONCE) from blocking for ever */
    uv_timer_start(&tick, tick_cb, 20, 20);
    while (*flag < want && uv_hrtime() / 1000000 < deadline)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return *flag >= want;
}

static void broker_start(void)
{
    snprintf(conf, sizeof(conf), "/tmp/test_oadr_mqtt.%d.conf", (int)getpid());
    FILE *f = fopen(conf, "w");
    if (!f) {
        perror(conf);
        exit(1);
    }
    const struct passwd *pw = getpwuid(geteuid());
    /* run as root, mosquitto would switch to its own user */
    fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nuser %s\n", port,
            pw ? pw->pw_name : "root");
    fclose(f);
    pid_t parent = getpid();
    broker_pid = fork();
    if (broker_pid == 0) {
        /* dies with us, however we end */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(127);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        dup2(null, 1);
        execlp(MOSQUITTO, MOSQUITTO, "-c", conf, (char *)NULL);
        _exit(127);
    }
}

static void broker_stop(void)
{
    if (broker_pid > 0) {
        kill(broker_pid, SIGTERM);
        waitpid(broker_pid, NULL, 0);
    }
    broker_pid = -1;
}

/* A started client on a loop of its own, and what it reported. */
struct fixture {
    uv_loop_t loop;
    char broker[64];
    struct seen s;
    struct oadr_mqtt *m;
};

/* Starts the client; with up, waits until it is connected too. */
static bool setup(struct fixture *f, bool up)
{
    memset(f, 0, sizeof(*f));
    uv_loop_init(&f->loop);
    struct oadr_mqtt_opts o = opts(f->broker);
    struct oadr_mqtt_handlers h = handlers(&f->s);
    if (oadr_mqtt_start(&f->m, &f->loop, &o, &h) != 0)
        return false;
    return !up || run_until(&f->loop, &f->s.up, 1, 8000);
}

/* The loop closes with nothing left once the client has stopped (at once:
 * well within the second, the broker being there or not). */
static bool teardown(struct fixture *f)
{
    oadr_mqtt_stop(f->m);
    bool stopped = run_until(&f->loop, &f->s.stopped, 1, 1000);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    return stopped && uv_loop_close(&f->loop) == 0;
}

TEST(refuses_bad_options)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char broker[64];
    struct seen s = { 0 };
    struct oadr_mqtt_opts o = opts(broker);
    struct oadr_mqtt_handlers h = handlers(&s);
    struct oadr_mqtt *m = (struct oadr_mqtt *)1;
    o.broker = "http://127.0.0.1";
    ASSERT_EQ(oadr_mqtt_start(&m, &loop, &o, &h), -EINVAL);
    ASSERT_NULL(m);
    o = opts(broker);
    o.n_topics = 0;
    ASSERT_EQ(oadr_mqtt_start(&m, &loop, &o, &h), -EINVAL);
    o.n_topics = OADR_MQTT_TOPICS_MAX + 1;
    ASSERT_EQ(oadr_mqtt_start(&m, &loop, &o, &h), -EINVAL);
    oadr_mqtt_stop(NULL);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST(retries_until_the_broker_is_there)
{
    struct fixture f;
    ASSERT(setup(&f, false));
    ASSERT(run_until(&f.loop, &f.s.down, 3, 5000)); /* refused, again and again */
    ASSERT_EQ(f.s.up, 0);
    ASSERT(!oadr_mqtt_up(f.m));
    /* kept by paho for when the broker is there */
    ASSERT_EQ(oadr_mqtt_publish(f.m, "t/c/x", "kept", false), 0);
    broker_start();
    ASSERT(run_until(&f.loop, &f.s.up, 1, 8000));
    ASSERT(oadr_mqtt_up(f.m));
    ASSERT(teardown(&f));
}

TEST(messages_cross_to_the_loop)
{
    struct fixture f;
    ASSERT(setup(&f, true));
    ASSERT_EQ(oadr_mqtt_publish(f.m, "t/a/x", "hello", false), 0);
    ASSERT(run_until(&f.loop, &f.s.messages, 1, 5000));
    ASSERT_STR_EQ(f.s.last, "hello");
    ASSERT_STR_EQ(f.s.last_topic, "t/a/x");
    /* larger than max_message_bytes: counted, not copied */
    char big[200];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ASSERT_EQ(oadr_mqtt_publish(f.m, "t/b/y", big, false), 0);
    ASSERT(run_until(&f.loop, &f.s.oversized, 1, 5000));
    ASSERT_EQ(f.s.oversized_len, sizeof(big) - 1);
    ASSERT_EQ(f.s.messages, 1);
    /* not subscribed: never delivered; the status topic neither */
    ASSERT_EQ(oadr_mqtt_publish(f.m, "t/c/z", "other", false), 0);
    ASSERT_EQ(oadr_mqtt_publish(f.m, "t/a/x", "last", false), 0);
    ASSERT(run_until(&f.loop, &f.s.messages, 2, 5000));
    ASSERT_STR_EQ(f.s.last, "last");
    ASSERT(teardown(&f));
    ASSERT_EQ(f.s.stopped, 1);
    /* it said so on its status topic, retained */
    char cmd[256], status[16] = "";
    snprintf(cmd, sizeof(cmd), "%s -h 127.0.0.1 -p %d -t t/status -C 1 -W 5", MOSQUITTO_SUB,
             port);
    FILE *sub = popen(cmd, "r");
    ASSERT_NOT_NULL(sub);
    char *line = fgets(status, sizeof(status), sub);
    pclose(sub);
    ASSERT_NOT_NULL(line);
    ASSERT_STR_EQ(status, "off\n");
}

/* More messages than the mailbox holds arrive while the loop is busy: paho
 * is told to deliver the rest again, and none is lost. They come from
 * mosquitto_pub, before the loop runs again. */
TEST(a_full_mailbox_loses_nothing)
{
    struct fixture f;
    ASSERT(setup(&f, true));
    int n = OADR_MQTT_QUEUE_MAX * 2 + 10;
    char lines[64], cmd[256];
    snprintf(lines, sizeof(lines), "/tmp/test_oadr_mqtt.%d.lines", (int)getpid());
    FILE *out = fopen(lines, "w");
    ASSERT_NOT_NULL(out);
    for (int i = 0; i < n; i++)
        fprintf(out, "m%d\n", i);
    fclose(out);
    snprintf(cmd, sizeof(cmd), "%s -h 127.0.0.1 -p %d -q 1 -t t/a/burst -l < %s", MOSQUITTO_PUB,
             port, lines);
    int rc = system(cmd);
    unlink(lines);
    ASSERT_EQ(rc, 0);
    bool all = run_until(&f.loop, &f.s.messages, n, 20000);
    ASSERT_EQ(f.s.messages, n);
    ASSERT(all);
    snprintf(lines, sizeof(lines), "m%d", n - 1);
    ASSERT_STR_EQ(f.s.last, lines); /* in order */
    ASSERT(teardown(&f));
}

TEST(stop_while_the_broker_is_gone)
{
    struct fixture f;
    ASSERT(setup(&f, true));
    broker_stop();
    ASSERT(run_until(&f.loop, &f.s.down, 1, 8000));
    ASSERT(!oadr_mqtt_up(f.m));
    ASSERT(teardown(&f));
    broker_start();
}

int main(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        perror("free port");
        return 1;
    }
    port = ntohs(a.sin_port);
    close(fd);
    RUN(refuses_bad_options);
    RUN(retries_until_the_broker_is_there); /* starts the broker */
    RUN(messages_cross_to_the_loop);
    RUN(a_full_mailbox_loses_nothing);
    RUN(stop_while_the_broker_is_gone);
    broker_stop();
    unlink(conf);
    return test_summary();
}
