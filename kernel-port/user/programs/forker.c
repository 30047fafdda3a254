// forker: fork; the child calls work() and execs /bin/hello, the parent calls work() before and
// after the fork and waits for the child. work() is a probe target hit in both processes.
#include "ulib.h"

__attribute__((noipa)) long work(long who) {
    return who * 7;
}

int main(void) {
    long sum = work(1);
    long pid = fork();
    if (pid < 0) {
        printf("forker: fork failed (%ld)\n", pid);
        return 1;
    }
    if (pid == 0) {
        sum += work(2);
        printf("forker: child pid %ld, sum %ld\n", getpid(), sum);
        char* argv[] = {"/bin/hello", 0};
        execv("/bin/hello", argv);
        printf("forker: exec failed\n");
        exit(127);
    }
    sum += work(3);
    int status = 0;
    long waited = wait(&status);
    printf("forker: parent pid %ld, sum %ld, child %ld exited with status %d\n", getpid(), sum,
           waited, WEXITSTATUS(status));
    return waited == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
