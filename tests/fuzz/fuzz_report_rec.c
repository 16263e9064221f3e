/*
 * fuzz_report_rec.c: libFuzzer target for veilig-report's record parser
 * (report_rec.c): any octets as a line of a day file and of an interval
 * file; a record that parses is added to a report, and its pages' figures
 * are read back, so that the adding is exercised too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "report_agg.h"
#include "report_date.h"
#include "report_rec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct report_rec	 r;
	static int			 init;
	struct report_agg		*agg;
	struct report_board		*all;
	const char			*why;
	long				 day;

	if (!init) {
		report_rec_init(&r);
		init = 1;
	}
	day = report_date_from_civil(2026, 12, 1);
	agg = report_agg_new(day, day, 5, NULL);
	if (report_rec_parse(&r, (const char *)data, size, REPORT_SRC_DAY,
	    &why) == REPORT_PARSE_OK)
		report_agg_add(agg, &r, day);
	if (report_rec_parse(&r, (const char *)data, size,
	    REPORT_SRC_INTERVAL, &why) == REPORT_PARSE_OK)
		report_agg_add(agg, &r, day);
	report_agg_part_end(agg);
	all = report_agg_all(agg);
	(void)report_agg_total(agg, all, REPORT_QUERIES);
	(void)report_agg_quantile(agg, all->lat_cache, 0.95);
	report_agg_board_free(all);
	report_agg_free(agg);
	return (0);
}
