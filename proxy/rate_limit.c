#include "rate_limit.h"

void rate_limit_init(struct rate_limit *r, double burst, uint64_t now_ms)
{
    r->tokens = burst;
    r->last_ms = now_ms;
    r->refused_in_row = 0;
}

bool rate_limit_take(struct rate_limit *r, double rate, double burst, uint64_t now_ms)
{
    if (now_ms > r->last_ms) {
        r->tokens += (double)(now_ms - r->last_ms) / 1000.0 * rate;
        if (r->tokens > burst)
            r->tokens = burst;
        r->last_ms = now_ms;
    }
    if (r->tokens < 1) {
        r->refused_in_row++;
        return false;
    }
    r->tokens -= 1;
    r->refused_in_row = 0;
    return true;
}
