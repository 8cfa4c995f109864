/* The bridged transactions of aggregate mode (proxy/agg_btx.c): minted ids,
 * lookups, seqNo and remote starts kept in a real store across a reopen
 * (a gateway restart), and the table's bounds. */
/* nftw() is XSI. */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>

#include <uv.h>

#include "agg_btx.h"
#include "store.h"
#include "test.h"

static char dir[64];

/* A fresh state directory for a test. */
static bool new_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_agg_btx.XXXXXX");
    return mkdtemp(dir) != NULL;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_dir(void)
{
    nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static struct store *open_store(uv_loop_t *loop)
{
    struct store *st = NULL;
    uv_loop_init(loop);
    if (store_open(&st, loop, dir, 0) != 0)
        return NULL;
    return st;
}

static void close_store(uv_loop_t *loop, struct store *st)
{
    store_flush(st);
    store_close(st);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
}

TEST(kept_across_a_restart)
{
    uv_loop_t loop;
    ASSERT(new_dir());
    struct store *st = open_store(&loop);
    ASSERT_NOT_NULL(st);
    static struct agg_btxs t; /* large: not on the stack */
    ASSERT_EQ(agg_btx_load(&t, st), 0);
    /* a 1.6 charger's: minted UUID, its handle is the charger's 1.6 id */
    struct agg_btx *a = agg_btx_new(&t, "CP01", 1, 1, NULL);
    ASSERT_NOT_NULL(a);
    ASSERT_EQ(a->id16, a->handle);
    ASSERT_EQ(strlen(a->id201), 36);
    ASSERT_EQ(a->id201[14], '4'); /* version 4 */
    a->seq_no = 3;
    snprintf(a->state, sizeof(a->state), "Charging");
    ASSERT_EQ(agg_btx_save(&t, a), 0);
    char minted[BRIDGE_TX_MAX];
    snprintf(minted, sizeof(minted), "%s", a->id201);
    int64_t handle = a->handle;
    /* a 2.0.1 charger's: its own id, the site's 1.6 id learnt later */
    struct agg_btx *b = agg_btx_new(&t, "CP03", 1, 3, "tx-of-cp03");
    ASSERT_NOT_NULL(b);
    ASSERT_EQ(b->id16, 0);
    b->id16 = -2;
    b->started = true;
    b->meter_wh = 1234.5;
    ASSERT_EQ(agg_btx_save(&t, b), 0);
    struct agg_btx *c = agg_btx_new(&t, "CP02", 1, 2, NULL);
    ASSERT_NOT_NULL(c);
    agg_btx_end(&t, c);
    agg_btx_remote_put(&t, 2, 42, "REMOTE-1", "Central");
    agg_btx_remote_put(&t, 1, 43, "REMOTE-2", "eMAID");
    close_store(&loop, st);

    st = open_store(&loop);
    ASSERT_NOT_NULL(st);
    ASSERT_EQ(agg_btx_load(&t, st), 0);
    a = agg_btx_by_handle(&t, "CP01", handle);
    ASSERT_NOT_NULL(a);
    ASSERT_STR_EQ(a->id201, minted);
    ASSERT_EQ(a->seq_no, 3);
    ASSERT_STR_EQ(a->state, "Charging");
    ASSERT(isnan(a->meter_wh));
    ASSERT_NULL(agg_btx_by_handle(&t, "CP02", handle)); /* the charger's own only */
    ASSERT(agg_btx_by_id201(&t, NULL, minted) == a);
    b = agg_btx_by_id16(&t, "CP03", -2);
    ASSERT_NOT_NULL(b);
    ASSERT_STR_EQ(b->id201, "tx-of-cp03");
    ASSERT(b->started);
    ASSERT_DBL_NEAR(b->meter_wh, 1234.5, 0);
    ASSERT(agg_btx_on(&t, 3) == b);
    ASSERT_NULL(agg_btx_on(&t, 2)); /* ended: gone */
    /* handles go on from where they were */
    c = agg_btx_new(&t, "CP02", 1, 2, NULL);
    ASSERT_NOT_NULL(c);
    ASSERT(c->handle > handle + 1);
    struct agg_remote r;
    ASSERT(!agg_btx_remote_take(&t, 2, "OTHER", &r));
    ASSERT(agg_btx_remote_take(&t, 2, "remote-1", &r)); /* idTags compare without case */
    ASSERT_EQ(r.id, 42);
    ASSERT_STR_EQ(r.type, "Central");
    ASSERT(!agg_btx_remote_take(&t, 2, "REMOTE-1", &r)); /* taken once */
    close_store(&loop, st);

    st = open_store(&loop);
    ASSERT_EQ(agg_btx_load(&t, st), 0);
    ASSERT(!agg_btx_remote_take(&t, 2, "REMOTE-1", &r));
    ASSERT(agg_btx_remote_take(&t, 1, "REMOTE-2", &r));
    ASSERT_STR_EQ(r.type, "eMAID");
    close_store(&loop, st);
    remove_dir();
}

TEST(bounds)
{
    static struct agg_btxs t;
    ASSERT_EQ(agg_btx_load(&t, NULL), 0); /* no store: nothing kept, all else the same */
    /* a new transaction on a connector ends the one left there */
    struct agg_btx *a = agg_btx_new(&t, "CP01", 1, 1, NULL);
    int64_t first = a->handle;
    struct agg_btx *b = agg_btx_new(&t, "CP01", 1, 1, NULL);
    ASSERT_NULL(agg_btx_by_handle(&t, NULL, first));
    int64_t second = b->handle;
    ASSERT_NOT_NULL(agg_btx_by_handle(&t, NULL, second));
    /* a full table forgets its oldest */
    char name[16];
    for (int i = 0; i < AGG_BTXS; i++) {
        snprintf(name, sizeof(name), "C%d", i);
        ASSERT_NOT_NULL(agg_btx_new(&t, name, 1, i + 2, NULL));
    }
    ASSERT_NULL(agg_btx_by_handle(&t, NULL, second));
    ASSERT_NOT_NULL(agg_btx_by_handle(&t, NULL, t.last));
    /* remote starts: one per site connector, the oldest replaced beyond the bound */
    for (int i = 0; i < AGG_REMOTES + 1; i++)
        agg_btx_remote_put(&t, i + 1, i, "T", "Central");
    struct agg_remote r;
    ASSERT(!agg_btx_remote_take(&t, 1, "T", &r));
    ASSERT(agg_btx_remote_take(&t, AGG_REMOTES + 1, "T", &r));
    agg_btx_remote_put(&t, 5, 7, "T", "Central");
    agg_btx_remote_put(&t, 5, 8, "U", "Local");
    ASSERT(!agg_btx_remote_take(&t, 5, "T", &r)); /* the newer one on 5 replaced it */
    ASSERT(agg_btx_remote_take(&t, 5, "U", &r));
    ASSERT_EQ(r.id, 8);
}

TEST(unreadable_entries_are_skipped)
{
    uv_loop_t loop;
    ASSERT(new_dir());
    struct store *st = open_store(&loop);
    ASSERT_NOT_NULL(st);
    ASSERT_EQ(store_kv_put(st, "aggregate_bridged", "index", "{\"last\":900,\"handles\":[901,902,\"x\"]}"), 0);
    ASSERT_EQ(store_kv_put(st, "aggregate_bridged", "901", "{\"handle\":901}"), 0);
    ASSERT_EQ(store_kv_put(st, "aggregate_bridged", "902", "not json"), 0);
    ASSERT_EQ(store_kv_put(st, "aggregate_bridged", "remotes", "[{\"number\":\"1\"},7,{\"number\":3,"
                                                               "\"id\":1,\"id_tag\":\"A\",\"type\":\"Local\"}]"), 0);
    static struct agg_btxs t;
    ASSERT_EQ(agg_btx_load(&t, st), 0);
    for (size_t i = 0; i < AGG_BTXS; i++)
        ASSERT_EQ(t.v[i].handle, 0);
    ASSERT_EQ(t.last, 900);
    struct agg_remote r;
    ASSERT(agg_btx_remote_take(&t, 3, "A", &r));
    close_store(&loop, st);
    remove_dir();
}

int main(void)
{
    RUN(kept_across_a_restart);
    RUN(bounds);
    RUN(unreadable_entries_are_skipped);
    return test_summary();
}
