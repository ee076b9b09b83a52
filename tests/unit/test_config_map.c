/*
 * test_config_map.c: config_map.h: defaults, every entry type and its
 * error message (exact text with file:line:col), unknown keys with
 * suggestions, required keys, shorthand/whole sections, skip lists,
 * closest-name search, the markdown table, and allocation failures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/config_map.h"
#include "sluice/mem.h"

typedef struct cfg {
    char *path;
    sl_cfg_expr where;
    int64_t infer_rows;
    double fraction;
    int header;
    char delimiter;
    int on_error;
    sl_strlist null_values;
    sl_strmap names;
    const sl_node *extra;
} cfg;

static const sl_config_entry map[] = {
    {"path", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(cfg, path),
     "Input file."},
    {"where", SL_CFG_EXPR, NULL, 0, NULL, offsetof(cfg, where),
     "Row condition."},
    {"infer_rows", SL_CFG_INT, "1000", 0, NULL, offsetof(cfg, infer_rows),
     "Rows read to infer types."},
    {"fraction", SL_CFG_FLOAT, "0.5", 0, NULL, offsetof(cfg, fraction),
     "A fraction."},
    {"header", SL_CFG_BOOL, "true", 0, NULL, offsetof(cfg, header),
     "First line holds the names."},
    {"delimiter", SL_CFG_CHAR, ",", 0, NULL, offsetof(cfg, delimiter),
     "Field separator."},
    {"on_error", SL_CFG_ENUM, "fail", 0, "fail|skip|dlq",
     offsetof(cfg, on_error), "What to do with a bad row."},
    {"null_values", SL_CFG_STRLIST, ",NA,null", 0, NULL,
     offsetof(cfg, null_values), "Texts read as null."},
    {"names", SL_CFG_STRMAP, NULL, 0, NULL, offsetof(cfg, names),
     "Renames | old: new."},
    {"extra", SL_CFG_NODE, NULL, 0, NULL, offsetof(cfg, extra),
     "Parsed elsewhere."},
    {0}};

static char errbuf[2048];
static sl_doc *doc;

static int teardown(void **state)
{
    (void)state;
    sl_doc_free(doc);
    doc = NULL;
    return 0;
}

static const sl_node *parse(const char *text)
{
    sl_err e;
    sl_err_clear(&e);
    sl_doc_free(doc);
    doc = NULL;
    assert_int_equal(sl_yaml_load_string(text, strlen(text), "c.yaml", &doc, &e),
                     SL_OK);
    return doc->root;
}

/* Applies `map_` to text (what/skip optional); returns rc, errbuf. */
static sl_rc apply_ex(const sl_config_entry *map_, const char *text, void *c,
                      const char *what, const char *const *skip)
{
    sl_err e;
    sl_err_clear(&e);
    const sl_node *n = parse(text);
    sl_rc rc = sl_config_apply_ex(map_, n, c, what, skip, &e);
    errbuf[0] = '\0';
    if (rc != SL_OK)
        sl_err_format(&e, errbuf, sizeof errbuf);
    return rc;
}

static sl_rc apply(const char *text, cfg *c)
{
    memset(c, 0, sizeof *c);
    return apply_ex(map, text, c, NULL, NULL);
}

/* The error for text must be exactly msg; the struct is left empty. */
static void expect(const char *text, const char *msg)
{
    cfg c;
    assert_int_equal(apply(text, &c), SL_ECONFIG);
    assert_string_equal(errbuf, msg);
    assert_null(c.path);
    assert_null(c.null_values.items);
}

