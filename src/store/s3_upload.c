/*
 * s3_upload.c - uploads to the S3 store (s3.c): one PUT below the
 * multipart threshold, else CreateMultipartUpload, parts in parallel,
 * CompleteMultipartUpload (whose 200 may hide an <Error>), and
 * AbortMultipartUpload on any failure. Every body goes with Content-MD5,
 * and every ETag that is an MD5 is checked against ours.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aws/xml.h"
#include "store/s3_int.h"
#include "util/log.h"
#include "util/str.h"

/* ---- checksums ---- */

/* MD5 of a file range: raw bytes into md (16). */
static enum dm_code md5_range(int fd, uint64_t off, uint64_t len,
                              unsigned char md[16], struct dm_error *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *buf = malloc(1 << 20);
    enum dm_code rc = DM_OK;
    if (!ctx || !buf || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    while (len > 0) {
        size_t want = len < (1 << 20) ? (size_t)len : (1 << 20);
        ssize_t r = pread(fd, buf, want, (off_t)off);
        if (r <= 0) {
            rc = dm_fail_errno(err, DM_ERR_IO, r < 0 ? errno : EIO,
                               "cannot read the file to upload");
            goto out;
        }
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        off += (uint64_t)r;
        len -= (uint64_t)r;
    }
    unsigned int mdlen = 16;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
out:
    free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Does an ETag ("\"hex\"") say the server got the bytes whose MD5 is md? */
static bool etag_matches(const char *etag, const unsigned char md[16])
{
    char hex[33];
    dm_hex(md, 16, hex);
    if (!etag)
        return false;
    size_t n = strlen(etag);
    if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
        etag++;
        n -= 2;
    }
    return n == 32 && strncasecmp(etag, hex, 32) == 0;
}

/* ---- put ---- */

/*
 * PUT len bytes of fd from off (query "" for a whole object, the part's
 * for a part) with their Content-MD5, and check that the ETag is that MD5.
 * The MD5 goes to md; the ETag to *etag when etag is not NULL.
 */
static enum dm_code put_range(struct s3_store *s, CURL *curl, const char *path,
                              const char *query, int fd, uint64_t off,
                              uint64_t len, const char *what,
                              struct dm_progress *progress,
                              unsigned char md[16], char **etag,
                              struct dm_error *err)
{
    char md5b64[32];
    enum dm_code rc = md5_range(fd, off, len, md, err);
    if (rc)
        return rc;
    dm_base64(md, 16, md5b64, sizeof(md5b64));
    struct dm_http_header h[1] = {{"content-md5", md5b64}};
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    s3_request_for(s, &rq, "PUT", path, query);
    rq.headers = h;
    rq.nheaders = 1;
    rq.body_fd = fd;
    rq.body_off = off;
    rq.body_size = len;
    rq.send_body = true;
    rq.progress = progress;
    rc = s3_call(s, curl, &rq, &resp, what, false, err);
    if (!rc && !etag_matches(resp.etag, md))
        rc = dm_fail(err, DM_ERR_REMOTE,
                     "%s: the server's ETag %s is not the MD5 of what we sent",
                     what, resp.etag ? resp.etag : "(none)");
    if (!rc && etag) {
        *etag = resp.etag;
        resp.etag = NULL;
    }
    dm_aws_response_release(&resp);
    return rc;
}

static enum dm_code put_part(struct parts *p, CURL *curl, unsigned i,
                             struct dm_error *err)
{
    uint64_t off, len;
    s3_part_span(p, i, &off, &len);
    char num[16];
    snprintf(num, sizeof(num), "%u", i + 1);
    struct dm_query_param q[2] = {{"partNumber", num},
                                  {"uploadId", p->upload_id}};
    char *query = dm_sigv4_query(q, 2);
    char *what = dm_fmt("PUT s3://%s/%s (part %u of %u)", p->s->bucket, p->key,
                        i + 1, p->nparts);
    enum dm_code rc =
        query && what ? put_range(p->s, curl, p->path, query, p->fd, off, len,
                                  what, p->progress, p->md5[i], NULL, err)
                      : dm_fail(err, DM_ERR_NOMEM, "out of memory");
    free(what);
    free(query);
    return rc;
}

static enum dm_code put_single(struct s3_store *s, CURL *curl, int fd,
                               uint64_t size, const char *path, const char *key,
                               char **etag, struct dm_progress *progress,
                               struct dm_error *err)
{
    unsigned char md[16];
    char *what = dm_fmt("PUT s3://%s/%s", s->bucket, key);
    if (!what)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    enum dm_code rc = put_range(s, curl, path, NULL, fd, 0, size, what,
                                progress, md, etag, err);
    free(what);
    return rc;
}

static void abort_upload(struct s3_store *s, CURL *curl, const char *path,
                         const char *key, const char *upload_id)
{
    struct dm_query_param q[1] = {{"uploadId", upload_id}};
    char *query = dm_sigv4_query(q, 1);
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    struct dm_error e = DM_ERROR_INIT;
    if (!query)
        return;
    s3_request_for(s, &rq, "DELETE", path, query);
    /* a cleanup on a failure path: one retry, not the full budget */
    enum dm_code rc = s3_call_tries(s, curl, &rq, &resp, "AbortMultipartUpload",
                                    false, 2, &e);
    if (rc)
        dm_warn("s3",
                "s3://%s/%s: the unfinished upload %s was not aborted (%s); "
                "a lifecycle rule AbortIncompleteMultipartUpload removes it",
                s->bucket, key, upload_id, e.msg);
    dm_aws_response_release(&resp);
    free(query);
}

/* The part size of a multipart upload of size bytes: the store's, or
 * larger where S3's 10000 parts would not hold the object. */
static uint64_t multipart_part_size(const struct s3_store *s, uint64_t size)
{
    uint64_t part = s->part_size;
    if (part < (size + 9999) / 10000)
        part = (size + 9999) / 10000;
    return part;
}

/*
 * One POST of a multipart upload, op, with the query parameter q and an
 * XML body (NULL: an empty one); the text of the answer's element want
 * (malloc'd, NULL when absent) into text. A body is the completion's,
 * whose 200 may hide an <Error>.
 */
static enum dm_code upload_post(struct s3_store *s, CURL *curl,
                                const char *path, struct dm_query_param q,
                                const char *body, size_t body_len,
                                const char *op, const char *want, char **text,
                                struct dm_error *err)
{
    struct dm_aws_request rq;
    struct dm_aws_response resp = {0};
    struct dm_http_header h[1] = {{"content-type", "application/xml"}};
    char *query = dm_sigv4_query(&q, 1);
    enum dm_code rc = DM_OK;
    *text = NULL;
    if (!query) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    s3_request_for(s, &rq, "POST", path, query);
    if (body) {
        rq.headers = h;
        rq.nheaders = 1;
        rq.body = body;
        rq.body_len = body_len;
    } else {
        rq.send_body = true;
    }
    rc = s3_call(s, curl, &rq, &resp, op, body != NULL, err);
    if (rc)
        goto out;
    xmlDoc *doc = dm_xml_parse(resp.body, resp.body_len);
    *text = doc ? s3_child_text(xmlDocGetRootElement(doc), want) : NULL;
    xmlFreeDoc(doc);
out:
    dm_aws_response_release(&resp);
    free(query);
    return rc;
}

/*
 * The CompleteMultipartUpload document, naming every part by its MD5,
 * into xml (malloc'd, the caller frees it even on failure); and into want
 * the ETag AWS gives the whole object: the MD5 of the parts' MD5s, "-N".
 */
static enum dm_code complete_document(unsigned char (*md5)[16], unsigned nparts,
                                      char **xml, size_t *xml_len,
                                      char want[48], struct dm_error *err)
{
    FILE *mem = open_memstream(xml, xml_len);
    if (!mem)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    EVP_MD_CTX *all = EVP_MD_CTX_new();
    unsigned char whole[16];
    unsigned int wl = 16;
    EVP_DigestInit_ex(all, EVP_md5(), NULL);
    fputs("<CompleteMultipartUpload>", mem);
    for (unsigned i = 0; i < nparts; i++) {
        char hex[33];
        dm_hex(md5[i], 16, hex);
        EVP_DigestUpdate(all, md5[i], 16);
        fprintf(mem,
                "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
                i + 1, hex);
    }
    fputs("</CompleteMultipartUpload>", mem);
    EVP_DigestFinal_ex(all, whole, &wl);
    EVP_MD_CTX_free(all);
    if (fclose(mem) != 0)
        return dm_fail(err, DM_ERR_NOMEM, "out of memory");
    char hex[33];
    dm_hex(whole, 16, hex);
    snprintf(want, 48, "\"%s-%u\"", hex, nparts);
    return DM_OK;
}

/*
 * Is the completed object what was sent? AWS (and MinIO) name a
 * multipart object by the MD5 of its parts' MD5s (want); servers that do
 * not are checked by the size alone.
 */
static enum dm_code check_completed(struct s3_store *s, CURL *curl,
                                    const char *key, const char *what,
                                    uint64_t size, const char *final,
                                    const char *want, struct dm_error *err)
{
    if (final && strchr(final, '-')) {
        if (strcasecmp(final, want) != 0)
            return dm_fail(err, DM_ERR_REMOTE,
                           "%s: the completed object's ETag %s is not %s", what,
                           final, want);
        return DM_OK;
    }
    struct dm_object head = {0};
    enum dm_code rc = s3_head(s, curl, key, &head, err);
    if (!rc && head.size != size)
        rc =
            dm_fail(err, DM_ERR_REMOTE,
                    "%s: the completed object holds %llu bytes, not %llu", what,
                    (unsigned long long)head.size, (unsigned long long)size);
    dm_object_release(&head);
    return rc;
}

/*
 * Upload size bytes of fd in parts: create the upload, send the parts in
 * parallel, complete it, then check what the server made of it. A
 * failure before the upload is complete aborts it.
 */
static enum dm_code put_multipart(struct s3_store *s, CURL *curl, int fd,
                                  uint64_t size, const char *path,
                                  const char *key, char **etag,
                                  struct dm_progress *progress,
                                  struct dm_error *err)
{
    char *upload_id = NULL, *xml = NULL, *final = NULL;
    size_t xml_len = 0;
    char want[48];
    char *what = dm_fmt("s3://%s/%s", s->bucket, key);
    uint64_t part = multipart_part_size(s, size);
    unsigned nparts = (unsigned)((size + part - 1) / part);
    unsigned char(*md5)[16] = calloc(nparts, 16);
    enum dm_code rc = DM_OK;
    if (!what || !md5) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    struct dm_query_param create = {"uploads", NULL};
    rc = upload_post(s, curl, path, create, NULL, 0, "CreateMultipartUpload",
                     "UploadId", &upload_id, err);
    if (!rc && !upload_id)
        rc = dm_fail(err, DM_ERR_REMOTE,
                     "%s: CreateMultipartUpload answered without an UploadId",
                     what);
    if (rc)
        goto out;
    dm_debug("s3", "%s: upload %s, %u parts of %llu bytes", what, upload_id,
             nparts, (unsigned long long)part);

    struct parts p = {.s = s,
                      .key = key,
                      .path = path,
                      .upload_id = upload_id,
                      .fd = fd,
                      .size = size,
                      .part_size = part,
                      .nparts = nparts,
                      .md5 = md5,
                      .progress = progress,
                      .one = put_part};
    rc = s3_run_parts(&p, err);
    if (!rc)
        rc = complete_document(md5, nparts, &xml, &xml_len, want, err);
    struct dm_query_param complete = {"uploadId", upload_id};
    if (!rc)
        rc = upload_post(s, curl, path, complete, xml, xml_len,
                         "CompleteMultipartUpload", "ETag", &final, err);
    if (rc) {
        abort_upload(s, curl, path, key, upload_id);
        goto out;
    }
    /* complete: nothing is left to abort, whatever the check says */
    rc = check_completed(s, curl, key, what, size, final, want, err);
    if (rc)
        goto out;
    *etag = final ? final : strdup(want);
    final = NULL;
out:
    free(final);
    free(xml);
    free(upload_id);
    free(md5);
    free(what);
    return rc;
}

enum dm_code s3_put(struct dm_store *st, const char *local, const char *key,
                    struct dm_object *put, struct dm_progress *progress,
                    struct dm_error *err)
{
    struct s3_store *s = (struct s3_store *)st;
    char *path = NULL, *etag = NULL;
    CURL *curl = NULL;
    int fd = -1;
    uint64_t size = 0;
    if (put)
        memset(put, 0, sizeof(*put));
    enum dm_code rc = dm_key_check(key, strlen(key), err);
    if (!rc)
        rc = dm_open_upload(local, &fd, &size, err);
    if (rc)
        return rc;
    if (progress)
        progress->total = size;
    path = s3_object_path(s, key);
    curl = curl_easy_init();
    if (!path || !curl) {
        rc = dm_fail(err, DM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (size < s->threshold)
        rc = put_single(s, curl, fd, size, path, key, &etag, progress, err);
    else
        rc = put_multipart(s, curl, fd, size, path, key, &etag, progress, err);
    if (!rc && put) {
        put->key = strdup(key);
        put->size = size;
        put->etag = etag;
        etag = NULL;
    }
out:
    free(etag);
    if (curl)
        curl_easy_cleanup(curl);
    free(path);
    close(fd);
    return rc;
}
