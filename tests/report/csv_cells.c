/* csv_cells - writes a JSON array of rows (arrays of strings, null: an empty cell) as CSV
 * with the export's writer, for check_csv.sh to read back. Usage: csv_cells FILE.json */
#include <stdio.h>

#include "report.h"

int main(int argc, char **argv)
{
	json_error_t e;
	json_t *rows = argc == 2 ? json_load_file(argv[1], 0, &e) : NULL;
	if (!json_is_array(rows)) {
		fprintf(stderr, "usage: csv_cells FILE.json (an array of arrays of strings)\n");
		return 2;
	}
	struct tl_csv c = {0};
	size_t i, k;
	json_t *row, *cell;
	json_array_foreach(rows, i, row) {
		json_array_foreach(row, k, cell)
			tl_csv_cell(&c, json_string_value(cell));
		tl_csv_end_row(&c);
	}
	int rc = c.oom || fwrite(c.p, 1, c.n, stdout) != c.n;
	tl_csv_free(&c);
	json_decref(rows);
	return rc;
}
