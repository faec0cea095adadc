/*
 * test_profile.c - the INI reader of the AWS shared files (aws/profile.h):
 * sections, comments, whitespace, continuation lines, missing keys, the
 * lines it refuses; and a profile's keys found in the credentials file or
 * the config file's "[profile name]" section.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/profile.h"

static struct dm_ini *parse(const char *text)
{
    struct dm_ini *ini = NULL;
    struct dm_error err = DM_ERROR_INIT;
    assert_int_equal(dm_ini_parse(text, strlen(text), "t.ini", &ini, &err),
                     DM_OK);
    assert_non_null(ini);
    return ini;
}

/* parse must fail with a message that contains want */
static void refused(const char *text, const char *want)
{
    struct dm_ini *ini = (struct dm_ini *)1;
    struct dm_error err = DM_ERROR_INIT;
    assert_int_equal(dm_ini_parse(text, strlen(text), "t.ini", &ini, &err),
                     DM_ERR_AUTH);
    assert_null(ini);
    if (!strstr(err.msg, want))
        fail_msg("message '%s' lacks '%s'", err.msg, want);
}

static void sections_and_keys(void **state)
{
    (void)state;
    struct dm_ini *ini = parse("[default]\n"
                               "aws_access_key_id = AKID1\n"
                               "aws_secret_access_key=SECRET/1+x=\n"
                               "\n"
                               "[profile   two words ]\n"
                               "region = eu-west-3\n"
                               "[other]\n"
                               "aws_access_key_id = AKID2\n");
    assert_true(dm_ini_has_section(ini, "default"));
    assert_true(dm_ini_has_section(ini, "profile two words"));
    assert_true(dm_ini_has_section(ini, "other"));
    assert_false(dm_ini_has_section(ini, "Other"));
    assert_false(dm_ini_has_section(ini, "profile other"));
    assert_string_equal(dm_ini_get(ini, "default", "aws_access_key_id"),
                        "AKID1");
    /* '=' inside a value stays: base64 secrets end with it */
    assert_string_equal(dm_ini_get(ini, "default", "aws_secret_access_key"),
                        "SECRET/1+x=");
    assert_string_equal(dm_ini_get(ini, "profile two words", "region"),
                        "eu-west-3");
    assert_string_equal(dm_ini_get(ini, "other", "aws_access_key_id"), "AKID2");
    /* keys belong to their own section only */
    assert_null(dm_ini_get(ini, "other", "aws_secret_access_key"));
    assert_null(dm_ini_get(ini, "default", "region"));
    assert_null(dm_ini_get(ini, "nosuch", "aws_access_key_id"));
    dm_ini_free(ini);
}

static void comments_and_whitespace(void **state)
{
    (void)state;
    struct dm_ini *ini = parse("\xEF\xBB\xBF# a comment\r\n"
                               "; another\r\n"
                               "  [ default ]  # after a header\r\n"
                               "\t Key_One \t=\t value one  ; trailing\r\n"
                               "hash=a#b\r\n"
                               "empty =\r\n"
                               "spaced = # all comment\r\n"
                               "last = x");
    assert_true(dm_ini_has_section(ini, "default"));
    /* keys compare without case; values keep inner blanks */
    assert_string_equal(dm_ini_get(ini, "default", "key_one"), "value one");
    assert_string_equal(dm_ini_get(ini, "default", "KEY_ONE"), "value one");
    /* a '#' not after a blank is part of the value */
    assert_string_equal(dm_ini_get(ini, "default", "hash"), "a#b");
    /* an empty value is no value */
    assert_null(dm_ini_get(ini, "default", "empty"));
    assert_null(dm_ini_get(ini, "default", "spaced"));
    /* the last line needs no newline */
    assert_string_equal(dm_ini_get(ini, "default", "last"), "x");
    dm_ini_free(ini);
}

static void continuation_and_repeats(void **state)
{
    (void)state;
    struct dm_ini *ini = parse("[profile p]\n"
                               "s3 =\n"
                               "    aws_access_key_id = NESTED\n"
                               "    addressing_style = path\n"
                               "region = r1\n"
                               "region = r2\n"
                               "[profile p]\n"
                               "aws_access_key_id = TOP\n");
    /* nested settings are not the profile's */
    assert_string_equal(dm_ini_get(ini, "profile p", "aws_access_key_id"),
                        "TOP");
    assert_null(dm_ini_get(ini, "profile p", "addressing_style"));
    /* the last value wins, across repeated sections too */
    assert_string_equal(dm_ini_get(ini, "profile p", "region"), "r2");
    dm_ini_free(ini);

    /* an indented first setting of a section is a setting */
    ini = parse("[a]\n  k = v\n");
    assert_string_equal(dm_ini_get(ini, "a", "k"), "v");
    dm_ini_free(ini);

    /* an empty file, or only comments */
    ini = parse("");
    assert_false(dm_ini_has_section(ini, "default"));
    assert_null(dm_ini_get(ini, "default", "k"));
    dm_ini_free(ini);
    ini = parse("# nothing\n\n");
    assert_false(dm_ini_has_section(ini, "default"));
    dm_ini_free(ini);
}

