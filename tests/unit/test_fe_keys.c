/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrrd's keys (src/frontend/fe_keys.c): a key's text form (43 base64url characters of 256
 * random bits, one spelling per key), its SHA-256 against a known vector, the constant-time
 * comparison and the all-digests match, GUIDs (form, version, variant, uniqueness), the
 * "<accountId>:<accountKey>" credential split, and base64url against RFC 4648's vectors and
 * its refusals (bad characters, impossible lengths, non-zero spare bits, short buffers).
 */
#include "rr_test.h"

#include "fe_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool all_b64url(const char *s)
{
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

static void test_key_format(void **state)
{
    (void)state;
    char a[FE_KEY_TEXT_SIZE], b[FE_KEY_TEXT_SIZE];
    uint8_t ha[32], hb[32], check[32];
    assert_true(fe_key_generate(a, ha));
    assert_true(fe_key_generate(b, hb));
    assert_int_equal(strlen(a), FE_KEY_CHARS);
    assert_true(all_b64url(a));
    assert_true(fe_key_well_formed(a));
    assert_true(fe_key_well_formed(b));
    assert_string_not_equal(a, b);
    /* The stored digest is the hash of the text as shown. */
    assert_true(fe_key_hash(a, strlen(a), check));
    assert_memory_equal(check, ha, 32);
    assert_false(fe_key_hash_equal(ha, hb));
    /* 256 bits decode from the text. */
    uint8_t raw[40];
    assert_int_equal(fe_b64url_decode(a, FE_KEY_CHARS, raw, sizeof raw), FE_KEY_BYTES);
    /* No hash wanted: still a key. */
    assert_true(fe_key_generate(a, NULL));
    assert_true(fe_key_well_formed(a));

    /* Keys of many draws: the last character carries 4 bits, so its spare bits are zero. */
    for (int i = 0; i < 200; i++) {
        assert_true(fe_key_generate(a, NULL));
        assert_true(fe_key_well_formed(a));
    }
}

static void test_key_refusals(void **state)
{
    (void)state;
    char k[FE_KEY_TEXT_SIZE + 8];
    assert_true(fe_key_generate(k, NULL));
    char bad[64];

    assert_false(fe_key_well_formed(NULL));
    assert_false(fe_key_well_formed(""));
    snprintf(bad, sizeof bad, "%.*s", FE_KEY_CHARS - 1, k); /* 42 characters */
    assert_false(fe_key_well_formed(bad));
    snprintf(bad, sizeof bad, "%sA", k); /* 44 */
    assert_false(fe_key_well_formed(bad));
    snprintf(bad, sizeof bad, "%s", k);
    bad[5] = '+'; /* the standard alphabet is not the URL one */
    assert_false(fe_key_well_formed(bad));
    bad[5] = '/';
    assert_false(fe_key_well_formed(bad));
    bad[5] = '=';
    assert_false(fe_key_well_formed(bad));
    /* Non-zero spare bits in the last character: the same bytes, another spelling. */
    snprintf(bad, sizeof bad, "%s", k);
    bad[FE_KEY_CHARS - 1] = 'B'; /* value 1: a spare bit set */
    assert_false(fe_key_well_formed(bad));
    bad[FE_KEY_CHARS - 1] = 'E'; /* value 4: spare bits clear */
    assert_true(fe_key_well_formed(bad));
}

static void test_hash_vector(void **state)
{
    (void)state;
    /* FIPS 180-2: SHA-256("abc"). */
    static const uint8_t want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                     0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                     0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                     0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    uint8_t h[32];
    assert_true(fe_key_hash("abc", 3, h));
    assert_memory_equal(h, want, 32);
    char hex[65];
    fe_hex(h, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* Only @p len bytes count. */
    assert_true(fe_key_hash("abcdef", 3, h));
    assert_memory_equal(h, want, 32);
}

static void test_compare(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    for (int i = 0; i < 32; i++) {
        a[i] = b[i] = (uint8_t)(i * 7);
    }
    assert_true(fe_key_hash_equal(a, b));
    b[0] ^= 1;
    assert_false(fe_key_hash_equal(a, b));
    b[0] ^= 1;
    b[31] ^= 0x80;
    assert_false(fe_key_hash_equal(a, b));
}

struct rec {
    char name[16];
    uint8_t sha256[32];
    int other;
};

static void test_match(void **state)
{
    (void)state;
    struct rec recs[3];
    char texts[3][FE_KEY_TEXT_SIZE];
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < 3; i++) {
        assert_true(fe_key_generate(texts[i], recs[i].sha256));
        recs[i].other = i;
    }
    size_t idx = 99;
    assert_true(fe_key_match(texts[2], strlen(texts[2]), recs[0].sha256, 3, sizeof recs[0], &idx));
    assert_int_equal(idx, 2);
    assert_true(fe_key_match(texts[0], strlen(texts[0]), recs[0].sha256, 3, sizeof recs[0], &idx));
    assert_int_equal(idx, 0);
    idx = 99;
    /* A key of the right form but not one of them; a prefix; garbage; no keys at all. */
    char other[FE_KEY_TEXT_SIZE];
    assert_true(fe_key_generate(other, NULL));
    assert_false(fe_key_match(other, strlen(other), recs[0].sha256, 3, sizeof recs[0], &idx));
    assert_false(
        fe_key_match(texts[1], strlen(texts[1]) - 1, recs[0].sha256, 3, sizeof recs[0], &idx));
    assert_false(fe_key_match("x", 1, recs[0].sha256, 3, sizeof recs[0], &idx));
    assert_false(fe_key_match(texts[1], strlen(texts[1]), recs[0].sha256, 0, sizeof recs[0], &idx));
    assert_int_equal(idx, 99); /* untouched when nothing matched */
    assert_true(fe_key_match(texts[1], strlen(texts[1]), recs[0].sha256, 3, sizeof recs[0], NULL));
}

static void test_guid(void **state)
{
    (void)state;
    char a[FE_GUID_TEXT_SIZE], b[FE_GUID_TEXT_SIZE];
    assert_true(fe_guid_generate(a));
    assert_true(fe_guid_generate(b));
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), 36);
    assert_true(fe_guid_well_formed(a));
    assert_int_equal(a[8], '-');
    assert_int_equal(a[13], '-');
    assert_int_equal(a[14], '4');               /* version 4 */
    assert_true(strchr("89ab", a[19]) != NULL); /* RFC 4122 variant */
    assert_true(fe_guid_well_formed("00000000-0000-0000-0000-000000000000"));
    assert_false(fe_guid_well_formed("00000000-0000-0000-0000-00000000000"));
    assert_false(fe_guid_well_formed("00000000-0000-0000-0000-0000000000000"));
    assert_false(fe_guid_well_formed("0000000000000-0000-0000-000000000000"));
    assert_false(fe_guid_well_formed("ABCDEF00-0000-0000-0000-000000000000")); /* lower case */
    assert_false(fe_guid_well_formed("g0000000-0000-0000-0000-000000000000"));
    assert_false(fe_guid_well_formed(NULL));
}

