/* A tiny test runner in the style of libuv's: typed assertions that print both
 * values and file:line, one executable per component, registered with ctest.
 *
 *   TEST(name) { ASSERT_EQ(1, 1); }
 *   int main(void) { RUN(name); return test_summary(); }
 */
#ifndef SITEGATE_TEST_H
#define SITEGATE_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test__failed, test__run, test__cur_failed;

#define TEST(name) static void test_##name(void)

#define RUN(name) do { \
        test__cur_failed = 0; test__run++; \
        test_##name(); \
        if (test__cur_failed) { test__failed++; printf("FAIL %s\n", #name); } \
        else printf("ok   %s\n", #name); \
    } while (0)

#define TEST__FAIL(...) do { \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
        test__cur_failed = 1; return; \
    } while (0)

#define ASSERT(c) do { if (!(c)) TEST__FAIL("assertion failed: %s", #c); } while (0)
#define ASSERT_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ != b_) TEST__FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_); } while (0)
#define ASSERT_NE(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ == b_) TEST__FAIL("%s != %s: both %lld", #a, #b, a_); } while (0)
#define ASSERT_LE(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ > b_) TEST__FAIL("%s <= %s: %lld > %lld", #a, #b, a_, b_); } while (0)
#define ASSERT_DBL_NEAR(a, b, eps) do { double a_ = (a), b_ = (b); \
        if (!(fabs(a_ - b_) <= (eps))) \
            TEST__FAIL("%s ~= %s: %.6f != %.6f", #a, #b, a_, b_); } while (0)
#define ASSERT_STR_EQ(a, b) do { const char *a_ = (a), *b_ = (b); \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) \
            TEST__FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", \
                       b_ ? b_ : "(null)"); } while (0)
#define ASSERT_NULL(p) do { if ((p) != NULL) TEST__FAIL("%s is not NULL", #p); } while (0)
#define ASSERT_NOT_NULL(p) do { if ((p) == NULL) TEST__FAIL("%s is NULL", #p); } while (0)

/* Prints the closing line ctest and CI read, and returns the exit code. */
static inline int test_summary(void)
{
    printf("%d passed, %d failed\n", test__run - test__failed, test__failed);
    return test__failed ? 1 : 0;
}

#endif