static void test_defaults(void **state)
{
    (void)state;
    cfg c;
    assert_int_equal(apply("path: a.csv\n", &c), SL_OK);
    assert_string_equal(c.path, "a.csv");
    assert_null(c.where.text);
    assert_int_equal(c.infer_rows, 1000);
    assert_true(c.fraction == 0.5);
    assert_int_equal(c.header, 1);
    assert_int_equal(c.delimiter, ',');
    assert_int_equal(c.on_error, 0);
    assert_int_equal(c.null_values.n, 3);
    assert_string_equal(c.null_values.items[0], "");
    assert_string_equal(c.null_values.items[1], "NA");
    assert_string_equal(c.null_values.items[2], "null");
    assert_int_equal(c.names.n, 0);
    assert_null(c.extra);
    sl_config_free(map, &c);
    assert_null(c.path);
    assert_int_equal(c.null_values.n, 0);
    sl_config_free(map, &c); /* idempotent */

    /* sl_config_defaults alone. */
    memset(&c, 0, sizeof c);
    assert_int_equal(sl_config_defaults(map, &c, NULL), SL_OK);
    assert_null(c.path);
    assert_int_equal(c.infer_rows, 1000);
    sl_config_free(map, &c);
}

static void test_all_values(void **state)
{
    (void)state;
    cfg c;
    assert_int_equal(apply("path: 'data/x.csv'\n"
                           "where: \"a > 1\"\n"
                           "infer_rows: 1_000_000\n"
                           "fraction: 1e-3\n"
                           "header: No\n"
                           "delimiter: ';'\n"
                           "on_error: dlq\n"
                           "null_values: [NA, null, \"\", ~, 'N/A']\n"
                           "names: {a: b, 'c d': \"e\"}\n"
                           "extra: {any: [thing]}\n",
                           &c),
                     SL_OK);
    assert_string_equal(c.path, "data/x.csv");
    assert_string_equal(c.where.text, "a > 1");
    assert_int_equal(c.where.line, 2);
    assert_int_equal(c.where.col, 9); /* after the quote */
    assert_int_equal(c.infer_rows, 1000000);
    assert_true(c.fraction == 1e-3);
    assert_int_equal(c.header, 0);
    assert_int_equal(c.delimiter, ';');
    assert_int_equal(c.on_error, 2);
    assert_int_equal(c.null_values.n, 5);
    assert_string_equal(c.null_values.items[0], "NA");
    assert_string_equal(c.null_values.items[1], "null");
    assert_string_equal(c.null_values.items[2], "");
    assert_string_equal(c.null_values.items[3], "~");
    assert_string_equal(c.null_values.items[4], "N/A");
    assert_int_equal(c.null_values.lines[4], 8);
    assert_int_equal(c.null_values.cols[0], 15);
    assert_int_equal(c.null_values.cols[4], 33); /* after the quote */
    assert_int_equal(c.names.n, 2);
    assert_string_equal(c.names.keys[1], "c d");
    assert_string_equal(c.names.values[0], "b");
    assert_string_equal(c.names.values[1], "e");
    assert_int_equal(c.names.lines[1], 9);
    assert_int_equal(c.names.cols[0], 12);
    assert_int_equal(c.names.cols[1], 23); /* after the quote */
    assert_non_null(c.extra);
    assert_int_equal(c.extra->kind, SL_NODE_MAP);
    sl_config_free(map, &c);

    /* A plain expression starts at the node; an error at expression
     * column k maps to col + k - 1. */
    assert_int_equal(apply("path: p\nwhere: a > 1\n", &c), SL_OK);
    assert_int_equal(c.where.col, 8);
    sl_config_free(map, &c);
    /* A single value is a one-item list. */
    assert_int_equal(apply("path: p\nnull_values: '-'\n", &c), SL_OK);
    assert_int_equal(c.null_values.n, 1);
    assert_string_equal(c.null_values.items[0], "-");
    assert_int_equal(c.null_values.cols[0], 15);
    sl_config_free(map, &c);
    /* An empty list is a list. */
    assert_int_equal(apply("path: p\nnull_values: []\nnames: {}\n", &c), SL_OK);
    assert_int_equal(c.null_values.n, 0);
    assert_int_equal(c.names.n, 0);
    sl_config_free(map, &c);
}

