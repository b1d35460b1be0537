/*
 * pilotage_spawn: start a component's process with posix_spawn, for the local executor
 * (src/executor/local/native-spawn.ts). Node's child_process forks the engine, and a fork's cost
 * grows with the parent's memory (0.8 ms from 50 MB of Node, 8 ms from 270 MB); posix_spawn
 * (clone with CLONE_VM | CLONE_VFORK in glibc) copies nothing, whatever the engine's size. It
 * still holds the calling thread until the child has called exec, which under a burst of starts
 * (a parallel stage: the children compete for the CPU) took ~0.5 ms each: so a burst's starts
 * run on threads of libuv's pool, not on the engine's main thread.
 *
 * Nine functions:
 * - spawn(file, argv, envp, cwd, done): starts it on the thread pool; calls done([pid, stdoutFd,
 *   stderrFd]) or done([-errno]) on the main thread. `file` is a path (the caller looks bare
 *   names up on the child's PATH); the child leads a new session (setsid: its own process
 *   group), has every signal at its default and none blocked, stdin on /dev/null, stdout and
 *   stderr on pipes whose read ends are given (close-on-exec), working directory `cwd`,
 *   environment `envp` ("NAME=value" strings) and nothing else of this process.
 * - spawnNow(file, argv, envp, cwd) -> the same start on the calling thread, answered at once
 *   ([pid, stdoutFd, stderrFd] or [-errno]). For a start alone (a sequential stage's next step):
 *   the pool's two hand-offs between threads (each a wake-up of a sleeping CPU) cost more than
 *   the wait for exec, ~0.2 ms. Node's own spawn waits for exec on the main thread too.
 * - firstProgram(paths) -> the index of the first of `paths` that is a regular file this process
 *   may execute, else -EACCES when one was a regular file (not executable), else -ENOENT: the
 *   PATH search execvp makes, on the child's PATH (the caller lists the candidates). Node's
 *   statSync and accessSync cost ~10 µs a call, four or so on every start; these, ~1 µs.
 * - reap(pid) -> undefined while it runs, else [exitCode, signalNumber] (exitCode -1 when a signal
 *   ended it, signalNumber 0 when none did; [-1, 0] when `pid` is not a child of this process).
 * - waitable() -> the pid of a child of this process that has exited and is not yet reaped, left
 *   as it is (waitid with WNOWAIT), or 0 when there is none: one call per exit tells which child
 *   ended, where asking each running child (reap) costs a call per running child per exit.
 * - signal(pid, signalNumber) -> 0, or the errno kill(2) failed with (ESRCH: no such process or
 *   group; a negative pid names a group). process.kill throws instead, and building that error
 *   (a stack trace) cost more than the call: the local executor asks after every component's exit
 *   whether its group is gone, and the answer is usually no such group.
 *
 * - trim() -> true when the C allocator gave memory back: malloc_trim(0) on glibc (false
 *   elsewhere). glibc keeps what is freed in its arenas; the server's idle trim
 *   (service/idle-memory-trim.ts) calls it after its collections, once the buffers freed with
 *   the burst's garbage (sockets, SQLite's, V8's array buffers) are back in those arenas.
 *
 * - exec(file, argv, envp) -> replaces this process with `file` (execve: same pid, the standard
 *   streams kept, other descriptors as their close-on-exec flag says), every signal unblocked
 *   first; returns the errno it failed with, this process then going on as before. `pilotage
 *   serve` uses it once, at start, to run again with V8 flags that only a process start can set
 *   (src/cli/serve-v8-flags.ts).
 *
 * - batch() -> 0, or the errno it failed with: every thread of this process under SCHED_BATCH (the
 *   threads it makes later, and the components it starts, inherit it): a thread that wakes up
 *   does not preempt the one running. Several replicas, PostgreSQL and components sharing a few
 *   cores then switch less often (each switch evicts the other's caches): `pilotage serve` on a
 *   PostgreSQL store calls it at start (src/serve.ts; bench/README.md, "Session 17"). Components
 *   inherit it on purpose: measured, an engine under SCHED_BATCH beside components under the
 *   default policy lost ~15% of its runs a minute to their wake-ups.
 *
 * Built by scripts/build-native.mjs with node-gyp when a C compiler is there; the local executor
 * falls back to its spawner process without it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <node_api.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A JS string as a malloc'd UTF-8 C string; NULL when it is not a string or memory ran out. */
