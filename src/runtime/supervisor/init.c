/*
 * reddwarf zone supervisor: the init process reddwarf installs into every pod's zone.
 *
 * It reads the pod bundle under /.reddwarf (layout: src/runtime/supervisor/bundle.ts), runs the
 * init containers one by one to exit 0, then the app containers; restarts them per restartPolicy
 * with Kubernetes' back-off; writes each container's stdout/stderr as CRI log lines; records
 * every start and exit in containers/<name>/status.json; acts on control/stop and
 * control/restart-<name>. It never exits on its own: the agent halts the zone.
 *
 * Before any container starts it brings up the pod's network (pod.conf `network`): a zone booted
 * with this init runs no SMF, so nothing else would configure its exclusive-IP address.
 *
 * Portable POSIX C (illumos and Linux), libc only. One thread; a poll() loop with a self-pipe for
 * SIGCHLD/SIGTERM and a timeout of at most 250 ms, so the control directory is seen quickly and
 * nothing spins.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#include <sys/mount.h>
#include <sys/prctl.h>
#endif
#if defined(__sun)
#define __EXTENSIONS__
#include <sys/mount.h>
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BASE "/.reddwarf"
#define MAX_CONTAINERS 64
#define MAX_NAME 253
#define LINE_MAX_BYTES (16 * 1024) /* CRI: longer lines are split into P parts */
#define READ_CHUNK (64 * 1024)
#define CONTROL_POLL_MS 250
#define MAX_BACKOFF_MS 300000L
#define BACKOFF_RESET_MS 600000L /* kubelet forgets the back-off after 10 min without a crash */
#define DEFAULT_GRACE_S 30
#define MAX_FILE (1024 * 1024) /* argv / env files */

enum policy { P_ALWAYS, P_ONFAILURE, P_NEVER };
enum cstate { S_NONE, S_RUNNING, S_WAITING, S_TERMINATED };

struct stream {
	int fd; /* read end of the pipe, -1 when closed */
	const char *label; /* "stdout" | "stderr" */
	size_t len;
	char buf[LINE_MAX_BYTES];
};

struct term {
	int set;
	int exit_code, sig;
	struct timespec started, finished;
	char reason[32];
};

struct container {
	char name[MAX_NAME + 1];
	int is_init;
	enum cstate state;
	pid_t pid;
	long instance; /* -1: never started */
	struct timespec started;
	struct term now; /* the termination shown in state (terminated) */
	struct term last; /* lastState */
	char reason[32];
	long backoff_ms; /* the next back-off */
	long wait_ms; /* the back-off now being waited */
	long long start_at; /* monotonic ms of a scheduled start, 0 = none */
	long long kill_at; /* monotonic ms to SIGKILL a stopping container, 0 = none */
	int restart_requested; /* restart-<name>: start again at once after it exits */
	char root[PATH_MAX]; /* the root this instance runs in ("/" or its own) */
	int done; /* init container finished with 0 */
	struct stream out, err;
	int log_fd;
	long long log_size;
};

static enum policy restart_policy = P_ALWAYS;
static long backoff_initial_ms = 10000;
static long long log_max_bytes = 10485760LL;
static long log_max_files = 5;
static struct container containers[MAX_CONTAINERS];
static int ncontainers;
static int stopping; /* control/stop or SIGTERM: no more starts */
static int pod_failed; /* an init container failed under restartPolicy Never */
static int apps_started;

/* The pod's network (pod.conf `network <link> <ip>/<prefix> <gateway>`). */
static struct {
	int set; /* a network line was given */
	int ready; /* configured: containers may start */
	char link[64];
	char ip[16];
	int prefix;
	char gateway[16];
	long backoff_ms; /* the next retry's delay */
	long long retry_at; /* monotonic ms of the next attempt, 0 = none */
	char error[256]; /* why the last attempt failed (status message) */
} net;
#define NET_MAX_BACKOFF_MS 30000L /* a pod without network is retried at least every 30 s */
#define NET_TOOL_TIMEOUT_MS 30000LL
static int sigpipe_fds[2] = {-1, -1};
static volatile sig_atomic_t got_term;

/* ---------- small utilities ---------- */

static void logmsg(const char *fmt, ...)
{
	/* Our own diagnostics go to the console (stderr of init); nobody may be reading it. */
	va_list ap;
	va_start(ap, fmt);
	fputs("reddwarf-init: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void now_real(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/* RFC3339 with nanoseconds, UTC: 2024-05-01T10:00:00.123456789Z (buf >= 40). */
static void fmt_time(const struct timespec *ts, char *buf, size_t n)
{
	struct tm tm;
	time_t t = ts->tv_sec;
	gmtime_r(&t, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%09ldZ", (long)ts->tv_nsec);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void set_flags(int fd)
{
	fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Reads a whole small file (NUL-terminated copy in *out); -1 with errno on failure. */
static ssize_t read_file(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_FILE) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return -1;
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return -1;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
}

/* The first line of a small file, trimmed of its newline; def when the file is missing. */
static int read_line(const char *path, char *out, size_t n, const char *def)
{
	char *buf;
	if (read_file(path, &buf) < 0) {
		if (errno != ENOENT || !def)
			return -1;
		snprintf(out, n, "%s", def);
		return 0;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	snprintf(out, n, "%s", buf[0] ? buf : (def ? def : ""));
	free(buf);
	return 0;
}

/* Splits NUL-separated entries into a NULL-terminated vector (a trailing NUL is optional). */
static char **split_nul(char *buf, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			n++;
	if (len > 0 && buf[len - 1] != '\0')
		n++;
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return NULL;
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= len && k < n; i++) {
		if (i == len || buf[i] == '\0') {
			if (i > start || i < len)
				v[k++] = buf + start;
			start = i + 1;
		}
	}
	v[k] = NULL;
	return v;
}

static void mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, mode);
			*p = '/';
		}
	}
	mkdir(tmp, mode);
}