static void test_booleans(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int value;
    } cases[] = {{"true", 1},  {"True", 1}, {"yes", 1},  {"ON", 1},
                 {"false", 0}, {"FALSE", 0}, {"no", 0},  {"off", 0},
                 {"'yes'", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        cfg c;
        snprintf(text, sizeof text, "path: p\nheader: %s\n", cases[i].text);
        assert_int_equal(apply(text, &c), SL_OK);
        assert_int_equal(c.header, cases[i].value);
        sl_config_free(map, &c);
    }
    expect("path: p\nheader: maybe\n",
           "c.yaml:2:9: key 'header': expected a boolean (true/false), got "
           "'maybe'");
    expect("path: p\nheader: 1\n",
           "c.yaml:2:9: key 'header': expected a boolean (true/false), got '1'");
    expect("path: p\nheader:\n",
           "c.yaml:2:8: key 'header': expected a boolean (true/false), got an "
           "empty value");
}

static void test_numbers(void **state)
{
    (void)state;
    cfg c;
    assert_int_equal(apply("path: p\ninfer_rows: -5\nfraction: 3\n", &c), SL_OK);
    assert_int_equal(c.infer_rows, -5);
    assert_true(c.fraction == 3.0);
    sl_config_free(map, &c);
    assert_int_equal(apply("path: p\ninfer_rows: '+7'\nfraction: .inf\n", &c),
                     SL_OK);
    assert_int_equal(c.infer_rows, 7);
    assert_true(isinf(c.fraction) && c.fraction > 0);
    sl_config_free(map, &c);
    assert_int_equal(apply("path: p\nfraction: -.Inf\n", &c), SL_OK);
    assert_true(isinf(c.fraction) && c.fraction < 0);
    sl_config_free(map, &c);
    assert_int_equal(apply("path: p\nfraction: .nan\n", &c), SL_OK);
    assert_true(isnan(c.fraction));
    sl_config_free(map, &c);
    assert_int_equal(apply("path: p\ninfer_rows: 9223372036854775807\n", &c),
                     SL_OK);
    assert_int_equal(c.infer_rows, INT64_MAX);
    sl_config_free(map, &c);

    expect("path: p\ninfer_rows: abc\n",
           "c.yaml:2:13: key 'infer_rows': expected an integer, got 'abc'");
    expect("path: p\ninfer_rows: 1.5\n",
           "c.yaml:2:13: key 'infer_rows': expected an integer, got '1.5'");
    expect("path: p\ninfer_rows: 12abc\n",
           "c.yaml:2:13: key 'infer_rows': expected an integer, got '12abc'");
    expect("path: p\ninfer_rows: ' 12'\n",
           "c.yaml:2:13: key 'infer_rows': expected an integer, got ' 12'");
    expect("path: p\ninfer_rows: 99999999999999999999\n",
           "c.yaml:2:13: key 'infer_rows': integer out of range, got "
           "'99999999999999999999'");
    expect("path: p\ninfer_rows: [1]\n",
           "c.yaml:2:13: key 'infer_rows': expected an integer, got a list");
    expect("path: p\nfraction: half\n",
           "c.yaml:2:11: key 'fraction': expected a number, got 'half'");
    expect("path: p\nfraction: inf\n",
           "c.yaml:2:11: key 'fraction': expected a number, got 'inf'");
    expect("path: p\nfraction: 0x10\n",
           "c.yaml:2:11: key 'fraction': expected a number, got '0x10'");
    expect("path: p\nfraction: 1e999\n",
           "c.yaml:2:11: key 'fraction': number out of range, got '1e999'");
    expect("path: p\nfraction: ~\n",
           "c.yaml:2:11: key 'fraction': expected a number, got null");
    expect("path: p\nfraction: {a: 1}\n",
           "c.yaml:2:11: key 'fraction': expected a number, got a mapping");
}

