/*
 * test_yaml.c: the YAML loader (node.h): positions, quoting, nulls,
 * aliases and their bounds, duplicate keys, libyaml errors, JSON
 * conversion, and allocation failure on every path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/mem.h"
#include "sluice/node.h"

static char errbuf[2048];

/* Loads text; returns the doc or NULL with errbuf = the formatted error. */
static sl_doc *load(const char *text, sl_rc *rc_out)
{
    sl_doc *d = NULL;
    sl_err e;
    sl_err_clear(&e);
    sl_rc rc = sl_yaml_load_string(text, strlen(text), "t.yaml", &d, &e);
    errbuf[0] = '\0';
    if (rc != SL_OK) {
        sl_err_format(&e, errbuf, sizeof errbuf);
        assert_null(d);
        assert_int_equal(e.code, rc);
    }
    if (rc_out)
        *rc_out = rc;
    return d;
}

static void expect_error(const char *text, sl_rc code, const char *msg)
{
    sl_rc rc;
    sl_doc *d = load(text, &rc);
    assert_null(d);
    assert_int_equal(rc, code);
    assert_string_equal(errbuf, msg);
}

static void assert_pos(const sl_node *n, int64_t line, int64_t col)
{
    assert_non_null(n);
    assert_int_equal(n->line, line);
    assert_int_equal(n->col, col);
}

static void test_positions(void **state)
{
    (void)state;
    sl_doc *d = load("name: demo\n"
                     "source:\n"
                     "  type: csv\n"
                     "  cols: [a, bb, c]\n"
                     "list:\n"
                     "  - x\n"
                     "  - {k: v}\n",
                     NULL);
    assert_non_null(d);
    const sl_node *r = d->root;
    assert_int_equal(r->kind, SL_NODE_MAP);
    assert_pos(r, 1, 1);
    assert_int_equal(r->n, 3);
    assert_string_equal(r->file, "t.yaml");
    assert_string_equal(d->file, "t.yaml");
    assert_pos(r->keys[0], 1, 1);
    assert_pos(r->items[0], 1, 7);
    assert_string_equal(r->items[0]->value, "demo");
    const sl_node *src = sl_node_get(r, "source");
    assert_pos(src, 3, 3);
    assert_pos(sl_node_get(src, "type"), 3, 9);
    const sl_node *cols = sl_node_get(src, "cols");
    assert_int_equal(cols->kind, SL_NODE_SEQ);
    assert_pos(cols, 4, 9);
    assert_int_equal(cols->n, 3);
    assert_pos(cols->items[1], 4, 13);
    assert_string_equal(cols->items[1]->value, "bb");
    assert_pos(cols->items[2], 4, 17);
    const sl_node *list = sl_node_get(r, "list");
    assert_pos(list, 6, 3);
    assert_pos(list->items[0], 6, 5);
    assert_pos(list->items[1], 7, 5);
    assert_pos(sl_node_get(list->items[1], "k"), 7, 9);
    assert_pos(list->items[1]->keys[0], 7, 6);
    sl_doc_free(d);
}

static void test_quoting_and_nulls(void **state)
{
    (void)state;
    sl_doc *d = load("a: \"yes\"\n"
                     "b: 'it''s'\n"
                     "c: yes\n"
                     "d:\n"
                     "e: ~\n"
                     "f: null\n"
                     "g: \"null\"\n"
                     "h: |\n"
                     "  line1\n"
                     "  line2\n"
                     "i: !!str null\n"
                     "j: \"a\\tb\"\n"
                     "~: k\n",
                     NULL);
    assert_non_null(d);
    const sl_node *r = d->root, *n;

    n = sl_node_get(r, "a");
    assert_int_equal(n->kind, SL_NODE_SCALAR);
    assert_int_equal(n->quoted, 1);
    assert_string_equal(n->value, "yes");
    assert_pos(n, 1, 4); /* the quote */
    n = sl_node_get(r, "b");
    assert_int_equal(n->quoted, 1);
    assert_string_equal(n->value, "it's");
    n = sl_node_get(r, "c");
    assert_int_equal(n->kind, SL_NODE_SCALAR);
    assert_int_equal(n->quoted, 0);
    n = sl_node_get(r, "d");
    assert_int_equal(n->kind, SL_NODE_NULL);
    assert_string_equal(n->value, "");
    n = sl_node_get(r, "e");
    assert_int_equal(n->kind, SL_NODE_NULL);
    assert_string_equal(n->value, "~");
    n = sl_node_get(r, "f");
    assert_int_equal(n->kind, SL_NODE_NULL);
    assert_string_equal(n->value, "null");
    n = sl_node_get(r, "g");
    assert_int_equal(n->kind, SL_NODE_SCALAR);
    assert_string_equal(n->value, "null");
    n = sl_node_get(r, "h");
    assert_int_equal(n->kind, SL_NODE_SCALAR);
    assert_int_equal(n->quoted, 2);
    assert_string_equal(n->value, "line1\nline2\n");
    n = sl_node_get(r, "i");
    assert_int_equal(n->kind, SL_NODE_SCALAR);
    assert_int_equal(n->quoted, 2);
    assert_string_equal(sl_node_get(r, "j")->value, "a\tb");
    /* Keys are always scalars with their text. */
    assert_int_equal(r->keys[10]->kind, SL_NODE_SCALAR);
    assert_string_equal(r->keys[10]->value, "~");
    assert_int_equal(sl_node_find(r, "~"), 10);
    sl_doc_free(d);
}

