/* SPDX-License-Identifier: MIT */
/*
 * What the five v6lab providers share: the value lists of the enums every provider
 * declares for itself (an LTTng-UST enum belongs to one provider, so each provider
 * header repeats LTTNG_UST_TRACEPOINT_ENUM with these lists).
 *
 * The numbers are those of the C enums and constants they mirror (enum v6_role in
 * v6lab/wrap.h, AF_* from <sys/socket.h>): a reader sees "ipv6-server", not 3.
 */
#ifndef V6LAB_TP_COMMON_H
#define V6LAB_TP_COMMON_H

/* Which of the four programs emitted the event (enum v6_role). */
#define V6LAB_TP_ROLE_VALUES                                        \
	LTTNG_UST_TP_ENUM_VALUES(                                   \
		lttng_ust_field_enum_value("other", 0)              \
		lttng_ust_field_enum_value("ipv4-server", 1)        \
		lttng_ust_field_enum_value("ipv4-client", 2)        \
		lttng_ust_field_enum_value("ipv6-server", 3)        \
		lttng_ust_field_enum_value("ipv6-client", 4))

/* Address families (AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6). */
#define V6LAB_TP_FAMILY_VALUES                                      \
	LTTNG_UST_TP_ENUM_VALUES(                                   \
		lttng_ust_field_enum_value("AF_UNSPEC", 0)          \
		lttng_ust_field_enum_value("AF_UNIX", 1)            \
		lttng_ust_field_enum_value("AF_INET", 2)            \
		lttng_ust_field_enum_value("AF_INET6", 10))

/* What a file descriptor is (fstat), so that pipe I/O and socket I/O tell apart. */
#define V6LAB_TP_FDKIND_CLOSED 0
#define V6LAB_TP_FDKIND_SOCKET 1
#define V6LAB_TP_FDKIND_PIPE 2
#define V6LAB_TP_FDKIND_TTY 3
#define V6LAB_TP_FDKIND_FILE 4
#define V6LAB_TP_FDKIND_OTHER 5
#define V6LAB_TP_FDKIND_VALUES                                               \
	LTTNG_UST_TP_ENUM_VALUES(                                            \
		lttng_ust_field_enum_value("closed", V6LAB_TP_FDKIND_CLOSED) \
		lttng_ust_field_enum_value("socket", V6LAB_TP_FDKIND_SOCKET) \
		lttng_ust_field_enum_value("pipe", V6LAB_TP_FDKIND_PIPE)     \
		lttng_ust_field_enum_value("tty", V6LAB_TP_FDKIND_TTY)       \
		lttng_ust_field_enum_value("file", V6LAB_TP_FDKIND_FILE)     \
		lttng_ust_field_enum_value("other", V6LAB_TP_FDKIND_OTHER))

/*
 * Text fields are never empty: "-" stands for "nothing". babeltrace2 2.0.4 (Debian 12),
 * and so bt2, can show an empty string field with the value of an earlier string of the
 * stream (babeltrace 1.5 reads the same trace right), so an empty string is never written.
 */
#define V6LAB_TP_TEXT(s) ((s) && (s)[0] ? (s) : "-")

/* Room for the tokens found in one buffer: up to 9 of 28 characters, comma-separated. */
#define V6LAB_TP_TOKENS_MAX (9 * 29)

#endif