static char *string_of(napi_env env, napi_value value) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *text = malloc(length + 1);
  if (text == NULL) return NULL;
  if (napi_get_value_string_utf8(env, value, text, length + 1, &length) != napi_ok) {
    free(text);
    return NULL;
  }
  return text;
}

static void free_strings(char **list) {
  if (list == NULL) return;
  for (char **item = list; *item != NULL; item++) free(*item);
  free(list);
}

/* A JS array of strings as a NULL-terminated array of C strings; NULL on any failure. */
static char **strings_of(napi_env env, napi_value array) {
  uint32_t count = 0;
  if (napi_get_array_length(env, array, &count) != napi_ok) return NULL;
  char **list = calloc((size_t)count + 1, sizeof(char *));
  if (list == NULL) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || (list[i] = string_of(env, item)) == NULL) {
      free_strings(list);
      return NULL;
    }
  }
  return list;
}

/* The call's `count` arguments into `args`; false, with a TypeError naming `usage`, when it was
   given another number of them. */
static bool arguments_of(napi_env env, napi_callback_info info, size_t count, napi_value *args, const char *usage) {
  size_t given = count;
  if (napi_get_cb_info(env, info, &given, args, NULL, NULL) == napi_ok && given == count) return true;
  napi_throw_type_error(env, NULL, usage);
  return false;
}

static napi_value number_array(napi_env env, const double *values, size_t count) {
  napi_value array;
  napi_create_array_with_length(env, count, &array);
  for (size_t i = 0; i < count; i++) {
    napi_value value;
    napi_create_double(env, values[i], &value);
    napi_set_element(env, array, (uint32_t)i, value);
  }
  return array;
}