static void test_chars(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        char value;
    } cases[] = {{"\\t", '\t'}, {"tab", '\t'}, {"TAB", '\t'},
                 {"\"\\t\"", '\t'}, {"'|'", '|'}, {"' '", ' '}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        cfg c;
        snprintf(text, sizeof text, "path: p\ndelimiter: %s\n", cases[i].text);
        assert_int_equal(apply(text, &c), SL_OK);
        assert_int_equal(c.delimiter, cases[i].value);
        sl_config_free(map, &c);
    }
    expect("path: p\ndelimiter: ab\n",
           "c.yaml:2:12: key 'delimiter': expected a single character, got "
           "'ab'");
    expect("path: p\ndelimiter: ''\n",
           "c.yaml:2:12: key 'delimiter': expected a single character, got "
           "''");
}

static void test_enums(void **state)
{
    (void)state;
    cfg c;
    assert_int_equal(apply("path: p\non_error: skip\n", &c), SL_OK);
    assert_int_equal(c.on_error, 1);
    sl_config_free(map, &c);
    assert_int_equal(apply("path: p\non_error: DLQ\n", &c), SL_OK);
    assert_int_equal(c.on_error, 2);
    sl_config_free(map, &c);
    expect("path: p\non_error: dlk\n",
           "c.yaml:2:11: key 'on_error': expected one of fail, skip, dlq, got "
           "'dlk' (did you mean 'dlq'?)");
    expect("path: p\non_error: ignore\n",
           "c.yaml:2:11: key 'on_error': expected one of fail, skip, dlq, got "
           "'ignore'");
    expect("path: p\non_error: [fail]\n",
           "c.yaml:2:11: key 'on_error': expected one of fail, skip, dlq, got "
           "a list");
}

static void test_lists_and_maps(void **state)
{
    (void)state;
    expect("path: p\nnull_values: [a, [b]]\n",
           "c.yaml:2:18: key 'null_values': item 2: expected a string, got a "
           "list");
    expect("path: p\nnull_values:\n  - a\n  - {b: c}\n",
           "c.yaml:4:5: key 'null_values': item 2: expected a string, got a "
           "mapping");
    expect("path: p\nnull_values: {a: b}\n",
           "c.yaml:2:14: key 'null_values': expected a list of strings, got a "
           "mapping");
    expect("path: p\nnull_values:\n",
           "c.yaml:2:13: key 'null_values': expected a list of strings, got "
           "an empty value");
    expect("path: p\nnames: [a, b]\n",
           "c.yaml:2:8: key 'names': expected a mapping of names to strings, "
           "got a list");
    expect("path: p\nnames: {a: [b]}\n",
           "c.yaml:2:12: key 'names': value of 'a': expected a string, got a "
           "list");
    expect("path: p\nnames:\n  a:\n",
           "c.yaml:3:5: key 'names': value of 'a': expected a string, got an "
           "empty value");
    expect("path: [a, b]\n",
           "c.yaml:1:7: key 'path': expected a string, got a list");
    expect("path: p\nwhere: {a: 1}\n",
           "c.yaml:2:8: key 'where': expected an expression, got a mapping");
}

