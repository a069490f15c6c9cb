/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tunnelwatch's output: one line (or JSON object) per packet, and the tables (flows, outer
 * mappings, counters). Each packet is described once (struct tw_view) and written as text or
 * JSON from that description. */
#ifndef V6LAB_TW_PRINT_H
#define V6LAB_TW_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "tunnelwatch.h"
#include "tw_flows.h"

void tw_print_packet(FILE *out, const struct tw_event *e, unsigned long long start_ns, bool json);

/* final: the tables at exit (else: at an --interval). */
void tw_print_tables(FILE *out, const struct tw_tables *t, const struct tw_counters *c,
		     unsigned long long start_ns, unsigned long long now_ns, bool json, bool final);

#endif