static const char *json_str(const char *s, char *out, size_t n)
{
	size_t k = 0;
	for (; *s && k + 7 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c < 0x20) {
			k += (size_t)snprintf(out + k, n - k, "\\u%04x", c);
		} else
			out[k++] = (char)c;
	}
	out[k] = '\0';
	return out;
}

/* ---------- status.json ---------- */

static size_t fmt_term(char *b, size_t n, const struct term *t)
{
	char s[48], f[48];
	fmt_time(&t->started, s, sizeof s);
	fmt_time(&t->finished, f, sizeof f);
	return (size_t)snprintf(b, n, "{\"exitCode\":%d,\"signal\":%d,\"startedAt\":\"%s\",\"finishedAt\":\"%s\",\"reason\":\"%s\"}",
				t->exit_code, t->sig, s, f, t->reason);
}

static void write_status(struct container *c)
{
	char b[4096], name[2 * MAX_NAME + 8], ts[48];
	size_t k = 0;
	/* Never started: no status, unless it waits for something (the network) before its first start. */
	if (c->instance < 0 && c->state != S_WAITING)
		return;
	long inst = c->instance < 0 ? 0 : c->instance;
	k += (size_t)snprintf(b + k, sizeof b - k, "{\"name\":\"%s\",\"instance\":%ld,\"restartCount\":%ld,",
			      json_str(c->name, name, sizeof name), inst, inst);
	switch (c->state) {
	case S_RUNNING:
		fmt_time(&c->started, ts, sizeof ts);
		k += (size_t)snprintf(b + k, sizeof b - k, "\"state\":\"running\",\"pid\":%ld,\"startedAt\":\"%s\",", (long)c->pid, ts);
		break;
	case S_WAITING:
		k += (size_t)snprintf(b + k, sizeof b - k, "\"state\":\"waiting\",\"reason\":\"%s\",", c->reason);
		if (strcmp(c->reason, "CrashLoopBackOff") == 0)
			k += (size_t)snprintf(b + k, sizeof b - k, "\"message\":\"back-off %lds restarting failed container=%s\",",
					      (c->wait_ms + 999) / 1000, name);
		else if (strcmp(c->reason, "NetworkNotReady") == 0) {
			char msg[2 * sizeof net.error];
			k += (size_t)snprintf(b + k, sizeof b - k, "\"message\":\"network is not ready: %s\",", json_str(net.error, msg, sizeof msg));
		}
		break;
	case S_TERMINATED:
	default: {
		char s[48], f[48];
		fmt_time(&c->now.started, s, sizeof s);
		fmt_time(&c->now.finished, f, sizeof f);
		k += (size_t)snprintf(b + k, sizeof b - k,
				      "\"state\":\"terminated\",\"reason\":\"%s\",\"pid\":%ld,\"startedAt\":\"%s\",\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\",",
				      c->now.reason, (long)c->pid, s, c->now.exit_code, c->now.sig, f);
		break;
	}
	}
	k += (size_t)snprintf(b + k, sizeof b - k, "\"last\":");
	if (c->last.set)
		k += fmt_term(b + k, sizeof b - k, &c->last);
	else
		k += (size_t)snprintf(b + k, sizeof b - k, "null");
	k += (size_t)snprintf(b + k, sizeof b - k, "}\n");
	if (k >= sizeof b)
		k = sizeof b - 1;

	char path[PATH_MAX], tmp[PATH_MAX];
	snprintf(path, sizeof path, BASE "/containers/%s/status.json", c->name);
	snprintf(tmp, sizeof tmp, BASE "/containers/%s/.status.json.tmp", c->name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		logmsg("%s: %s", tmp, strerror(errno));
		return;
	}
	if (write_all(fd, b, k) < 0 || close(fd) < 0) {
		logmsg("%s: %s", tmp, strerror(errno));
		return;
	}
	if (rename(tmp, path) < 0)
		logmsg("rename %s: %s", path, strerror(errno));
}

/* ---------- CRI logs ---------- */

static void log_path(const struct container *c, long instance, int rotated, char *out, size_t n)
{
	if (rotated > 0)
		snprintf(out, n, BASE "/logs/%s/%ld.log.%d", c->name, instance, rotated);
	else
		snprintf(out, n, BASE "/logs/%s/%ld.log", c->name, instance);
}

static void log_open(struct container *c)
{
	char path[PATH_MAX];
	log_path(c, c->instance, 0, path, sizeof path);
	c->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	c->log_size = 0;
	if (c->log_fd < 0) {
		logmsg("%s: %s", path, strerror(errno));
		return;
	}
	struct stat st;
	if (fstat(c->log_fd, &st) == 0)
		c->log_size = st.st_size;
}

/* <instance>.log → .1 → .2 …; at most logMaxFiles-1 rotated files stay. */
static void log_rotate(struct container *c)
{
	char from[PATH_MAX], to[PATH_MAX];
	if (c->log_fd >= 0)
		close(c->log_fd);
	c->log_fd = -1;
	long keep = log_max_files - 1;
	if (keep <= 0) {
		log_path(c, c->instance, 0, from, sizeof from);
		unlink(from);
	} else {
		log_path(c, c->instance, (int)keep, to, sizeof to);
		unlink(to);
		for (long i = keep - 1; i >= 0; i--) {
			log_path(c, c->instance, (int)i, from, sizeof from);
			log_path(c, c->instance, (int)i + 1, to, sizeof to);
			rename(from, to);
		}
	}
	log_open(c);
}