static void test_unknown_and_required(void **state)
{
    (void)state;
    cfg c;
    expect("path: p\ndelimter: ';'\n",
           "c.yaml:2:1: unknown key 'delimter' (did you mean 'delimiter'?)");
    expect("path: p\nPath: q\n",
           "c.yaml:2:1: unknown key 'Path' (did you mean 'path'?)");
    expect("path: p\nzzz: 1\n",
           "c.yaml:2:1: unknown key 'zzz' (valid keys: path, where, "
           "infer_rows, fraction, header, delimiter, on_error, null_values, "
           "names, extra)");
    memset(&c, 0, sizeof c);
    assert_int_equal(apply_ex(map, "path: p\ndelimter: ';'\n", &c,
                              "source 'csv'", NULL),
                     SL_ECONFIG);
    assert_string_equal(errbuf, "c.yaml:2:1: unknown key 'delimter' in source "
                                "'csv' (did you mean 'delimiter'?)");
    /* Missing required: at the mapping, naming the key. */
    expect("header: true\n", "c.yaml:1:1: missing required key 'path'");
    memset(&c, 0, sizeof c);
    assert_int_equal(apply_ex(map, "src:\n  header: true\n", &c, NULL, NULL),
                     SL_ECONFIG); /* the root has no 'path' either */
    memset(&c, 0, sizeof c);
    const sl_node *root = parse("src:\n  header: true\n");
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_config_apply_ex(map, sl_node_get(root, "src"), &c,
                                        "source 'csv'", NULL, &e),
                     SL_ECONFIG);
    sl_err_format(&e, errbuf, sizeof errbuf);
    assert_string_equal(errbuf, "c.yaml:2:3: missing required key 'path' in "
                                "source 'csv'");
    /* An empty section: defaults, then the required check at its node. */
    memset(&c, 0, sizeof c);
    root = parse("src:\n");
    sl_err_clear(&e);
    assert_int_equal(sl_config_apply_ex(map, sl_node_get(root, "src"), &c,
                                        "source 'csv'", NULL, &e),
                     SL_ECONFIG);
    sl_err_format(&e, errbuf, sizeof errbuf);
    assert_string_equal(errbuf, "c.yaml:1:5: missing required key 'path' in "
                                "source 'csv'");
    /* No node at all. */
    sl_err_clear(&e);
    assert_int_equal(sl_config_apply(map, NULL, &c, &e), SL_ECONFIG);
    assert_string_equal(e.msg, "missing required key 'path'");
    /* Not a mapping and no shorthand entry. */
    expect("[a, b]\n", "c.yaml:1:1: expected a mapping, got a list");
    memset(&c, 0, sizeof c);
    assert_int_equal(apply_ex(map, "x.csv\n", &c, "source 'csv'", NULL),
                     SL_ECONFIG);
    assert_string_equal(errbuf,
                        "c.yaml:1:1: source 'csv': expected a mapping, got "
                        "'x.csv'");
}

static void test_skip(void **state)
{
    (void)state;
    static const char *const skip[] = {"type", "kind", NULL};
    cfg c;
    memset(&c, 0, sizeof c);
    assert_int_equal(apply_ex(map, "type: csv\npath: p\nkind: x\n", &c,
                              "source 'csv'", skip),
                     SL_OK);
    assert_string_equal(c.path, "p");
    sl_config_free(map, &c);
    expect("type: csv\npath: p\n",
           "c.yaml:1:1: unknown key 'type' (valid keys: path, where, "
           "infer_rows, fraction, header, delimiter, on_error, null_values, "
           "names, extra)");
}

typedef struct filter_cfg {
    sl_cfg_expr expr;
    int keep;
} filter_cfg;

static const sl_config_entry filter_map[] = {
    {"expr", SL_CFG_EXPR, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(filter_cfg, expr), "Condition."},
    {"keep", SL_CFG_BOOL, "true", 0, NULL, offsetof(filter_cfg, keep),
     "Keep matching rows."},
    {0}};

typedef struct derive_cfg {
    sl_strmap cols;
} derive_cfg;

static const sl_config_entry derive_map[] = {
    {"columns", SL_CFG_STRMAP, NULL, SL_CFG_REQUIRED | SL_CFG_WHOLE, NULL,
     offsetof(derive_cfg, cols), "New columns: name: expression."},
    {0}};

