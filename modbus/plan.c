/* Grouping a register map into reads: fewer requests on a slow RS-485 line,
 * and one consistent snapshot of the values a read covers. Only registers that
 * touch or overlap are joined: reading a gap may hit registers a device does
 * not implement, which many answer with an exception. */
#include "plan.h"

#include <stdlib.h>

#include "decode.h"

struct plan__span {
    int q;
    enum config_reg_function function;
    int start, end; /* registers [start, end) */
};

static int plan__cmp(const void *a, const void *b)
{
    const struct plan__span *x = a, *y = b;
    if (x->function != y->function)
        return x->function < y->function ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->q < y->q ? -1 : x->q > y->q;
}

void plan_build(struct plan *p, const struct config_register map[CONFIG_Q_COUNT])
{
    struct plan__span spans[CONFIG_Q_COUNT];
    size_t n = 0;
    p->n_reads = 0;
    for (int q = 0; q < CONFIG_Q_COUNT; q++) {
        p->read_of[q] = -1;
        p->offset_of[q] = 0;
        if (!map[q].present)
            continue;
        spans[n].q = q;
        spans[n].function = map[q].function;
        spans[n].start = map[q].address;
        spans[n].end = map[q].address + config_register_words(map[q].type);
        n++;
    }
    qsort(spans, n, sizeof(spans[0]), plan__cmp);

    struct plan_read *cur = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct plan__span *s = &spans[i];
        if (cur && cur->function == s->function && s->start <= cur->address + cur->count) {
            int end = cur->address + cur->count;
            int new_end = s->end > end ? s->end : end;
            if (new_end - cur->address <= PLAN_MAX_REGS) {
                cur->count = new_end - cur->address;
                p->read_of[s->q] = (int)(cur - p->reads);
                p->offset_of[s->q] = s->start - cur->address;
                continue;
            }
        }
        cur = &p->reads[p->n_reads++];
        cur->function = s->function;
        cur->address = s->start;
        cur->count = s->end - s->start;
        p->read_of[s->q] = (int)(cur - p->reads);
        p->offset_of[s->q] = 0;
    }
}