static int start(const char *file, char *const argv[], char *const envp[], const char *cwd, pid_t *pid, int out[2],
                 int err[2]) {
  if (pipe2(out, O_CLOEXEC) != 0) return errno;
  if (pipe2(err, O_CLOEXEC) != 0) {
    int failure = errno;
    close(out[0]);
    close(out[1]);
    return failure;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  sigset_t every, none;
  sigfillset(&every);
  sigemptyset(&none);
  int failure = posix_spawn_file_actions_init(&actions);
  if (failure == 0) {
    failure = posix_spawnattr_init(&attributes);
    if (failure == 0) {
      if ((failure = posix_spawn_file_actions_addchdir_np(&actions, cwd)) == 0 &&
          (failure = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
          (failure = posix_spawn_file_actions_adddup2(&actions, out[1], 1)) == 0 &&
          (failure = posix_spawn_file_actions_adddup2(&actions, err[1], 2)) == 0 &&
          (failure = posix_spawnattr_setsigdefault(&attributes, &every)) == 0 &&
          (failure = posix_spawnattr_setsigmask(&attributes, &none)) == 0 &&
          (failure = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
                                                                POSIX_SPAWN_SETSIGMASK)) == 0) {
        failure = posix_spawn(pid, file, &actions, &attributes, argv, envp);
      }
      posix_spawnattr_destroy(&attributes);
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  close(out[1]);
  close(err[1]);
  if (failure != 0) {
    close(out[0]);
    close(err[0]);
  }
  return failure;
}

/* One start, prepared on the main thread, run on the pool, answered on the main thread. */
typedef struct {
  napi_async_work work;
  napi_ref done;
  char *file;
  char **argv;
  char **envp;
  char *cwd;
  pid_t pid;
  int out[2];
  int err[2];
  int failure;
} Start;

static void free_start(napi_env env, Start *job) {
  if (job->done != NULL) napi_delete_reference(env, job->done);
  if (job->work != NULL) napi_delete_async_work(env, job->work);
  free(job->file);
  free(job->cwd);
  free_strings(job->argv);
  free_strings(job->envp);
  free(job);
}

static void execute_start(napi_env env, void *data) {
  (void)env;
  Start *job = data;
  job->failure = start(job->file, job->argv, job->envp, job->cwd, &job->pid, job->out, job->err);
}

/* What a start answers: [pid, stdoutFd, stderrFd], or [-errno]. */
static napi_value answer_of(napi_env env, const Start *job, int failure) {
  double values[3] = {job->pid, job->out[0], job->err[0]};
  if (failure == 0) return number_array(env, values, 3);
  values[0] = -failure;
  return number_array(env, values, 1);
}

static void complete_start(napi_env env, napi_status status, void *data) {
  Start *job = data;
  napi_value done, global, result;
  if (napi_get_reference_value(env, job->done, &done) == napi_ok && napi_get_global(env, &global) == napi_ok) {
    result = answer_of(env, job, status != napi_ok ? ECANCELED : job->failure);
    napi_call_function(env, global, done, 1, &result, NULL);
  }
  free_start(env, job);
}

/* A start of args[0..3] (file, argv, envp, cwd); NULL, having thrown `usage`, when they are not that. */
static Start *start_of(napi_env env, const napi_value *args, const char *usage) {
  Start *job = calloc(1, sizeof(Start));
  if (job == NULL) {
    napi_throw_error(env, "ENOMEM", "spawn: out of memory");
    return NULL;
  }
  job->file = string_of(env, args[0]);
  job->argv = strings_of(env, args[1]);
  job->envp = strings_of(env, args[2]);
  job->cwd = string_of(env, args[3]);
  if (job->file == NULL || job->argv == NULL || job->envp == NULL || job->cwd == NULL) {
    free_start(env, job);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return job;
}

static napi_value Spawn(napi_env env, napi_callback_info info) {
  napi_value args[5];
  if (!arguments_of(env, info, 5, args, "spawn(file, argv, envp, cwd, done)")) return NULL;
  const char *usage = "spawn(file, argv, envp, cwd, done): strings, arrays of strings, a function";
  Start *job = start_of(env, args, usage);
  if (job == NULL) return NULL;
  if (napi_create_reference(env, args[4], 1, &job->done) != napi_ok) {
    free_start(env, job);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  napi_value name;
  if (napi_create_string_utf8(env, "pilotage_spawn", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute_start, complete_start, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    free_start(env, job);
    napi_throw_error(env, NULL, "spawn: could not queue the start");
    return NULL;
  }
  return NULL;
}

static napi_value SpawnNow(napi_env env, napi_callback_info info) {
  napi_value args[4];
  if (!arguments_of(env, info, 4, args, "spawnNow(file, argv, envp, cwd)")) return NULL;
  Start *job = start_of(env, args, "spawnNow(file, argv, envp, cwd): strings and arrays of strings");
  if (job == NULL) return NULL;
  execute_start(env, job);
  napi_value result = answer_of(env, job, job->failure);
  free_start(env, job);
  return result;
}

static napi_value Reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  int32_t pid = 0;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, args[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "reap(pid): a positive pid");
    return NULL;
  }
  int status = 0;
  pid_t reaped;
  do reaped = waitpid(pid, &status, WNOHANG);
  while (reaped == -1 && errno == EINTR);
  if (reaped == 0) return NULL;
  double values[2] = {-1, 0};
  if (reaped == pid) {
    values[0] = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    values[1] = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return number_array(env, values, 2);
}

static napi_value FirstProgram(napi_env env, napi_callback_info info) {
  napi_value args[1];
  if (!arguments_of(env, info, 1, args, "firstProgram(paths)")) return NULL;
  char **paths = strings_of(env, args[0]);
  if (paths == NULL) {
    napi_throw_type_error(env, NULL, "firstProgram(paths): an array of strings");
    return NULL;
  }
  int found = -ENOENT;
  for (int i = 0; paths[i] != NULL; i++) {
    struct stat info_of;
    if (stat(paths[i], &info_of) != 0 || !S_ISREG(info_of.st_mode)) continue;
    if (access(paths[i], X_OK) == 0) {
      found = i;
      break;
    }
    found = -EACCES;
  }
  free_strings(paths);
  napi_value result;
  napi_create_int32(env, found, &result);
  return result;
}

static napi_value Waitable(napi_env env, napi_callback_info info) {
  (void)info;
  siginfo_t info_of = {0};
  int result;
  do result = waitid(P_ALL, 0, &info_of, WEXITED | WNOHANG | WNOWAIT);
  while (result == -1 && errno == EINTR);
  napi_value pid;
  napi_create_int32(env, result == 0 ? info_of.si_pid : 0, &pid);
  return pid;
}

static napi_value Signal(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  int32_t pid = 0, number = -1;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_int32(env, args[0], &pid) != napi_ok || pid == 0 || pid == -1 ||
      napi_get_value_int32(env, args[1], &number) != napi_ok || number < 0 || number >= NSIG) {
    napi_throw_type_error(env, NULL, "signal(pid, signalNumber): a pid or negated group id, and a signal number");
    return NULL;
  }
  napi_value result;
  napi_create_int32(env, kill(pid, number) == 0 ? 0 : errno, &result);
  return result;
}

static napi_value Exec(napi_env env, napi_callback_info info) {
  napi_value args[3];
  if (!arguments_of(env, info, 3, args, "exec(file, argv, envp)")) return NULL;
  char *file = string_of(env, args[0]);
  char **argv = strings_of(env, args[1]);
  char **envp = strings_of(env, args[2]);
  if (file == NULL || argv == NULL || envp == NULL) {
    free(file);
    free_strings(argv);
    free_strings(envp);
    napi_throw_type_error(env, NULL, "exec(file, argv, envp): a string and two arrays of strings");
    return NULL;
  }
  /* the new program keeps the standard streams (under Node they are marked close-on-exec: the
     new Node found /dev/null there) and starts with no signal blocked, whatever this thread had
     blocked */
  int stdio_flags[3];
  for (int fd = 0; fd < 3; fd++)
    if ((stdio_flags[fd] = fcntl(fd, F_GETFD)) != -1) fcntl(fd, F_SETFD, stdio_flags[fd] & ~FD_CLOEXEC);
  sigset_t none, before;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, &before);
  execve(file, argv, envp);
  int failure = errno;
  pthread_sigmask(SIG_SETMASK, &before, NULL);
  for (int fd = 0; fd < 3; fd++)
    if (stdio_flags[fd] != -1) fcntl(fd, F_SETFD, stdio_flags[fd]);
  free(file);
  free_strings(argv);
  free_strings(envp);
  napi_value result;
  napi_create_int32(env, failure, &result);
  return result;
}

static napi_value Trim(napi_env env, napi_callback_info info) {
  (void)info;
  bool released = false;
#ifdef __GLIBC__
  released = malloc_trim(0) == 1;
#endif
  napi_value result;
  napi_get_boolean(env, released, &result);
  return result;
}

static napi_value Batch(napi_env env, napi_callback_info info) {
  (void)info;
  struct sched_param param = {.sched_priority = 0};
  int failure = 0;
  DIR *tasks = opendir("/proc/self/task");
  if (tasks == NULL) {
    failure = errno;
  } else {
    for (struct dirent *task; (task = readdir(tasks)) != NULL;) {
      pid_t tid = (pid_t)atoi(task->d_name);
      /* a thread that ended meanwhile is no failure */
      if (tid > 0 && sched_setscheduler(tid, SCHED_BATCH, &param) != 0 && errno != ESRCH) failure = errno;
    }
    closedir(tasks);
  }
  /* threads made later (libuv's pool, on first use) and components inherit it */
  napi_value result;
  napi_create_int32(env, failure, &result);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"spawn", NULL, Spawn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"spawnNow", NULL, SpawnNow, NULL, NULL, NULL, napi_enumerable, NULL},
      {"firstProgram", NULL, FirstProgram, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reap", NULL, Reap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"waitable", NULL, Waitable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"signal", NULL, Signal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"exec", NULL, Exec, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trim", NULL, Trim, NULL, NULL, NULL, napi_enumerable, NULL},
      {"batch", NULL, Batch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(functions) / sizeof(functions[0]), functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
