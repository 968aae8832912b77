/*
 * main.c — the one runner for every Check unit suite.
 *
 * Each module's tests live in tests/unit/test_<module>.c and export one
 * `Suite *<module>_suite(void)`; adding a suite means one line here.
 */
#include <check.h>
#include <stdlib.h>

Suite *parse_suite(void);
Suite *expr_suite(void);
Suite *shape_suite(void);
Suite *runtime_suite(void);
Suite *data_suite(void);
Suite *train_suite(void);
Suite *plot_suite(void);
Suite *pipeline_suite(void);

int main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	srunner_add_suite(sr, expr_suite());
	srunner_add_suite(sr, shape_suite());
	srunner_add_suite(sr, runtime_suite());
	srunner_add_suite(sr, data_suite());
	srunner_add_suite(sr, train_suite());
	srunner_add_suite(sr, plot_suite());
	srunner_add_suite(sr, pipeline_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
