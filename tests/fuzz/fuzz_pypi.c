/* SPDX-License-Identifier: MIT */
/* Fuzz target: the core metadata (METADATA, PKG-INFO) header parser and name normalisation. */
#include <stdint.h>
#include <string.h>

#include "ed/pkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ed_buf name = ED_BUF_INIT, version = ED_BUF_INIT, norm = ED_BUF_INIT;
	struct ed_err err;
	if (ed_pypi_metadata_parse(ed_str_of((const char *)data, size), "METADATA", &name,
				   &version, &err) == ED_OK) {
		/* A parsed name normalises to something no longer than itself, never empty. */
		if (ed_pypi_normalize(name.p, name.len, &norm) == 0 &&
		    (norm.len == 0 || norm.len > name.len || strlen(norm.p) != norm.len))
			__builtin_trap();
		if (version.len == 0 || strlen(version.p) != version.len)
			__builtin_trap();
	}
	ed_buf_release(&name);
	ed_buf_release(&version);
	ed_buf_release(&norm);
	return 0;
}