static void bad_lines(void **state)
{
    (void)state;
    refused("k = v\n", "t.ini:1: a setting before any [section]");
    refused("[a]\nk = v\n[b\n", "t.ini:3: a section header is '[name]'");
    refused("[a] junk\n", "t.ini:1: a section header is '[name]'");
    refused("[a]\n\n# c\njust words\n", "t.ini:4: not 'key = value'");
    refused("[a]\n= v\n", "t.ini:2: not 'key = value'");
    /* only len bytes are read: the text need not end with a NUL */
    const char longer[] = "[a]\nk = v\n[b";
    struct dm_ini *part = NULL;
    assert_int_equal(
        dm_ini_parse(longer, sizeof(longer) - 3, "t.ini", &part, NULL), DM_OK);
    assert_string_equal(dm_ini_get(part, "a", "k"), "v");
    dm_ini_free(part);
    const char nul[] = "[a]\nk = v\0x\n";
    struct dm_ini *ini = NULL;
    assert_int_equal(dm_ini_parse(nul, sizeof(nul) - 1, "t.ini", &ini, NULL),
                     DM_ERR_AUTH);
    assert_null(ini);
}

/* ---- profiles in files ---- */

static char dir[] = "/tmp/test_profile.XXXXXX";

static char *write_file(const char *name, const char *text)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void profile_lookup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    char *cred = write_file("credentials", "[default]\n"
                                           "aws_access_key_id = D\n"
                                           "aws_secret_access_key = DS\n"
                                           "[both]\n"
                                           "aws_access_key_id = FROMCRED\n"
                                           "aws_secret_access_key = CS\n"
                                           "[regiononly]\n"
                                           "region = x\n");
    char *conf = write_file("config", "[profile both]\n"
                                      "aws_access_key_id = FROMCONF\n"
                                      "aws_secret_access_key = FS\n"
                                      "region = eu-north-1\n"
                                      "[profile c]\n"
                                      "aws_access_key_id = C\n"
                                      "aws_secret_access_key = CSEC\n"
                                      "aws_session_token = TOK\n"
                                      "[c2]\n"
                                      "aws_access_key_id = NOTAPROFILE\n"
                                      "aws_secret_access_key = NO\n");
    char *missing = NULL;
    assert_true(asprintf(&missing, "%s/none", dir) > 0);
    struct dm_aws_creds c;
    char *where = NULL;
    struct dm_error err = DM_ERROR_INIT;

    /* the credentials file comes first */
    assert_int_equal(
        dm_aws_profile_creds("both", true, cred, conf, &c, &where, &err),
        DM_OK);
    assert_string_equal(c.access_key_id, "FROMCRED");
    assert_null(c.session_token);
    assert_int_equal(c.expiration, 0);
    assert_non_null(strstr(where, "/credentials"));
    dm_aws_creds_release(&c);
    free(where);

    /* a "[profile c]" section of the config file, with a session token */
    assert_int_equal(
        dm_aws_profile_creds("c", true, cred, conf, &c, &where, &err), DM_OK);
    assert_string_equal(c.access_key_id, "C");
    assert_string_equal(c.secret_access_key, "CSEC");
    assert_string_equal(c.session_token, "TOK");
    assert_non_null(strstr(where, "/config"));
    dm_aws_creds_release(&c);
    free(where);

    /* "[c2]" in the config file is no profile */
    assert_int_equal(
        dm_aws_profile_creds("c2", true, cred, conf, &c, &where, &err),
        DM_ERR_AUTH);
    assert_non_null(strstr(err.msg, "profile 'c2' (AWS_PROFILE) not found"));
    assert_null(c.access_key_id);
    assert_null(where);

    /* the default profile, not asked for and absent: the chain goes on */
    assert_int_equal(dm_aws_profile_creds("default", false, missing, missing,
                                          &c, &where, NULL),
                     DM_OK);
    assert_null(c.access_key_id);
    assert_null(where);

    /* a profile without keys: skipped unless asked for */
    assert_int_equal(
        dm_aws_profile_creds("regiononly", false, cred, conf, &c, &where, NULL),
        DM_OK);
    assert_null(c.access_key_id);
    dm_error_clear(&err);
    assert_int_equal(
        dm_aws_profile_creds("regiononly", true, cred, conf, &c, &where, &err),
        DM_ERR_AUTH);
    assert_non_null(strstr(err.msg, "has no aws_access_key_id"));

    /* regions: the config file's, else the credentials file's */
    char *r = dm_aws_profile_region("both", cred, conf);
    assert_string_equal(r, "eu-north-1");
    free(r);
    r = dm_aws_profile_region("regiononly", cred, conf);
    assert_string_equal(r, "x");
    free(r);
    assert_null(dm_aws_profile_region("c", cred, conf));

    unlink(cred);
    unlink(conf);
    rmdir(dir);
    free(missing);
    free(conf);
    free(cred);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sections_and_keys),
        cmocka_unit_test(comments_and_whitespace),
        cmocka_unit_test(continuation_and_repeats),
        cmocka_unit_test(bad_lines),
        cmocka_unit_test(profile_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
