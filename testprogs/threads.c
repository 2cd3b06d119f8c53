/* Two threads, each making one system call of its own (getppid), then
 * printing its thread id: every thread's events must be in the trace. */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *worker(void *arg)
{
	long ppid = syscall(SYS_getppid);
	printf("thread %ld: tid %ld ppid %ld\n", (long)arg, (long)syscall(SYS_gettid), ppid);
	return NULL;
}

int main(void)
{
	pthread_t t[2];
	for (long i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
			return 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("main: tid %ld\n", (long)syscall(SYS_gettid));
	return 0;
}