static void test_lookup_helpers(void **state)
{
    (void)state;
    sl_doc *d = load("a: 1\nb: [x]\n", NULL);
    const sl_node *r = d->root;
    assert_int_equal(sl_node_find(r, "b"), 1);
    assert_int_equal(sl_node_find(r, "zz"), -1);
    assert_null(sl_node_get(r, "zz"));
    assert_null(sl_node_get(NULL, "a"));
    assert_null(sl_node_get(sl_node_get(r, "b"), "x")); /* not a map */
    assert_int_equal(sl_node_find(r, NULL), -1);
    assert_string_equal(sl_node_kind_name(SL_NODE_NULL), "null");
    assert_string_equal(sl_node_kind_name(SL_NODE_SCALAR), "scalar");
    assert_string_equal(sl_node_kind_name(SL_NODE_SEQ), "list");
    assert_string_equal(sl_node_kind_name(SL_NODE_MAP), "mapping");
    sl_doc_free(d);
}

static void test_empty_documents(void **state)
{
    (void)state;
    const char *empties[] = {"", "# only a comment\n", "\n\n", NULL};
    for (int i = 0; empties[i]; i++) {
        sl_doc *d = load(empties[i], NULL);
        assert_non_null(d);
        assert_null(d->root);
        sl_doc_free(d);
    }
    sl_doc *d = load("---\n", NULL);
    assert_non_null(d);
    assert_int_equal(d->root->kind, SL_NODE_NULL);
    sl_doc_free(d);
    /* One explicit document is fine. */
    d = load("---\na: 1\n...\n", NULL);
    assert_non_null(d);
    assert_int_equal(d->root->n, 1);
    sl_doc_free(d);
}

static void test_aliases(void **state)
{
    (void)state;
    sl_doc *d = load("base: &b {path: x.csv, sep: ';'}\n"
                     "copy: *b\n"
                     "name: &n train\n"
                     "list: [*n, *n]\n"
                     "*n : as-key\n",
                     NULL);
    assert_non_null(d);
    const sl_node *r = d->root;
    const sl_node *base = sl_node_get(r, "base");
    /* Shared, so it keeps the anchor's position. */
    assert_ptr_equal(sl_node_get(r, "copy"), base);
    assert_pos(base, 1, 7);
    const sl_node *list = sl_node_get(r, "list");
    assert_int_equal(list->n, 2);
    assert_string_equal(list->items[1]->value, "train");
    /* An aliased key is a copy at the alias's position. */
    assert_string_equal(r->keys[4]->value, "train");
    assert_pos(r->keys[4], 5, 1);
    sl_doc_free(d);

    expect_error("a: *nope\n", SL_EPARSE, "t.yaml:1:4: undefined alias '*nope'");
    /* An anchor is defined once its node is complete: no cycles. */
    expect_error("a: &a [1, *a]\n", SL_EPARSE,
                 "t.yaml:1:11: undefined alias '*a'");
    expect_error("k: &a [1]\n*a : 2\n", SL_EPARSE,
                 "t.yaml:2:1: mapping keys must be plain text, alias '*a' is "
                 "a collection");
    expect_error("? [a]\n: 1\n", SL_EPARSE,
                 "t.yaml:1:3: mapping keys must be plain text, not a list");
    expect_error("? {a: 1}\n: 1\n", SL_EPARSE,
                 "t.yaml:1:3: mapping keys must be plain text, not a mapping");
    expect_error("base: &b {a: 1}\nx:\n  <<: *b\n", SL_EUNSUPPORTED,
                 "t.yaml:3:3: merge keys ('<<') are not supported; repeat the "
                 "keys instead");
}

