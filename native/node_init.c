/*
 * node-init: PID 1 of a cluster node. Runs ARGV (the node supervisor) as its child, forwards the
 * termination signals to it, and reaps every process orphaned inside the node, which Node.js as
 * PID 1 would leave as zombies. Exits with the child's status when the child exits; the kernel then
 * kills whatever is left in the node's PID namespace.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

int cmd_node_init(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: sifkube-helper node-init PROGRAM [ARGS...]\n");
    return 2;
  }
  /* All signals are taken synchronously with sigwait; the child gets the original mask back. */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = fork();
  if (child < 0) {
    helper_fail("fork");
    return 1;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    execvp(argv[1], argv + 1);
    helper_fail("exec %s", argv[1]);
    _exit(127);
  }
  for (;;) {
    int sig;
    if (sigwait(&all, &sig) != 0) continue;
    if (sig != SIGCHLD) {
      /* Forward what a runtime or a user sends the node (TERM from `kill`, INT, HUP, USR1/2, …). */
      kill(child, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
  }
}