static void test_shorthand_and_whole(void **state)
{
    (void)state;
    filter_cfg f = {0};
    const sl_node *root = parse("filter: \"x > 1\"\n");
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_config_apply_ex(filter_map, sl_node_get(root, "filter"),
                                        &f, "transform 'filter'", NULL, &e),
                     SL_OK);
    assert_string_equal(f.expr.text, "x > 1");
    assert_int_equal(f.expr.line, 1);
    assert_int_equal(f.expr.col, 10);
    assert_int_equal(f.keep, 1);
    sl_config_free(filter_map, &f);

    /* The long form still works. */
    memset(&f, 0, sizeof f);
    assert_int_equal(apply_ex(filter_map, "expr: x > 1\nkeep: no\n", &f,
                              "transform 'filter'", NULL),
                     SL_OK);
    assert_string_equal(f.expr.text, "x > 1");
    assert_int_equal(f.keep, 0);
    sl_config_free(filter_map, &f);

    memset(&f, 0, sizeof f);
    assert_int_equal(apply_ex(filter_map, "[a, b]\n", &f, "transform 'filter'",
                              NULL),
                     SL_ECONFIG);
    assert_string_equal(errbuf, "c.yaml:1:1: transform 'filter': expected an "
                                "expression, got a list");
    memset(&f, 0, sizeof f);
    assert_int_equal(apply_ex(filter_map, "[a, b]\n", &f, NULL, NULL),
                     SL_ECONFIG);
    assert_string_equal(errbuf, "c.yaml:1:1: key 'expr': expected an "
                                "expression, got a list");

    derive_cfg d = {0};
    assert_int_equal(apply_ex(derive_map, "a: x + 1\nb: \"y\"\n", &d,
                              "transform 'derive'", NULL),
                     SL_OK);
    assert_int_equal(d.cols.n, 2);
    assert_string_equal(d.cols.keys[0], "a");
    assert_string_equal(d.cols.values[0], "x + 1");
    assert_int_equal(d.cols.cols[0], 4);
    assert_int_equal(d.cols.cols[1], 5);
    sl_config_free(derive_map, &d);
    /* With WHOLE, every key is data: no unknown-key check. */
    memset(&d, 0, sizeof d);
    assert_int_equal(apply_ex(derive_map, "columns: x\n", &d, NULL, NULL),
                     SL_OK);
    assert_string_equal(d.cols.keys[0], "columns");
    sl_config_free(derive_map, &d);
    memset(&d, 0, sizeof d);
    assert_int_equal(apply_ex(derive_map, "x + 1\n", &d, "transform 'derive'",
                              NULL),
                     SL_ECONFIG);
    assert_string_equal(errbuf, "c.yaml:1:1: transform 'derive': expected a "
                                "mapping of names to strings, got 'x + 1'");
    memset(&d, 0, sizeof d);
    root = parse("derive:\n");
    sl_err_clear(&e);
    assert_int_equal(sl_config_apply_ex(derive_map, sl_node_get(root, "derive"),
                                        &d, "transform 'derive'", NULL, &e),
                     SL_ECONFIG);
    sl_err_format(&e, errbuf, sizeof errbuf);
    assert_string_equal(errbuf, "c.yaml:1:8: missing required key 'columns' "
                                "in transform 'derive'");
}

typedef struct bad_cfg {
    int64_t n;
    sl_strmap m;
} bad_cfg;

static void test_bad_defaults(void **state)
{
    (void)state;
    static const sl_config_entry bad_int[] = {
        {"n", SL_CFG_INT, "ten", 0, NULL, offsetof(bad_cfg, n), "."}, {0}};
    static const sl_config_entry bad_map[] = {
        {"m", SL_CFG_STRMAP, "a=b", 0, NULL, offsetof(bad_cfg, m), "."}, {0}};
    bad_cfg b = {0};
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_config_defaults(bad_int, &b, &e), SL_EINTERNAL);
    assert_int_equal(e.code, SL_EINTERNAL);
    assert_string_equal(e.msg, "config map: bad default: key 'n': expected an "
                               "integer, got 'ten'");
    sl_err_clear(&e);
    assert_int_equal(sl_config_apply(bad_map, NULL, &b, &e), SL_EINTERNAL);
    assert_string_equal(e.msg, "config map entry 'm': this type takes no "
                               "default");
}

