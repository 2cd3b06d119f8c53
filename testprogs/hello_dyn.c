/* Dynamically linked test payload (glibc, libm): the loader maps ld.so,
 * libc.so.6 and libm.so.6 before main. Prints its arguments and a square
 * root from libm. */
#include <math.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("arg %d: %s\n", i, argv[i]);
	/* volatile: the call stays in libm instead of being folded. */
	volatile double x = 2.0;
	printf("sqrt(2) = %.3f\n", sqrt(x));
	fprintf(stderr, "hello_dyn: done\n");
	return 0;
}
