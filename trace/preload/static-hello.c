/* SPDX-License-Identifier: MIT */
/* A statically linked program: what scripts/trace names as untraceable (no PT_INTERP). */
#include <stdio.h>

int main(void)
{
	puts("hello, static");
	return 0;
}