static void test_closest(void **state)
{
    (void)state;
    assert_string_equal(sl_config_closest(map, "delimter"), "delimiter");
    assert_string_equal(sl_config_closest(map, "HEADER"), "header");
    assert_string_equal(sl_config_closest(map, "pth"), "path");
    assert_string_equal(sl_config_closest(map, "null_value"), "null_values");
    assert_null(sl_config_closest(map, "zzz"));
    assert_null(sl_config_closest(map, ""));
    assert_null(sl_config_closest(NULL, "x"));
    char longkey[300];
    memset(longkey, 'a', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_null(sl_config_closest(map, longkey));

    static const char *const names[] = {"filter", "derive", "select", "scale",
                                        NULL};
    assert_string_equal(sl_closest_name(names, "filtr"), "filter");
    assert_string_equal(sl_closest_name(names, "scal"), "scale");
    assert_string_equal(sl_closest_name(names, "selct"), "select");
    assert_null(sl_closest_name(names, "onehot"));
    assert_null(sl_closest_name(NULL, "x"));
}

static void test_doc_md(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    sl_config_doc_md(map, f);
    sl_config_doc_md(filter_map, f);
    sl_config_doc_md(derive_map, f);
    sl_config_doc_md(NULL, f);
    fclose(f);
    assert_string_equal(
        buf,
        "| key | type | default | description |\n"
        "| --- | --- | --- | --- |\n"
        "| `path` | string | required | Input file. |\n"
        "| `where` | expression | - | Row condition. |\n"
        "| `infer_rows` | integer | `1000` | Rows read to infer types. |\n"
        "| `fraction` | number | `0.5` | A fraction. |\n"
        "| `header` | boolean | `true` | First line holds the names. |\n"
        "| `delimiter` | character | `,` | Field separator. |\n"
        "| `on_error` | one of `fail`, `skip`, `dlq` | `fail` | What to do "
        "with a bad row. |\n"
        "| `null_values` | list of strings | `\"\"`, `NA`, `null` | Texts "
        "read as null. |\n"
        "| `names` | mapping of strings | - | Renames \\| old: new. |\n"
        "| `extra` | section | - | Parsed elsewhere. |\n"
        "| key | type | default | description |\n"
        "| --- | --- | --- | --- |\n"
        "| `expr` (shorthand) | expression | required | Condition. |\n"
        "| `keep` | boolean | `true` | Keep matching rows. |\n"
        "| key | type | default | description |\n"
        "| --- | --- | --- | --- |\n"
        "| `columns` (whole section) | mapping of strings | required | New "
        "columns: name: expression. |\n"
        "No settings.\n");
    free(buf);
    assert_string_equal(sl_config_type_name(SL_CFG_STRLIST), "list of strings");
}

static void test_alloc_failures(void **state)
{
    (void)state;
    const sl_node *root = parse("path: p\nwhere: x\nnull_values: [a, b]\n"
                                "names: {a: b, c: d}\n");
    int ok = 0;
    for (long i = 0; i < 100 && !ok; i++) {
        cfg c;
        memset(&c, 0, sizeof c);
        sl_mem_fail_after(i);
        sl_rc rc = sl_config_apply(map, root, &c, NULL);
        sl_mem_fail_after(-1);
        assert_true(rc == SL_OK || rc == SL_ENOMEM);
        if (rc != SL_OK) {
            /* Released on failure. */
            assert_null(c.path);
            assert_null(c.where.text);
            assert_null(c.null_values.items);
            assert_null(c.names.keys);
        }
        ok = rc == SL_OK;
        sl_config_free(map, &c);
    }
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_defaults, teardown),
        cmocka_unit_test_teardown(test_all_values, teardown),
        cmocka_unit_test_teardown(test_booleans, teardown),
        cmocka_unit_test_teardown(test_numbers, teardown),
        cmocka_unit_test_teardown(test_chars, teardown),
        cmocka_unit_test_teardown(test_enums, teardown),
        cmocka_unit_test_teardown(test_lists_and_maps, teardown),
        cmocka_unit_test_teardown(test_unknown_and_required, teardown),
        cmocka_unit_test_teardown(test_skip, teardown),
        cmocka_unit_test_teardown(test_shorthand_and_whole, teardown),
        cmocka_unit_test_teardown(test_bad_defaults, teardown),
        cmocka_unit_test_teardown(test_closest, teardown),
        cmocka_unit_test_teardown(test_doc_md, teardown),
        cmocka_unit_test_teardown(test_alloc_failures, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