/* Only the current and the previous instance are kept (kubectl logs --previous). */
static void log_prune(struct container *c)
{
	char dir[PATH_MAX], path[PATH_MAX];
	snprintf(dir, sizeof dir, BASE "/logs/%s", c->name);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		long inst = strtol(e->d_name, &end, 10);
		if (strncmp(end, ".log", 4) != 0 || inst >= c->instance - 1)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

static void log_line(struct container *c, const char *label, const char *tag, const char *text, size_t len)
{
	char ts[48], head[80];
	struct timespec now;
	if (c->log_fd < 0)
		return;
	now_real(&now);
	fmt_time(&now, ts, sizeof ts);
	int h = snprintf(head, sizeof head, "%s %s %s ", ts, label, tag);
	long long total = h + (long long)len + 1;
	if (c->log_size > 0 && c->log_size + total > log_max_bytes) {
		log_rotate(c);
		if (c->log_fd < 0)
			return;
	}
	/* One writev-like buffer so a reader never sees half a line head. */
	char *line = malloc((size_t)total);
	if (!line)
		return;
	memcpy(line, head, (size_t)h);
	memcpy(line + h, text, len);
	line[total - 1] = '\n';
	if (write_all(c->log_fd, line, (size_t)total) == 0)
		c->log_size += total;
	free(line);
}

/* Splits what a stream delivered into F lines; a line longer than 16 KiB leaves as P parts. */
static void stream_feed(struct container *c, struct stream *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			log_line(c, s->label, "F", s->buf, s->len);
			s->len = 0;
			continue;
		}
		s->buf[s->len++] = p[i];
		if (s->len == LINE_MAX_BYTES) {
			log_line(c, s->label, "P", s->buf, s->len);
			s->len = 0;
		}
	}
}

/*
 * Reads what is there (non-blocking, at most 64 reads a call). On EOF or error, or when `final`
 * (the container is gone), flushes a partial line and closes; otherwise an empty pipe just returns
 * (a container that closed its stdout while running is seen here as EOF and stops being polled).
 */
static void stream_drain(struct container *c, struct stream *s, int final)
{
	static char chunk[READ_CHUNK];
	if (s->fd < 0)
		return;
	for (int rounds = 0; rounds < 64; rounds++) {
		ssize_t r = read(s->fd, chunk, sizeof chunk);
		if (r > 0) {
			stream_feed(c, s, chunk, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !final)
			return;
		goto done; /* EOF, error, or the container is gone and nothing is left */
	}
	if (!final)
		return; /* bounded: more next round */
done:
	if (s->len > 0)
		log_line(c, s->label, "P", s->buf, s->len);
	s->len = 0;
	close(s->fd);
	s->fd = -1;
}

/* ---------- the container child ---------- */

static void child_fail(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof msg - 2)
		n = (int)sizeof msg - 2;
	msg[n++] = '\n';
	write_all(2, msg, (size_t)n);
	_exit(code);
}

static const char *env_get(char **envp, const char *key)
{
	size_t kl = strlen(key);
	for (; envp && *envp; envp++)
		if (strncmp(*envp, key, kl) == 0 && (*envp)[kl] == '=')
			return *envp + kl + 1;
	return NULL;
}

/* execve, searching PATH from the container's env when argv[0] has no slash (as runc does). */
static void exec_in_path(char **argv, char **envp)
{
	const char *prog = argv[0];
	if (strchr(prog, '/')) {
		execve(prog, argv, envp);
		child_fail(127, "exec failed: unable to start container process: exec: \"%s\": %s", prog, strerror(errno));
	}
	const char *path = env_get(envp, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	int saw_eacces = 0;
	const char *p = path;
	for (;;) {
		const char *colon = strchr(p, ':');
		size_t dl = colon ? (size_t)(colon - p) : strlen(p);
		char full[PATH_MAX];
		if (dl == 0)
			snprintf(full, sizeof full, "%s", prog);
		else
			snprintf(full, sizeof full, "%.*s/%s", (int)dl, p, prog);
		execve(full, argv, envp);
		if (errno == EACCES)
			saw_eacces = 1;
		if (!colon)
			break;
		p = colon + 1;
	}
	if (saw_eacces)
		child_fail(127, "exec failed: unable to start container process: exec: \"%s\": permission denied", prog);
	child_fail(127, "exec failed: unable to start container process: exec: \"%s\": executable file not found in $PATH", prog);
}

/*
 * A container with its own root still needs the zone's /dev and /proc (runc mounts them too):
 * bind them in (lofs on illumos) unless that root already shows them. Failure is not fatal: the
 * program may not need them, and the zone may lack the privilege to mount.
 */
static void bind_system_dirs(const char *root)
{
	static const char *dirs[] = {"/dev", "/proc"};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char target[PATH_MAX];
		struct stat a, b;
		snprintf(target, sizeof target, "%s%s", root, dirs[i]);
		mkdir(target, 0755);
		if (stat(dirs[i], &a) < 0 || stat(target, &b) < 0)
			continue;
		if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			continue;
#if defined(__linux__)
		(void)mount(dirs[i], target, NULL, MS_BIND | MS_REC, NULL);
#elif defined(__sun)
		(void)mount(dirs[i], target, MS_DATA, "lofs", NULL, 0, NULL, 0);
#endif
	}
}

