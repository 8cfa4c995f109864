/* The last hour of the site, one sample a second, for the dashboard's chart:
 * grid import, the cap in force and the EV load. A fixed ring: 3600 samples,
 * no allocation after the start. */
#ifndef SITEGATE_HISTORY_H
#define SITEGATE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#define HISTORY_SAMPLES 3600

/* kW; NAN: not known at that second. */
struct history_sample {
    float import_kw;
    float cap_kw;
    float ev_kw;
};

struct history {
    struct history_sample ring[HISTORY_SAMPLES];
    size_t head;            /* where the next sample goes */
    size_t n;               /* samples held, up to HISTORY_SAMPLES */
    uint64_t last_s;        /* the monotonic second of the newest sample */
};

/* Empties it. */
void history_init(struct history *h);

/* Records the sample of monotonic second now_s. Seconds skipped since the
 * last sample (a stalled loop) are recorded as unknown; a second already
 * recorded is overwritten. */
void history_add(struct history *h, uint64_t now_s, const struct history_sample *s);

/* The i-th sample, 0 the oldest, i < h->n. */
const struct history_sample *history_at(const struct history *h, size_t i);

#endif