/* Ten levels of ten aliases each: 10^10 nodes if expanded. */
static void test_alias_bomb(void **state)
{
    (void)state;
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
        n += (size_t)snprintf(text + n, sizeof text - n, "a%d: &a%d [", i, i);
        for (int j = 0; j < 10; j++)
            n += (size_t)snprintf(text + n, sizeof text - n, "%s*a%d",
                                  j ? ", " : "", i - 1);
        n += (size_t)snprintf(text + n, sizeof text - n, "]\n");
    }
    sl_rc rc;
    sl_doc *d = load(text, &rc);
    assert_null(d);
    assert_int_equal(rc, SL_ELIMIT);
    assert_non_null(strstr(errbuf, "document too large: more than 1000000 "
                                   "nodes once aliases are expanded"));
    assert_non_null(strstr(errbuf, "t.yaml:6:"));

    /* A moderate use of aliases stays well within the bound. */
    d = load("a: &a [1, 2, 3]\nb: [*a, *a, *a]\n", NULL);
    assert_non_null(d);
    sl_doc_free(d);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    char text[1200];
    memset(text, '[', 300);
    memset(text + 300, ']', 300);
    text[600] = '\0';
    expect_error(text, SL_ELIMIT, "t.yaml:1:257: nesting deeper than 256 levels");
    memset(text, '[', 256);
    memset(text + 256, ']', 256);
    text[512] = '\0';
    sl_doc *d = load(text, NULL);
    assert_non_null(d);
    sl_doc_free(d);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    expect_error("a: 1\nb: 2\na: 3\n", SL_EPARSE,
                 "t.yaml:3:1: duplicate key 'a' (first at line 1)");
    expect_error("s:\n  x: 1\n  y: 2\n  x: 3\n", SL_EPARSE,
                 "t.yaml:4:3: duplicate key 'x' (first at line 2)");
    expect_error("{p: 1, q: 2, p: 3}", SL_EPARSE,
                 "t.yaml:1:14: duplicate key 'p' (first at line 1)");
    /* The earliest repetition in the document is the one reported. */
    expect_error("b: 1\na: 1\nb: 2\na: 2\nb: 3\n", SL_EPARSE,
                 "t.yaml:3:1: duplicate key 'b' (first at line 1)");
    /* Quoting does not make a different key. */
    expect_error("a: 1\n'a': 2\n", SL_EPARSE,
                 "t.yaml:2:1: duplicate key 'a' (first at line 1)");
    /* The same key in different mappings is fine. */
    sl_doc *d = load("x: {a: 1}\ny: {a: 2}\n", NULL);
    assert_non_null(d);
    sl_doc_free(d);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_error("a: [1, 2\n", SL_EPARSE,
                 "t.yaml:2:1: did not find expected ',' or ']' (while "
                 "parsing a flow sequence at line 1)");
    expect_error("a: b: c\n", SL_EPARSE,
                 "t.yaml:1:5: mapping values are not allowed in this context");
    expect_error("a:\n  - 1\n - 2\n", SL_EPARSE,
                 "t.yaml:3:2: did not find expected key (while parsing a "
                 "block mapping at line 1)");
    expect_error("a: 'x\n", SL_EPARSE,
                 "t.yaml:2:1: found unexpected end of stream (while scanning "
                 "a quoted scalar at line 1)");
    expect_error("a: 1\n\tb: 2\n", SL_EPARSE,
                 "t.yaml:2:1: tab character where YAML expects spaces "
                 "(indent with spaces only)");
    expect_error("a: 1\n---\nb: 2\n", SL_EPARSE,
                 "t.yaml:2:1: more than one YAML document ('---'); a spec is "
                 "one document");
    expect_error("a: ok\nb: \x80\n", SL_EPARSE,
                 "t.yaml:2:4: invalid leading UTF-8 octet (byte 0x80)");
    expect_error("a: \"x\\0y\"\n", SL_EPARSE,
                 "t.yaml:1:4: string contains a NUL character");
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_yaml_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "k: v\nn: [1, 2]\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    sl_doc *d = NULL;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_yaml_load_file(path, &d, &e), SL_OK);
    assert_string_equal(d->file, path);
    assert_string_equal(d->root->keys[0]->file, path);
    assert_string_equal(sl_node_get(d->root, "k")->value, "v");
    sl_doc_free(d);
    unlink(path);

    sl_err_clear(&e);
    assert_int_equal(sl_yaml_load_file(path, &d, &e), SL_EIO);
    assert_null(d);
    sl_err_format(&e, errbuf, sizeof errbuf);
    assert_non_null(strstr(errbuf, "cannot open: No such file or directory"));
    assert_non_null(strstr(errbuf, path));
}