/* runc's rule: without HOME in the env, the user's home from the root's /etc/passwd, else "/". */
static char **with_home(char **envp, unsigned long uid)
{
	size_t n = 0;
	for (; envp[n]; n++)
		if (strncmp(envp[n], "HOME=", 5) == 0)
			return envp;
	char home[PATH_MAX] = "/", line[2048];
	FILE *f = fopen("/etc/passwd", "r");
	if (f) {
		while (fgets(line, sizeof line, f)) {
			/* name:passwd:uid:gid:gecos:dir:shell */
			char *field[7] = {0}, *p = line;
			int k = 0;
			for (; k < 7 && p; k++) {
				field[k] = p;
				p = strchr(p, ':');
				if (p)
					*p++ = '\0';
			}
			if (k < 6 || !field[2] || !field[5])
				continue;
			char *end;
			unsigned long u = strtoul(field[2], &end, 10);
			if (end == field[2] || *end || u != uid)
				continue;
			field[5][strcspn(field[5], "\r\n")] = '\0';
			if (field[5][0])
				snprintf(home, sizeof home, "%s", field[5]);
			break;
		}
		fclose(f);
	}
	char **v = realloc(envp, (n + 2) * sizeof(char *));
	char *entry = malloc(strlen(home) + 6);
	if (!v || !entry)
		return envp;
	sprintf(entry, "HOME=%s", home);
	v[n] = entry;
	v[n + 1] = NULL;
	return v;
}

/*
 * Undoes bind_system_dirs when an instance ends: its root may be replaced (a new image) and a
 * mount inside would keep the old one busy. The next start binds again.
 */
