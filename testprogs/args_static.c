/* Static test payload: prints its arguments, one per line, to stdout and a
 * line to stderr, so the host can check both arrived. */
#include <stdio.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("arg %d: %s\n", i, argv[i]);
	fprintf(stderr, "args_static: %d argument(s)\n", argc - 1);
	return 0;
}
