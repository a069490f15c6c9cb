/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* acceptwatch's output: one line per event (text columns, or one JSON object), and the
 * verdict. Each event type is described once (its name, whether it has a peer, the items of
 * its DETAIL), and text and JSON are two renderings of that description. */
#ifndef V6LAB_AW_PRINT_H
#define V6LAB_AW_PRINT_H

#include <arpa/inet.h>
#include <stdbool.h>

#include "acceptwatch.h"
#include "aw_diagnose.h"
#include "aw_names.h"

struct aw_printer {
	bool json;
	unsigned long long start_ns; /* time 0 of the TIME column */
	const struct aw_enum_names *drop_reasons, *rst_reasons;
	struct aw_netns_names *netns;
	/* Addresses repeat (the listener's, a few clients'): inet_ntop() once per address. */
	struct {
		int family;
		unsigned char a[16];
		size_t len;
		char s[INET6_ADDRSTRLEN];
	} addrs[16];
	unsigned int next_addr;
};

/* The names of event types (enum aw_event_type), as in both outputs; NULL if unknown. */
const char *aw_event_name(unsigned int type);
/* The column titles (text output only). */
void aw_print_header(const struct aw_printer *p);
void aw_print_event(struct aw_printer *p, const struct aw_event *e);
void aw_print_report(const struct aw_printer *p, const struct aw_report *r,
		     const struct aw_diag *d, unsigned short port);

#endif