static void unbind_system_dirs(const char *root)
{
	static const char *dirs[] = {"/proc", "/dev"};
	if (!root[0] || strcmp(root, "/") == 0)
		return;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char target[PATH_MAX];
		struct stat a, b;
		snprintf(target, sizeof target, "%s%s", root, dirs[i]);
		/* Bound when it shows the zone's own directory (st_dev alone cannot tell a bind on the same filesystem). */
		if (stat(target, &a) < 0 || stat(dirs[i], &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
			continue;
#if defined(__linux__)
		(void)umount2(target, MNT_DETACH);
#elif defined(__sun)
		(void)umount2(target, MS_FORCE);
#endif
	}
}

static void run_child(struct container *c, int outw, int errw)
{
	char dir[PATH_MAX], path[PATH_MAX], root[PATH_MAX], cwd[PATH_MAX], user[64];
	char *argbuf, *envbuf;
	ssize_t alen, elen;

	/* Back to default dispositions and an empty mask: the program must not inherit ours. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	setsid();
	int nullfd = open("/dev/null", O_RDONLY);
	if (nullfd >= 0 && nullfd != 0) {
		dup2(nullfd, 0);
		close(nullfd);
	} else if (nullfd < 0)
		close(0);
	dup2(outw, 1);
	dup2(errw, 2);
	if (outw > 2)
		close(outw);
	if (errw > 2 && errw != outw)
		close(errw);

	snprintf(dir, sizeof dir, BASE "/containers/%s", c->name);
	snprintf(path, sizeof path, "%s/argv", dir);
	if ((alen = read_file(path, &argbuf)) < 0)
		child_fail(128, "reddwarf: container %s: cannot read %s: %s", c->name, path, strerror(errno));
	snprintf(path, sizeof path, "%s/env", dir);
	if ((elen = read_file(path, &envbuf)) < 0) {
		if (errno != ENOENT)
			child_fail(128, "reddwarf: container %s: cannot read %s: %s", c->name, path, strerror(errno));
		envbuf = calloc(1, 1);
		elen = 0;
	}
	snprintf(path, sizeof path, "%s/root", dir);
	if (read_line(path, root, sizeof root, "/") < 0)
		child_fail(128, "reddwarf: container %s: cannot read %s: %s", c->name, path, strerror(errno));
	snprintf(path, sizeof path, "%s/cwd", dir);
	if (read_line(path, cwd, sizeof cwd, "/") < 0)
		child_fail(128, "reddwarf: container %s: cannot read %s: %s", c->name, path, strerror(errno));
	snprintf(path, sizeof path, "%s/user", dir);
	if (read_line(path, user, sizeof user, "0:0") < 0)
		child_fail(128, "reddwarf: container %s: cannot read %s: %s", c->name, path, strerror(errno));

	char **argv = split_nul(argbuf, (size_t)alen);
	char **envp = split_nul(envbuf, (size_t)elen);
	if (!argv || !envp)
		child_fail(128, "reddwarf: container %s: out of memory", c->name);
	if (!argv[0] || !argv[0][0])
		child_fail(128, "reddwarf: container %s: empty argv", c->name);

	char *end;
	errno = 0;
	unsigned long uid = strtoul(user, &end, 10);
	unsigned long gid = uid;
	if (end == user || errno)
		child_fail(128, "reddwarf: container %s: invalid user \"%s\" (want uid:gid)", c->name, user);
	if (*end == ':') {
		char *g = end + 1;
		gid = strtoul(g, &end, 10);
		if (end == g)
			child_fail(128, "reddwarf: container %s: invalid user \"%s\" (want uid:gid)", c->name, user);
	}

	if (strcmp(root, "/") != 0) {
		bind_system_dirs(root);
		if (chroot(root) < 0)
			child_fail(128, "reddwarf: container %s: chroot %s: %s", c->name, root, strerror(errno));
	}
	/* runc creates a missing working directory; so do we (as root, before dropping privileges). */
	if (chdir(cwd) < 0) {
		mkdir_p(cwd, 0755);
		if (chdir(cwd) < 0)
			child_fail(128, "reddwarf: container %s: chdir to cwd (\"%s\") set in config: %s", c->name, cwd, strerror(errno));
	}
	envp = with_home(envp, uid);
	gid_t groups[1] = {(gid_t)gid};
	if (setgroups(1, groups) < 0 && geteuid() == 0)
		child_fail(128, "reddwarf: container %s: setgroups: %s", c->name, strerror(errno));
	if (getegid() != (gid_t)gid && setgid((gid_t)gid) < 0)
		child_fail(128, "reddwarf: container %s: setgid %lu: %s", c->name, gid, strerror(errno));
	if (geteuid() != (uid_t)uid && setuid((uid_t)uid) < 0)
		child_fail(128, "reddwarf: container %s: setuid %lu: %s", c->name, uid, strerror(errno));
	exec_in_path(argv, envp);
}

/* ---------- the supervisor ---------- */

static void start(struct container *c)
{
	int outp[2], errp[2];
	if (pipe(outp) < 0)
		goto fail;
	if (pipe(errp) < 0) {
		close(outp[0]);
		close(outp[1]);
		goto fail;
	}
	c->instance++;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, BASE "/logs/%s", c->name);
	mkdir_p(dir, 0750);
	if (c->log_fd >= 0)
		close(c->log_fd);
	log_open(c);
	log_prune(c);

	pid_t pid = fork();
	if (pid < 0) {
		c->instance--;
		close(outp[0]);
		close(outp[1]);
		close(errp[0]);
		close(errp[1]);
		goto fail;
	}
	if (pid == 0) {
		close(outp[0]);
		close(errp[0]);
		close(sigpipe_fds[0]);
		close(sigpipe_fds[1]);
		run_child(c, outp[1], errp[1]);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	set_flags(outp[0]);
	set_flags(errp[0]);
	c->out.fd = outp[0];
	c->out.len = 0;
	c->err.fd = errp[0];
	c->err.len = 0;
	c->pid = pid;
	{
		char path[PATH_MAX];
		snprintf(path, sizeof path, BASE "/containers/%s/root", c->name);
		if (read_line(path, c->root, sizeof c->root, "/") < 0)
			c->root[0] = '\0';
	}
	c->state = S_RUNNING;
	c->start_at = 0;
	c->kill_at = 0;
	c->restart_requested = 0;
	now_real(&c->started);
	write_status(c);
	return;
fail:
	/* Out of fds or processes: try again after the back-off rather than spin. */
	logmsg("%s: cannot start: %s", c->name, strerror(errno));
	c->start_at = mono_ms() + backoff_initial_ms;
}

static void schedule_backoff(struct container *c)
{
	c->start_at = mono_ms() + c->backoff_ms;
	c->wait_ms = c->backoff_ms;
	c->state = S_WAITING;
	snprintf(c->reason, sizeof c->reason, "CrashLoopBackOff");
	c->backoff_ms = c->backoff_ms * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : c->backoff_ms * 2;
}

static void start_apps(void)
{
	apps_started = 1;
	for (int i = 0; i < ncontainers; i++)
		if (!containers[i].is_init && !stopping)
			start(&containers[i]);
}

/* The next init container to run, or start the apps when all are done. */
static void advance_inits(void)
{
	if (stopping || pod_failed || apps_started || (net.set && !net.ready))
		return;
	for (int i = 0; i < ncontainers; i++) {
		struct container *c = &containers[i];
		if (!c->is_init || c->done)
			continue;
		if (c->state == S_NONE)
			start(c);
		return;
	}
	start_apps();
}

static void on_exit_status(struct container *c, int status)
{
	struct timespec fin;
	now_real(&fin);
	/* Leftovers of the container (its session) go with it, as with a container's PID namespace. */
	kill(-c->pid, SIGKILL);
	stream_drain(c, &c->out, 1);
	stream_drain(c, &c->err, 1);
	unbind_system_dirs(c->root);

	/* `last` still holds the exit before this run: lastState while this one is terminated. */
	struct term *t = &c->now;
	t->set = 1;
	t->started = c->started;
	t->finished = fin;
	if (WIFSIGNALED(status)) {
		t->sig = WTERMSIG(status);
		t->exit_code = 128 + t->sig;
	} else {
		t->sig = 0;
		t->exit_code = WEXITSTATUS(status);
	}
	snprintf(t->reason, sizeof t->reason, "%s", t->exit_code == 0 ? "Completed" : "Error");
	c->kill_at = 0;

	long long ran_ms = (long long)(fin.tv_sec - c->started.tv_sec) * 1000 + (fin.tv_nsec - c->started.tv_nsec) / 1000000;
	if (ran_ms >= BACKOFF_RESET_MS)
		c->backoff_ms = backoff_initial_ms;

	int failed = t->exit_code != 0;
	int again;
	if (c->restart_requested && !stopping) {
		c->state = S_TERMINATED;
		c->last = c->now;
		c->now.set = 0;
		start(c);
		return;
	}
	if (stopping)
		again = 0;
	else if (c->is_init)
		again = failed && restart_policy != P_NEVER; /* an init container is retried until it succeeds */
	else
		again = restart_policy == P_ALWAYS || (restart_policy == P_ONFAILURE && failed);

	if (again) {
		/* Waiting: the exit just recorded becomes lastState. */
		c->last = c->now;
		c->now.set = 0;
		schedule_backoff(c);
		write_status(c);
		return;
	}
	c->state = S_TERMINATED;
	write_status(c);
	if (c->is_init && !stopping) {
		if (failed) {
			pod_failed = 1;
			logmsg("init container %s failed (exit %d) and restartPolicy is Never: the pod has failed", c->name, t->exit_code);
		} else {
			c->done = 1;
			advance_inits();
		}
	}
}

static void reap(void)
{
	for (int guard = 0; guard < 4096; guard++) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		for (int i = 0; i < ncontainers; i++) {
			if (containers[i].pid == pid && containers[i].state == S_RUNNING) {
				on_exit_status(&containers[i], status);
				break;
			}
		}
		/* Anything else is an orphan we inherited as init: reaped, nothing to record. */
	}
}

static long grace_from(const char *path)
{
	char line[64];
	if (read_line(path, line, sizeof line, "") < 0 || !line[0])
		return DEFAULT_GRACE_S;
	char *end;
	long g = strtol(line, &end, 10);
	return (end == line || g < 0) ? DEFAULT_GRACE_S : g;
}