static void test_credential(void **state)
{
    (void)state;
    char acc[37];
    const char *key = NULL;
    size_t klen = 0;
    assert_true(fe_credential_split("abc:KEY", acc, sizeof acc, &key, &klen));
    assert_string_equal(acc, "abc");
    assert_string_equal(key, "KEY");
    assert_int_equal(klen, 3);
    /* The first ':' splits; the key may hold more (and is then simply wrong). */
    assert_true(fe_credential_split("a:b:c", acc, sizeof acc, &key, &klen));
    assert_string_equal(acc, "a");
    assert_string_equal(key, "b:c");
    assert_false(fe_credential_split(":KEY", acc, sizeof acc, &key, &klen));
    assert_false(fe_credential_split("abc:", acc, sizeof acc, &key, &klen));
    assert_false(fe_credential_split("abc", acc, sizeof acc, &key, &klen));
    assert_false(fe_credential_split("", acc, sizeof acc, &key, &klen));
    assert_false(fe_credential_split(NULL, acc, sizeof acc, &key, &klen));
    /* An account part that does not fit is refused, not cut. */
    assert_false(fe_credential_split("0123456789012345678901234567890123456789:k", acc, sizeof acc,
                                     &key, &klen));
}

static void test_b64url(void **state)
{
    (void)state;
    static const struct {
        const char *raw, *enc;
    } v[] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
             {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
    char out[64];
    uint8_t raw[64];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i].raw);
        assert_int_equal(fe_b64url_encode((const uint8_t *)v[i].raw, n, out), strlen(v[i].enc));
        assert_string_equal(out, v[i].enc);
        assert_int_equal(fe_b64url_len(n), strlen(v[i].enc));
        assert_int_equal(fe_b64url_decode(v[i].enc, strlen(v[i].enc), raw, sizeof raw), (long)n);
        assert_memory_equal(raw, v[i].raw, n);
    }
    /* The URL alphabet: 0xfb 0xff → "-_8". */
    const uint8_t hi[2] = {0xfb, 0xff};
    fe_b64url_encode(hi, 2, out);
    assert_string_equal(out, "-_8");
    assert_int_equal(fe_b64url_decode("-_8", 3, raw, sizeof raw), 2);
    assert_memory_equal(raw, hi, 2);
    /* Round trips of every length up to 40 bytes. */
    for (size_t n = 0; n <= 40; n++) {
        uint8_t in[40];
        for (size_t i = 0; i < n; i++) {
            in[i] = (uint8_t)(n * 31 + i * 17);
        }
        size_t len = fe_b64url_encode(in, n, out);
        assert_int_equal(fe_b64url_decode(out, len, raw, sizeof raw), (long)n);
        assert_memory_equal(raw, in, n);
    }
    assert_int_equal(fe_b64url_decode("Zm9v+", 5, raw, sizeof raw), -1); /* bad length */
    assert_int_equal(fe_b64url_decode("Zm+v", 4, raw, sizeof raw), -1);  /* '+' */
    assert_int_equal(fe_b64url_decode("Zm9v=", 5, raw, sizeof raw), -1); /* padding */
    assert_int_equal(fe_b64url_decode("Zh", 2, raw, sizeof raw), -1);    /* spare bits */
    assert_int_equal(fe_b64url_decode("Zm9vYmFy", 8, raw, 5), -1);       /* no room */
    assert_int_equal(fe_b64url_decode("Zm9vYmFy", 8, raw, 6), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_format),  cmocka_unit_test(test_key_refusals),
        cmocka_unit_test(test_hash_vector), cmocka_unit_test(test_compare),
        cmocka_unit_test(test_match),       cmocka_unit_test(test_guid),
        cmocka_unit_test(test_credential),  cmocka_unit_test(test_b64url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