static void test_to_json(void **state)
{
    (void)state;
    sl_doc *d = load("a: 1\nb: [x, ~, \"q\"]\nc: {d: true}\n", NULL);
    json_t *j = sl_node_to_json(d->root);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"a\":\"1\",\"b\":[\"x\",null,\"q\"],\"c\":{\"d\":\"true\"}}");
    free(s);
    json_decref(j);
    j = sl_node_to_json(NULL);
    assert_true(json_is_null(j));
    json_decref(j);
    sl_doc_free(d);
}

static void test_from_json(void **state)
{
    (void)state;
    json_error_t je;
    json_t *j = json_loads("{\"z\": 1, \"a\": [2.5, 0.1, true, false, null, "
                           "\"s\"], \"m\": {\"k\": \"v\"}, \"e\": []}",
                           0, &je);
    assert_non_null(j);
    sl_doc *d = NULL;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_node_from_json(j, "t.json", &d, &e), SL_OK);
    const sl_node *r = d->root;
    assert_int_equal(r->kind, SL_NODE_MAP);
    /* Key order is kept. */
    assert_string_equal(r->keys[0]->value, "z");
    assert_string_equal(r->keys[1]->value, "a");
    const sl_node *z = r->items[0];
    assert_int_equal(z->kind, SL_NODE_SCALAR);
    assert_int_equal(z->quoted, 0);
    assert_string_equal(z->value, "1");
    const sl_node *a = sl_node_get(r, "a");
    assert_int_equal(a->n, 6);
    assert_string_equal(a->items[0]->value, "2.5");
    assert_string_equal(a->items[1]->value, "0.1");
    assert_string_equal(a->items[2]->value, "true");
    assert_int_equal(a->items[2]->quoted, 0);
    assert_string_equal(a->items[3]->value, "false");
    assert_int_equal(a->items[4]->kind, SL_NODE_NULL);
    assert_int_equal(a->items[5]->quoted, 1);
    assert_string_equal(a->items[5]->value, "s");
    assert_string_equal(sl_node_get(sl_node_get(r, "m"), "k")->value, "v");
    assert_int_equal(sl_node_get(r, "e")->kind, SL_NODE_SEQ);
    assert_int_equal(sl_node_get(r, "e")->n, 0);
    assert_string_equal(z->file, "t.json");

    /* And back: every scalar becomes a string. */
    json_t *back = sl_node_to_json(r);
    char *s = json_dumps(back, JSON_COMPACT);
    assert_string_equal(s, "{\"z\":\"1\",\"a\":[\"2.5\",\"0.1\",\"true\","
                           "\"false\",null,\"s\"],\"m\":{\"k\":\"v\"},\"e\":[]}");
    free(s);
    json_decref(back);
    sl_doc_free(d);
    json_decref(j);

    /* A string with a NUL cannot become a C string. */
    j = json_stringn("a\0b", 3);
    sl_err_clear(&e);
    assert_int_equal(sl_node_from_json(j, NULL, &d, &e), SL_EPARSE);
    assert_null(d);
    json_decref(j);
}

/* Every allocation failure point returns SL_ENOMEM (or succeeds) without
 * leaking: the sanitizer build checks the leaks. */
static void test_alloc_failures(void **state)
{
    (void)state;
    const char *text = "a: &x {k: [1, 2, 'q']}\nb: *x\nc: [d, e, f, g, h, i]\n";
    json_t *j = json_loads("{\"a\": [1, {\"b\": \"c\"}], \"d\": 2.5}", 0, NULL);
    int ok = 0;
    for (long i = 0; i < 200 && !ok; i++) {
        sl_doc *d = NULL;
        sl_err e;
        sl_err_clear(&e);
        sl_mem_fail_after(i);
        sl_rc rc = sl_yaml_load_string(text, strlen(text), "t.yaml", &d, &e);
        sl_rc rc2 = SL_ENOMEM;
        sl_doc *d2 = NULL;
        if (rc == SL_OK)
            rc2 = sl_node_from_json(j, "t.json", &d2, &e);
        sl_mem_fail_after(-1);
        assert_true(rc == SL_OK || rc == SL_ENOMEM);
        assert_true(rc2 == SL_OK || rc2 == SL_ENOMEM);
        ok = rc == SL_OK && rc2 == SL_OK;
        sl_doc_free(d);
        sl_doc_free(d2);
    }
    assert_true(ok);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_quoting_and_nulls),
        cmocka_unit_test(test_lookup_helpers),
        cmocka_unit_test(test_empty_documents),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
