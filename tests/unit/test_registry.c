/* Unit tests for the model registry layout and pointers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sluice/mem.h"
#include "sluice/registry.h"

static void test_versions_and_pointers(void **state)
{
    (void)state;
    char root[] = "/tmp/sl_registry_XXXXXX";
    assert_non_null(mkdtemp(root));
    char dir[512];
    int v;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_registry_get_pointer(root, "m", "blessed", &v, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "model 'm' has no 'blessed' version"));
    assert_int_equal(sl_registry_new_version(root, "m", &v, dir, sizeof dir, &e), SL_OK);
    assert_int_equal(v, 1);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/model_artifacts", dir);
    struct stat st;
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(sl_registry_new_version(root, "m", &v, dir, sizeof dir, &e), SL_OK);
    assert_int_equal(v, 2);
    assert_int_equal(sl_registry_set_pointer(root, "m", "latest", 2, &e), SL_OK);
    assert_int_equal(sl_registry_set_pointer(root, "m", "blessed", 1, &e), SL_OK);
    int got;
    assert_int_equal(sl_registry_get_pointer(root, "m", "latest", &got, &e), SL_OK);
    assert_int_equal(got, 2);
    assert_int_equal(sl_registry_get_pointer(root, "m", "blessed", &got, &e), SL_OK);
    assert_int_equal(got, 1);
    int *vs, n;
    assert_int_equal(sl_registry_list(root, "m", &vs, &n, &e), SL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(vs[0], 1);
    assert_int_equal(vs[1], 2);
    sl_free(vs);
    char **names;
    assert_int_equal(sl_registry_new_version(root, "a", &v, dir, sizeof dir, &e), SL_OK);
    assert_int_equal(sl_registry_models(root, &names, &n, &e), SL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "a");
    assert_string_equal(names[1], "m");
    for (int i = 0; i < n; i++)
        sl_free(names[i]);
    sl_free(names);
    /* a corrupt pointer is a clear error */
    char p[600];
    snprintf(p, sizeof p, "%s/m/blessed", root);
    FILE *f = fopen(p, "w");
    fputs("two\n", f);
    fclose(f);
    assert_int_equal(sl_registry_get_pointer(root, "m", "blessed", &got, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "expected a version number, got 'two'"));
    assert_int_equal(sl_registry_new_version(root, "../x", &v, dir, sizeof dir, &e), SL_ECONFIG);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_and_pointers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
