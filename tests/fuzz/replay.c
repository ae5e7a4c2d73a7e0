/* SPDX-License-Identifier: MIT */
/*
 * Replays a fuzz target's corpus: each argument is a file or a folder of
 * files fed to LLVMFuzzerTestOneInput once. Linked into normal builds so the
 * corpus runs in every `meson test`; libFuzzer builds use their own main.
 * Speaks TAP: one "ok" per input (a crash fails the whole test).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("not ok %d - cannot open %s\n", ++n, path);
		return 1;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	fclose(f);
	if (!buf) {
		printf("not ok %d - out of memory reading %s\n", ++n, path);
		return 1;
	}
	/* An exact-size copy, so ASan catches reads one past the end. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact)
		memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	printf("ok %d - %s\n", ++n, path);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		if (stat(argv[i], &sb) != 0) {
			printf("not ok %d - %s missing\n", ++n, argv[i]);
			bad++;
			continue;
		}
		if (!S_ISDIR(sb.st_mode)) {
			bad += run_file(argv[i]);
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *de;
		char **names = NULL;
		size_t cnt = 0;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char **nn = realloc(names, (cnt + 1) * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
			size_t len = strlen(argv[i]) + strlen(de->d_name) + 2;
			names[cnt] = malloc(len);
			if (names[cnt])
				snprintf(names[cnt++], len, "%s/%s", argv[i], de->d_name);
		}
		if (d)
			closedir(d);
		qsort(names, cnt, sizeof(*names), cmp);
		for (size_t j = 0; j < cnt; j++) {
			bad += run_file(names[j]);
			free(names[j]);
		}
		free(names);
	}
	printf("1..%d\n", n);
	return bad ? 1 : 0;
}
