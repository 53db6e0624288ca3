/* Enrolment photos and signatures must decode cleanly: a truncated or
 * corrupt JPEG (libjpeg only warns and pads it with grey) is refused by
 * photo_check_portrait, which applications and personalization rely on,
 * instead of being printed and signed half blank. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "issuance/icao/photo.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static void refused(const unsigned char *p, size_t len, const char *what)
{
    struct photo_info info;
    struct err err = ERR_INIT;

    /* The header alone is fine: only decoding finds the damage. */
    assert_int_equal(photo_inspect(p, len, &info, &err), 0);
    if (photo_check_portrait(p, len, NULL, &err) != -1)
        fail_msg("%s photo accepted", what);
    if (strstr(err_msg(&err), "photo: the image does not decode cleanly") == NULL ||
        strstr(err_msg(&err), "jpeg:") == NULL)
        fail_msg("%s photo: unclear message '%s'", what, err_msg(&err));
}

static void test_truncated_and_corrupt(void **state)
{
    struct err err = ERR_INIT;
    size_t len;
    unsigned char *p = (unsigned char *)test_data_read("issuance", "portrait.jpg", &len), *bad;
    (void)state;

    assert_int_equal(photo_check_portrait(p, len, NULL, &err), 0);
    refused(p, len / 2, "half");
    refused(p, len * 9 / 10, "90%");
    refused(p, len - 2, "EOI-less");
    /* An end-of-image marker in the middle of the entropy-coded data. */
    bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, p, len);
    bad[len / 2] = 0xff;
    bad[len / 2 + 1] = 0xd9;
    refused(bad, len, "corrupt");
    free(bad);
    free(p);

    p = (unsigned char *)test_data_read("issuance", "portrait-progressive.jpg", &len);
    assert_int_equal(photo_check_portrait(p, len, NULL, &err), 0);
    refused(p, len * 3 / 4, "progressive truncated");
    free(p);
}

CMOCKA_MAIN(NULL, NULL, test_truncated_and_corrupt)
