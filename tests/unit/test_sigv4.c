/*
 * test_sigv4.c - the signer against AWS's published examples: the SigV4
 * test suite (get-vanilla, query order) and the S3 API reference's worked
 * examples (GET with Range, PUT with a body hash, ListObjects, ?lifecycle).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/sigv4.h"

static const char suite_key[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static const char s3_key[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/* sign and return the Signature= part, checked against want */
static void check(const struct dm_sigv4_request *req,
                  const struct dm_sigv4_scope *scope, const char *akid,
                  const char *secret, const char *want)
{
    char *auth = NULL;
    struct dm_error err = DM_ERROR_INIT;
    assert_int_equal(dm_sigv4_sign(req, scope, akid, secret, &auth, &err),
                     DM_OK);
    const char *sig = strstr(auth, "Signature=");
    assert_non_null(sig);
    assert_string_equal(sig + strlen("Signature="), want);
    assert_null(strstr(auth, secret));
    free(auth);
}

static void get_vanilla(void **state)
{
    (void)state;
    struct dm_http_header h[] = {{"Host", "example.amazonaws.com"},
                                 {"X-Amz-Date", "20150830T123600Z"}};
    struct dm_sigv4_request req = {"GET", "/", "", h, 2, dm_sha256_empty};
    struct dm_sigv4_scope scope = {"us-east-1", "service", "20150830T123600Z"};
    check(&req, &scope, "AKIDEXAMPLE", suite_key,
          "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");

    char *auth = NULL;
    assert_int_equal(
        dm_sigv4_sign(&req, &scope, "AKIDEXAMPLE", suite_key, &auth, NULL),
        DM_OK);
    assert_string_equal(
        auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
              "service/aws4_request, SignedHeaders=host;x-amz-date, "
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aa"
              "e1d763fbf31");
    free(auth);
}

static void query_order(void **state)
{
    (void)state;
    struct dm_query_param q[] = {{"Param2", "value2"}, {"Param1", "value1"}};
    char *query = dm_sigv4_query(q, 2);
    assert_string_equal(query, "Param1=value1&Param2=value2");
    struct dm_http_header h[] = {{"host", "example.amazonaws.com"},
                                 {"x-amz-date", "20150830T123600Z"}};
    struct dm_sigv4_request req = {"GET", "/", query, h, 2, dm_sha256_empty};
    struct dm_sigv4_scope scope = {"us-east-1", "service", "20150830T123600Z"};
    check(&req, &scope, "AKIDEXAMPLE", suite_key,
          "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    free(query);
}

static void s3_get_range(void **state)
{
    (void)state;
    struct dm_http_header h[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"Range", "bytes=0-9"},
        {"x-amz-content-sha256", dm_sha256_empty},
        {"x-amz-date", "20130524T000000Z"},
    };
    struct dm_sigv4_request req = {"GET", "/test.txt", "",
                                   h,     4,           dm_sha256_empty};
    struct dm_sigv4_scope scope = {"us-east-1", "s3", "20130524T000000Z"};
    char *canon = dm_sigv4_canonical_request(&req);
    assert_string_equal(canon,
                        "GET\n/test.txt\n\n"
                        "host:examplebucket.s3.amazonaws.com\n"
                        "range:bytes=0-9\n"
                        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb924"
                        "27ae41e4649b934ca495991b7852b855\n"
                        "x-amz-date:20130524T000000Z\n\n"
                        "host;range;x-amz-content-sha256;x-amz-date\n"
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4959"
                        "91b7852b855");
    free(canon);
    check(&req, &scope, "AKIAIOSFODNN7EXAMPLE", s3_key,
          "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void s3_put_object(void **state)
{
    (void)state;
    char body_hash[65];
    dm_sha256_hex("Welcome to Amazon S3.", 21, body_hash);
    assert_string_equal(
        body_hash,
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    char *path = dm_aws_uri_encode("/test$file.text", true);
    assert_string_equal(path, "/test%24file.text");
    struct dm_http_header h[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
        {"x-amz-date", "20130524T000000Z"},
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
        {"x-amz-content-sha256", body_hash},
    };
    struct dm_sigv4_request req = {"PUT", path, "", h, 5, body_hash};
    struct dm_sigv4_scope scope = {"us-east-1", "s3", "20130524T000000Z"};
    check(&req, &scope, "AKIAIOSFODNN7EXAMPLE", s3_key,
          "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    free(path);
}

static void s3_list_and_subresource(void **state)
{
    (void)state;
    struct dm_http_header h[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-content-sha256", dm_sha256_empty},
        {"x-amz-date", "20130524T000000Z"},
    };
    struct dm_sigv4_scope scope = {"us-east-1", "s3", "20130524T000000Z"};

    struct dm_query_param list[] = {{"prefix", "J"}, {"max-keys", "2"}};
    char *query = dm_sigv4_query(list, 2);
    assert_string_equal(query, "max-keys=2&prefix=J");
    struct dm_sigv4_request req = {"GET", "/", query, h, 3, dm_sha256_empty};
    check(&req, &scope, "AKIAIOSFODNN7EXAMPLE", s3_key,
          "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    free(query);

    /* a parameter without a value is signed as "lifecycle=" */
    struct dm_query_param life[] = {{"lifecycle", NULL}};
    query = dm_sigv4_query(life, 1);
    assert_string_equal(query, "lifecycle=");
    req.query = query;
    check(&req, &scope, "AKIAIOSFODNN7EXAMPLE", s3_key,
          "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    free(query);
}

static void encoding(void **state)
{
    (void)state;
    char *s = dm_aws_uri_encode("a b+c=d%e/é~_.-!*'()", true);
    assert_string_equal(s, "a%20b%2Bc%3Dd%25e/%C3%A9~_.-%21%2A%27%28%29");
    free(s);
    s = dm_aws_uri_encode("a/b", false);
    assert_string_equal(s, "a%2Fb");
    free(s);
    /* continuation tokens hold + / =: encoded, then sorted */
    struct dm_query_param q[] = {{"list-type", "2"},
                                 {"continuation-token", "a+b/c=="},
                                 {"prefix", "x y/"}};
    s = dm_sigv4_query(q, 3);
    assert_string_equal(
        s, "continuation-token=a%2Bb%2Fc%3D%3D&list-type=2&prefix=x%20y%2F");
    free(s);
}

static void header_folding(void **state)
{
    (void)state;
    struct dm_http_header h[] = {
        {"X-Amz-Meta-B", "  two   words  "},
        {"host", "h"},
        {"x-amz-meta-a", "1"},
        {"X-AMZ-META-A", "2"},
    };
    struct dm_sigv4_request req = {"GET", "/", "", h, 4, "UNSIGNED-PAYLOAD"};
    char *canon = dm_sigv4_canonical_request(&req);
    assert_string_equal(canon, "GET\n/\n\nhost:h\nx-amz-meta-a:1,2\n"
                               "x-amz-meta-b:two words\n\n"
                               "host;x-amz-meta-a;x-amz-meta-b\n"
                               "UNSIGNED-PAYLOAD");
    free(canon);
    char d[17];
    dm_amz_date(1440938160, d);
    assert_string_equal(d, "20150830T123600Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_vanilla),
        cmocka_unit_test(query_order),
        cmocka_unit_test(s3_get_range),
        cmocka_unit_test(s3_put_object),
        cmocka_unit_test(s3_list_and_subresource),
        cmocka_unit_test(encoding),
        cmocka_unit_test(header_folding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
