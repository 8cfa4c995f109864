#include "history.h"

#include <math.h>
#include <string.h>

void history_init(struct history *h)
{
    memset(h, 0, sizeof(*h));
}

static void history__push(struct history *h, const struct history_sample *s)
{
    h->ring[h->head] = *s;
    h->head = (h->head + 1) % HISTORY_SAMPLES;
    if (h->n < HISTORY_SAMPLES)
        h->n++;
}

void history_add(struct history *h, uint64_t now_s, const struct history_sample *s)
{
    if (h->n && now_s <= h->last_s) {
        h->ring[(h->head + HISTORY_SAMPLES - 1) % HISTORY_SAMPLES] = *s;
        return;
    }
    if (h->n) {
        static const struct history_sample unknown = { NAN, NAN, NAN };
        uint64_t gap = now_s - h->last_s - 1;
        if (gap > HISTORY_SAMPLES)
            gap = HISTORY_SAMPLES;
        for (uint64_t i = 0; i < gap; i++)
            history__push(h, &unknown);
    }
    history__push(h, s);
    h->last_s = now_s;
}

const struct history_sample *history_at(const struct history *h, size_t i)
{
    return &h->ring[(h->head + HISTORY_SAMPLES - h->n + i) % HISTORY_SAMPLES];
}
