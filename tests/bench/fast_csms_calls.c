/* fast_csms's own CALLs (fast_csms.h): the CSMS → charger direction of a
 * benchmark. At --call-rate R, a timer sends R CALLs a second in all, each to
 * the next booted charger in turn that has none in flight (OCPP-J: one at a
 * time), and times each round trip from its write to its answer's arrival.
 * The rate counts from the first charger's boot; a CALL that finds every
 * charger busy is not sent and counts as missed.
 *
 * The CALL is a read a CSMS makes every day: 1.6 GetConfiguration of
 * HeartbeatInterval, 2.0.1 GetVariables of OCPPCommCtrlr.HeartbeatInterval.
 */
#include "fast_csms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench_hist.h"

#define FCC_TICK_MS 1             /* how often due CALLs go out */
#define FCC_SLOTS_MAX 100000      /* connections taking CALLs, at most */

struct fcc_slot {
    void *conn;                    /* NULL: free */
    enum ocpp_version version;
    bool in_flight;
    char id[24];                   /* of the CALL in flight */
    uint64_t sent_ns;
};

static struct {
    uv_timer_t timer;
    bool timer_init;
    double rate;
    fcsms_send_fn send;
    struct fcc_slot *slots;
    size_t n_slots, cap_slots;
    size_t *free_slots;            /* a stack of free slot numbers */
    size_t n_free;
    size_t cursor;                 /* the round robin */
    uint64_t start_ns, due_sent;   /* CALLs due since start_ns, sent or missed */
    uint64_t next_id;
    uint64_t sent, answered, errors, unmatched, missed;
    struct bhist rtt;
} fcc;

static const char fcc__call16[] = "\"GetConfiguration\",{\"key\":[\"HeartbeatInterval\"]}";
static const char fcc__call201[] =
    "\"GetVariables\",{\"getVariableData\":[{\"component\":{\"name\":\"OCPPCommCtrlr\"},"
    "\"variable\":{\"name\":\"HeartbeatInterval\"}}]}";

/* The next slot in turn that takes a CALL now, or NULL. */
static struct fcc_slot *fcc__next(void)
{
    for (size_t tried = 0; tried < fcc.n_slots; tried++) {
        struct fcc_slot *s = &fcc.slots[fcc.cursor];
        fcc.cursor = (fcc.cursor + 1) % fcc.n_slots;
        if (s->conn && !s->in_flight)
            return s;
    }
    return NULL;
}

static void fcc__send(struct fcc_slot *s)
{
    char msg[sizeof(fcc__call201) + 48];
    snprintf(s->id, sizeof(s->id), "fc-%" PRIu64, ++fcc.next_id);
    int n = snprintf(msg, sizeof(msg), "[2,\"%s\",%s]", s->id,
                     s->version == OCPP_16 ? fcc__call16 : fcc__call201);
    s->sent_ns = uv_hrtime();
    s->in_flight = true;
    fcc.sent++;
    /* A failed send closes the connection: its slot goes with it. */
    if (fcc.send(s->conn, msg, (size_t)n) < 0)
        s->in_flight = false;
}

static void fcc__tick(uv_timer_t *t)
{
    (void)t;
    uint64_t now = uv_hrtime();
    if (!fcc.start_ns)
        return; /* no charger has booted yet */
    uint64_t due = (uint64_t)(fcc.rate * (double)(now - fcc.start_ns) / 1e9);
    for (; fcc.due_sent < due; fcc.due_sent++) {
        struct fcc_slot *s = fcc.n_slots ? fcc__next() : NULL;
        if (s)
            fcc__send(s);
        else
            fcc.missed++;
    }
}

int fcsms_calls_init(uv_loop_t *loop, double rate, fcsms_send_fn send)
{
    if (rate < 0 || !send)
        return -EINVAL;
    fcc.rate = rate;
    fcc.send = send;
    bhist_reset(&fcc.rtt);
    if (uv_timer_init(loop, &fcc.timer) != 0)
        return -ENOMEM;
    fcc.timer_init = true;
    if (rate > 0)
        uv_timer_start(&fcc.timer, fcc__tick, FCC_TICK_MS, FCC_TICK_MS);
    return 0;
}

static void fcc__closed(uv_handle_t *h)
{
    (void)h;
    free(fcc.slots);
    free(fcc.free_slots);
    fcc.slots = NULL;
    fcc.free_slots = NULL;
    fcc.n_slots = fcc.cap_slots = fcc.n_free = 0;
}

void fcsms_calls_stop(void)
{
    if (!fcc.timer_init)
        return;
    fcc.timer_init = false;
    uv_close((uv_handle_t *)&fcc.timer, fcc__closed);
}

static int fcc__grow(void)
{
    size_t cap = fcc.cap_slots ? fcc.cap_slots * 2 : 256;
    if (cap > FCC_SLOTS_MAX)
        cap = FCC_SLOTS_MAX;
    if (cap == fcc.cap_slots)
        return -ENOMEM;
    struct fcc_slot *slots = realloc(fcc.slots, cap * sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    fcc.slots = slots;
    size_t *free_slots = realloc(fcc.free_slots, cap * sizeof(*free_slots));
    if (!free_slots)
        return -ENOMEM;
    fcc.free_slots = free_slots;
    fcc.cap_slots = cap;
    return 0;
}

long fcsms_calls_add(void *conn, enum ocpp_version version)
{
    size_t i;
    if (fcc.n_free) {
        i = fcc.free_slots[--fcc.n_free];
    } else {
        if (fcc.n_slots == fcc.cap_slots && fcc__grow() < 0)
            return -ENOMEM;
        i = fcc.n_slots++;
    }
    memset(&fcc.slots[i], 0, sizeof(fcc.slots[i]));
    fcc.slots[i].conn = conn;
    if (!fcc.start_ns)
        fcc.start_ns = uv_hrtime(); /* the rate counts from the first */
    fcc.slots[i].version = version;
    return (long)i;
}

void fcsms_calls_remove(size_t slot)
{
    if (slot >= fcc.n_slots || !fcc.slots[slot].conn)
        return;
    fcc.slots[slot].conn = NULL;
    fcc.free_slots[fcc.n_free++] = slot;
}

void fcsms_calls_answer(size_t slot, const struct frame *f)
{
    uint64_t now = uv_hrtime();
    struct fcc_slot *s = slot < fcc.n_slots ? &fcc.slots[slot] : NULL;
    if (!s || !s->conn || !s->in_flight || strcmp(s->id, f->id) != 0) {
        fcc.unmatched++;
        return;
    }
    s->in_flight = false;
    fcc.answered++;
    if (f->type == FRAME_ERROR)
        fcc.errors++;
    bhist_add(&fcc.rtt, now - s->sent_ns);
}

void fcsms_calls_print_json(FILE *out, bool reset)
{
    fprintf(out,
            ",\"csms_calls\":{\"rate\":%.1f,\"sent\":%" PRIu64 ",\"answered\":%" PRIu64
            ",\"errors\":%" PRIu64 ",\"unmatched\":%" PRIu64 ",\"missed\":%" PRIu64 ",\"rtt\":",
            fcc.rate, fcc.sent, fcc.answered, fcc.errors, fcc.unmatched, fcc.missed);
    bhist_print_json(&fcc.rtt, out);
    fputc('}', out);
    if (reset) {
        fcc.sent = fcc.answered = fcc.errors = fcc.unmatched = fcc.missed = 0;
        bhist_reset(&fcc.rtt);
    }
}