static void terminate(struct container *c, long grace_s)
{
	if (c->state != S_RUNNING || c->pid <= 0)
		return;
	kill(c->pid, SIGTERM);
	long long at = mono_ms() + grace_s * 1000;
	/* A second request never extends an earlier deadline. */
	if (c->kill_at == 0 || at < c->kill_at)
		c->kill_at = at == 0 ? 1 : at;
}

static void stop_all(long grace_s)
{
	stopping = 1;
	for (int i = 0; i < ncontainers; i++) {
		struct container *c = &containers[i];
		c->start_at = 0;
		c->restart_requested = 0;
		if (c->state == S_WAITING && c->last.set) {
			/* No restart will come: its last exit is now its final state. */
			c->now = c->last;
			c->last.set = 0;
			c->state = S_TERMINATED;
			write_status(c);
		}
		terminate(c, grace_s);
	}
}

static void check_control(void)
{
	DIR *d = opendir(BASE "/control");
	if (!d)
		return;
	struct dirent *e;
	char path[PATH_MAX];
	while ((e = readdir(d)) != NULL) {
		snprintf(path, sizeof path, BASE "/control/%s", e->d_name);
		if (strcmp(e->d_name, "stop") == 0) {
			/* The file stays: it is the pod's state, not an event. */
			if (!stopping)
				stop_all(grace_from(path));
		} else if (strncmp(e->d_name, "restart-", 8) == 0) {
			const char *name = e->d_name + 8;
			long grace = grace_from(path);
			unlink(path);
			if (stopping)
				continue;
			for (int i = 0; i < ncontainers; i++) {
				struct container *c = &containers[i];
				if (strcmp(c->name, name) != 0)
					continue;
				if (c->state == S_RUNNING) {
					c->restart_requested = 1;
					terminate(c, grace);
				} else if (!c->is_init && apps_started) {
					if (c->now.set) {
						c->last = c->now;
						c->now.set = 0;
					}
					start(c);
				}
			}
		}
	}
	closedir(d);
}

static void on_signal(int sig)
{
	int saved = errno;
	if (sig == SIGTERM)
		got_term = 1;
	char b = (char)sig;
	(void)!write(sigpipe_fds[1], &b, 1);
	errno = saved;
}

/* ---------- the pod's network ---------- */

/* A dotted quad, each part 0-255 (no inet_pton: it is not in every libc's default link set). */
static int valid_ipv4(const char *s)
{
	int parts = 0;
	while (parts < 4) {
		int v = 0, digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return 0;
		parts++;
		if (parts < 4 && *s++ != '.')
			return 0;
	}
	return *s == '\0';
}

