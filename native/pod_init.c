/*
 * pod-init: PID 1 of a pod-wide PID namespace (shareProcessNamespace), the pause process's job.
 * Unshares a PID namespace, forks its init, prints the init's host pid and returns; the init holds
 * the namespace (one whose init died accepts no new process), reaps the orphans of the pod's
 * containers and exits on SIGTERM or SIGINT. SIGKILL from the host ends it and the whole pod.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

/* Never runs (the signals stay blocked for sigwait); a PID namespace's init must have handlers, or
 * the kernel drops the host's SIGTERM. */
static void no_op(int sig) { (void)sig; }

int cmd_pod_init(int argc, char **argv) {
  (void)argv;
  if (argc != 1) {
    fprintf(stderr, "usage: sifkube-helper pod-init\n");
    return 2;
  }
  if (unshare(CLONE_NEWPID) < 0) {
    helper_fail("pod-init: unshare a PID namespace");
    return 1;
  }
  struct sigaction sa = {0};
  sa.sa_handler = no_op;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGCHLD, &sa, NULL);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  pid_t init = fork();
  if (init < 0) {
    helper_fail("pod-init: fork");
    return 1;
  }
  if (init > 0) {
    printf("%d\n", init);
    return 0;
  }
  /* The init: no terminal, no caller's stdio, no caller's folder. */
  setsid();
  if (chdir("/") < 0) _exit(1);
  int null = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; fd++) dup2(null, fd);
  if (null > 2) close(null);
  for (;;) {
    int sig;
    if (sigwait(&all, &sig) != 0) continue;
    if (sig == SIGTERM || sig == SIGINT) _exit(0);
    if (sig == SIGCHLD)
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
  }
}
