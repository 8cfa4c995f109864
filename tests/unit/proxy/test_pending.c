/* Unit tests of the table of CALLs in flight (proxy/pending.c): matching by
 * id, the bound, expiry and abandon in sending order, and bringing relayed
 * CALLs' deadlines forward when their peer turns out unreachable. */
#include <errno.h>

#include "test.h"

#include "pending.h"

static struct pending_call call_of(const char *id, uint64_t sent, uint64_t deadline)
{
    struct pending_call c = { .sent_ms = sent, .deadline_ms = deadline };
    snprintf(c.id, sizeof(c.id), "%s", id);
    snprintf(c.action, sizeof(c.action), "Heartbeat");
    return c;
}

static char answered[64];

static void note_answer(void *ctx, const struct pending_call *call, const struct frame *f)
{
    (void)ctx;
    size_t n = strlen(answered);
    snprintf(answered + n, sizeof(answered) - n, "%s%s,", call->id, f ? "" : "!");
}

TEST(add_take_and_bound)
{
    struct pending p;
    struct pending_call out;
    pending_init(&p, 2);
    struct pending_call a = call_of("a", 0, 10), b = call_of("b", 0, 10), c = call_of("c", 0, 10);
    ASSERT_EQ(pending_add(&p, &a), 0);
    ASSERT_EQ(pending_add(&p, &a), -EEXIST);
    ASSERT_EQ(pending_add(&p, &b), 0);
    ASSERT_EQ(pending_add(&p, &c), -ENOBUFS);
    ASSERT(pending_has(&p, "b"));
    ASSERT_EQ(pending_take(&p, "a", &out), 0);
    ASSERT_STR_EQ(out.id, "a");
    ASSERT_EQ(pending_take(&p, "a", &out), -ENOENT);
    ASSERT_EQ(pending_add(&p, &c), 0);
    pending_free(&p);
}

TEST(expire_oldest_first_and_abandon)
{
    struct pending p;
    pending_init(&p, 8);
    answered[0] = '\0';
    const char *ids[] = { "x", "y", "z" };
    uint64_t deadlines[] = { 50, 100, 20 };
    for (int i = 0; i < 3; i++) {
        struct pending_call c = call_of(ids[i], 0, deadlines[i]);
        c.on_answer = note_answer;
        ASSERT_EQ(pending_add(&p, &c), 0);
    }
    ASSERT_EQ(pending_expire(&p, 19), 0);
    ASSERT_EQ(pending_expire(&p, 60), 2);
    ASSERT_STR_EQ(answered, "x!,z!,");
    ASSERT_EQ(pending_abandon(&p), 1);
    ASSERT_STR_EQ(answered, "x!,z!,y!,");
    ASSERT_EQ(p.n, 0);
    pending_free(&p);
}

TEST(hurry_brings_relayed_calls_forward_only)
{
    struct pending p;
    pending_init(&p, 8);
    struct pending_call relayed = call_of("r", 1000, 31000);
    struct pending_call tracked = call_of("t", 2000, 32000); /* relayed, and looked at */
    tracked.on_answer = note_answer;
    tracked.relayed = true;
    struct pending_call own = call_of("o", 1000, 31000);    /* the gateway's own */
    own.on_answer = note_answer;
    struct pending_call soon = call_of("s", 1000, 1500);    /* already due sooner */
    ASSERT_EQ(pending_add(&p, &relayed), 0);
    ASSERT_EQ(pending_add(&p, &tracked), 0);
    ASSERT_EQ(pending_add(&p, &own), 0);
    ASSERT_EQ(pending_add(&p, &soon), 0);
    pending_hurry_relayed(&p, 5000);
    ASSERT_EQ(p.calls[0].deadline_ms, 6000);
    ASSERT_EQ(p.calls[1].deadline_ms, 7000);
    ASSERT_EQ(p.calls[2].deadline_ms, 31000);
    ASSERT_EQ(p.calls[3].deadline_ms, 1500);
    answered[0] = '\0';
    ASSERT_EQ(pending_expire(&p, 6500), 2);
    ASSERT_STR_EQ(answered, "");       /* "r" has no callback; "s" neither */
    ASSERT_EQ(pending_expire(&p, 7000), 1);
    ASSERT_STR_EQ(answered, "t!,");
    pending_free(&p);
}

int main(void)
{
    RUN(add_take_and_bound);
    RUN(expire_oldest_first_and_abandon);
    RUN(hurry_brings_relayed_calls_forward_only);
    return test_summary();
}