/* `network <link> <ip>/<prefix> <gateway>`; an invalid line is a network that never gets ready. */
static void parse_network(const char *line)
{
	char link[64], addr[64], gw[64];
	net.set = 1;
	net.backoff_ms = backoff_initial_ms;
	if (sscanf(line, "%*s %63s %63s %63s", link, addr, gw) != 3) {
		snprintf(net.error, sizeof net.error, "pod.conf: network line needs <link> <ip>/<prefix> <gateway>");
		return;
	}
	char *slash = strchr(addr, '/');
	char *end = NULL;
	long prefix = slash ? strtol(slash + 1, &end, 10) : -1;
	if (slash)
		*slash = '\0';
	int link_ok = link[0] != '\0' && strspn(link, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.") == strlen(link);
	if (!link_ok || !valid_ipv4(addr) || !slash || end == slash + 1 || *end || prefix < 0 || prefix > 32 || !valid_ipv4(gw)) {
		snprintf(net.error, sizeof net.error, "pod.conf: invalid network line \"%.150s\"", line);
		return;
	}
	snprintf(net.link, sizeof net.link, "%s", link);
	snprintf(net.ip, sizeof net.ip, "%s", addr);
	net.prefix = (int)prefix;
	snprintf(net.gateway, sizeof net.gateway, "%s", gw);
}

#if defined(__sun)
/*
 * Runs one native tool to completion (bounded: SIGKILL after NET_TOOL_TIMEOUT_MS); its output goes
 * to our console. Returns its exit status, or -1 when it could not run or was killed.
 */
static int run_tool(char *const argv[], char *const envp[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int nullfd = open("/dev/null", O_RDONLY);
		if (nullfd > 0) {
			dup2(nullfd, 0);
			close(nullfd);
		}
		dup2(2, 1);
		execve(argv[0], argv, envp);
		child_fail(127, "reddwarf-init: network: exec %s: %s", argv[0], strerror(errno));
	}
	long long deadline = mono_ms() + NET_TOOL_TIMEOUT_MS;
	for (;;) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (mono_ms() >= deadline) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return -1;
		}
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* Fails the attempt with a message for the console and the containers' status. */
static int net_fail(const char *step, char *const argv[], int rc)
{
	char cmd[200];
	size_t k = 0;
	cmd[0] = '\0';
	for (int i = 0; argv[i] && k < sizeof cmd; i++)
		k += (size_t)snprintf(cmd + k, sizeof cmd - k, "%s%s", i ? " " : "", argv[i]);
	if (rc < 0)
		snprintf(net.error, sizeof net.error, "%s failed: %.150s did not run, died or timed out", step, cmd);
	else
		snprintf(net.error, sizeof net.error, "%s failed: %.150s exited %d", step, cmd, rc);
	return -1;
}

/*
 * The illumos way, as SmartOS's dockerinit does it: ipmgmtd (which SMF would run) for ipadm, the
 * loopback and the pod's VNIC (temporary address objects: every boot configures them afresh), and
 * the default route. Each step checks first, so a retry after a partial failure goes on from there.
 * In an lx zone the tools are the native ones under /native, run with lx's native thunk.
 * Unconfirmed on a real host: the thunk environment for ipadm/route (dockerinit links libipadm
 * itself and uses the thunk for ipmgmtd only), whether /etc/svc/volatile exists in a native zone
 * booted without SMF, and that the door file tells a running ipmgmtd.
 * The tools run synchronously: no container runs yet, so waiting on them only delays a stop
 * request (by at most NET_TOOL_TIMEOUT_MS per step).
 */
static int net_configure(void)
{
	int lx = access("/native/usr/lib/brand/lx", F_OK) == 0;
	char *ipadm = lx ? "/native/usr/sbin/ipadm" : "/usr/sbin/ipadm";
	char *route = lx ? "/native/usr/sbin/route" : "/usr/sbin/route";
	char *ipmgmtd = lx ? "/native/lib/inet/ipmgmtd" : "/lib/inet/ipmgmtd";
	const char *door = lx ? "/native/etc/svc/volatile/ipadm/ipmgmt_door" : "/etc/svc/volatile/ipadm/ipmgmt_door";
	static char *env_os[] = {"PATH=/usr/sbin:/usr/bin:/sbin", "SMF_FMRI=svc:/network/ip-interface-management:default", NULL};
	static char *env_lx[] = {
		"PATH=/native/usr/sbin:/native/usr/bin:/native/sbin",
		"SMF_FMRI=svc:/network/ip-interface-management:default",
		"LD_NOENVIRON=1",
		"LD_NOCONFIG=1",
		"LD_LIBRARY_PATH_32=/native/lib:/native/usr/lib",
		"LD_PRELOAD_32=/native/usr/lib/brand/lx/lx_thunk.so.1",
		NULL,
	};
	char **env = lx ? env_lx : env_os;
	char addr[32], obj[96], lo[] = "lo0", loobj[] = "lo0/v4", loaddr[] = "127.0.0.1/8";
	snprintf(addr, sizeof addr, "%s/%d", net.ip, net.prefix);
	snprintf(obj, sizeof obj, "%s/v4", net.link);
	int rc;

	if (access(door, F_OK) != 0) {
		/* ipmgmtd daemonizes: its first process exits once the door is up. */
		char *a[] = {ipmgmtd, NULL};
		if ((rc = run_tool(a, env)) != 0)
			return net_fail("starting ipmgmtd", a, rc);
	}
	struct {
		const char *step;
		char *check[6];
		char *act[9];
	} steps[] = {
		{"plumbing lo0", {ipadm, "show-if", lo, NULL}, {ipadm, "create-if", "-t", lo, NULL}},
		{"addressing lo0", {ipadm, "show-addr", loobj, NULL}, {ipadm, "create-addr", "-t", "-T", "static", "-a", loaddr, loobj, NULL}},
		{"plumbing the pod's link", {ipadm, "show-if", net.link, NULL}, {ipadm, "create-if", "-t", net.link, NULL}},
		{"addressing the pod's link", {ipadm, "show-addr", obj, NULL}, {ipadm, "create-addr", "-t", "-T", "static", "-a", addr, obj, NULL}},
		{"adding the default route", {route, "-n", "get", "default", NULL}, {route, "-n", "add", "default", net.gateway, NULL}},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (run_tool(steps[i].check, env) == 0)
			continue;
		if ((rc = run_tool(steps[i].act, env)) != 0)
			return net_fail(steps[i].step, steps[i].act, rc);
	}
	return 0;
}
#else
/*
 * Not illumos (the simulated host): the zone shares the host's network, which is not ours to
 * change. Record what would be configured, for tests to check, in /.reddwarf/network.
 */
static int net_configure(void)
{
	char text[256];
	int n = snprintf(text, sizeof text, "link %s\naddress %s/%d\ngateway %s\n", net.link, net.ip, net.prefix, net.gateway);
	const char *tmp = BASE "/.network.tmp";
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, text, (size_t)n) < 0 || close(fd) < 0 || rename(tmp, BASE "/network") < 0) {
		snprintf(net.error, sizeof net.error, "recording " BASE "/network: %s", strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return -1;
	}
	return 0;
}
#endif

/* One attempt; on failure every container not yet started waits, and a retry is scheduled. */
static void net_attempt(void)
{
	net.retry_at = 0;
	if (net.link[0] && net_configure() == 0) {
		net.ready = 1;
		net.error[0] = '\0';
		logmsg("network: %s %s/%d via %s is up", net.link, net.ip, net.prefix, net.gateway);
		/* Waiting no more: back to never started, whose status.json does not exist (the agent shows PodInitializing …). */
		for (int i = 0; i < ncontainers; i++) {
			struct container *c = &containers[i];
			if (c->instance >= 0 || c->state != S_WAITING)
				continue;
			char path[PATH_MAX];
			c->state = S_NONE;
			snprintf(path, sizeof path, BASE "/containers/%s/status.json", c->name);
			unlink(path);
		}
		return;
	}
	logmsg("network: %s; containers wait (NetworkNotReady), retry in %ld ms", net.error, net.backoff_ms);
	for (int i = 0; i < ncontainers; i++) {
		struct container *c = &containers[i];
		if (c->instance >= 0)
			continue;
		c->state = S_WAITING;
		snprintf(c->reason, sizeof c->reason, "NetworkNotReady");
		write_status(c);
	}
	/* An invalid line never gets better: no retry. */
	if (!net.link[0])
		return;
	net.retry_at = mono_ms() + net.backoff_ms;
	net.backoff_ms = net.backoff_ms * 2 > NET_MAX_BACKOFF_MS ? NET_MAX_BACKOFF_MS : net.backoff_ms * 2;
}

static int read_conf(void)
{
	char *buf;
	if (read_file(BASE "/pod.conf", &buf) < 0) {
		logmsg(BASE "/pod.conf: %s", strerror(errno));
		return -1;
	}
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[32], val[MAX_NAME + 2];
		if (sscanf(line, "%31s %254s", key, val) != 2)
			continue;
		if (strcmp(key, "restartPolicy") == 0)
			restart_policy = strcmp(val, "Never") == 0 ? P_NEVER : strcmp(val, "OnFailure") == 0 ? P_ONFAILURE : P_ALWAYS;
		else if (strcmp(key, "backoffMs") == 0)
			backoff_initial_ms = atol(val) > 0 ? atol(val) : 10000;
		else if (strcmp(key, "logMaxBytes") == 0)
			log_max_bytes = atoll(val) > 0 ? atoll(val) : 10485760LL;
		else if (strcmp(key, "logMaxFiles") == 0)
			log_max_files = atol(val) > 0 ? atol(val) : 5;
		else if (strcmp(key, "network") == 0)
			parse_network(line);
		else if ((strcmp(key, "init") == 0 || strcmp(key, "container") == 0) && ncontainers < MAX_CONTAINERS) {
			if (strlen(val) > MAX_NAME || strchr(val, '/') || val[0] == '.') {
				logmsg("pod.conf: invalid container name %s", val);
				continue;
			}
			struct container *c = &containers[ncontainers++];
			memset(c, 0, sizeof *c);
			snprintf(c->name, sizeof c->name, "%s", val);
			c->is_init = key[0] == 'i';
			c->instance = -1;
			c->log_fd = -1;
			c->out.fd = c->err.fd = -1;
			c->out.label = "stdout";
			c->err.label = "stderr";
		}
	}
	free(buf);
	for (int i = 0; i < ncontainers; i++)
		containers[i].backoff_ms = backoff_initial_ms;
	net.backoff_ms = backoff_initial_ms;
	return 0;
}

int main(void)
{
#if defined(__linux__) && defined(PR_SET_CHILD_SUBREAPER)
	/* When not pid 1 (a test without a PID namespace), still be the one that reaps orphans. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
	signal(SIGPIPE, SIG_IGN);
	if (pipe(sigpipe_fds) < 0) {
		logmsg("pipe: %s", strerror(errno));
		for (;;)
			pause(); /* init must not exit: the zone would go down */
	}
	set_flags(sigpipe_fds[0]);
	set_flags(sigpipe_fds[1]);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);

	mkdir(BASE "/control", 0700);
	mkdir(BASE "/logs", 0750);
	if (read_conf() < 0)
		ncontainers = 0; /* nothing to run; stay up as init, reaping */
	/* Kubernetes runs no container of a pod without its network. */
	if (net.set)
		net_attempt();
	advance_inits();

	long long next_control = 0;
	for (;;) {
		long long now = mono_ms();
		if (got_term) {
			got_term = 0;
			if (!stopping)
				stop_all(DEFAULT_GRACE_S);
		}
		if (now >= next_control) {
			check_control();
			next_control = now + CONTROL_POLL_MS;
		}
		if (net.retry_at && now >= net.retry_at && !stopping) {
			net_attempt();
			advance_inits();
			now = mono_ms();
		}
		long long wake = next_control;
		if (net.retry_at && !stopping && net.retry_at < wake)
			wake = net.retry_at;
		for (int i = 0; i < ncontainers; i++) {
			struct container *c = &containers[i];
			if (c->kill_at && now >= c->kill_at && c->state == S_RUNNING) {
				kill(-c->pid, SIGKILL);
				kill(c->pid, SIGKILL);
				c->kill_at = 0;
			}
			if (c->start_at && now >= c->start_at && !stopping) {
				c->start_at = 0;
				start(c);
			}
			if (c->kill_at && c->kill_at < wake)
				wake = c->kill_at;
			if (c->start_at && c->start_at < wake)
				wake = c->start_at;
		}

		struct pollfd fds[1 + 2 * MAX_CONTAINERS];
		struct stream *owner[1 + 2 * MAX_CONTAINERS];
		struct container *cowner[1 + 2 * MAX_CONTAINERS];
		int n = 0;
		fds[n].fd = sigpipe_fds[0];
		fds[n].events = POLLIN;
		owner[n] = NULL;
		cowner[n] = NULL;
		n++;
		for (int i = 0; i < ncontainers; i++) {
			struct stream *ss[2] = {&containers[i].out, &containers[i].err};
			for (int j = 0; j < 2; j++) {
				if (ss[j]->fd < 0)
					continue;
				fds[n].fd = ss[j]->fd;
				fds[n].events = POLLIN;
				owner[n] = ss[j];
				cowner[n] = &containers[i];
				n++;
			}
		}
		now = mono_ms();
		long long timeout = wake - now;
		if (timeout < 0)
			timeout = 0;
		if (timeout > CONTROL_POLL_MS)
			timeout = CONTROL_POLL_MS;
		int r = poll(fds, (nfds_t)n, (int)timeout);
		if (r < 0) {
			if (errno != EINTR) {
				logmsg("poll: %s", strerror(errno));
				struct timespec ts = {0, 100 * 1000000L};
				nanosleep(&ts, NULL); /* never spin on a persistent error */
			}
			continue;
		}
		for (int i = 1; i < n; i++) {
			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
				continue;
			if (fds[i].revents & POLLNVAL) {
				owner[i]->fd = -1;
				continue;
			}
			stream_drain(cowner[i], owner[i], 0);
		}
		if (fds[0].revents & POLLIN) {
			char b[64];
			while (read(sigpipe_fds[0], b, sizeof b) > 0)
				;
		}
		/* Reap every round: cheap, and a lost SIGCHLD wake-up can never strand a zombie. */
		reap();
	}
}
