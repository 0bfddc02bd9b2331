// Minimal libbpf loader, the baseline of bench/startup/run.py:
//   c_loader OBJECT.bpf.o BTF_FILE
// opens OBJECT with BTF_FILE as btf_custom_path, loads it, attaches every
// program, prints "attached" on stderr, then waits for SIGINT/SIGTERM.
//   c_loader --libbpf-version
// prints the version of the libbpf it runs with (e.g. "v1.7") on stdout, so
// run.sh can check which libbpf a build really uses.
// run.sh builds it twice:
//   vendored: cc -O2 -I$OUT/include c_loader.c -static
//                $OUT/libbpf.a $OUT/libelf.a $OUT/libz.a
//     ($OUT: the libbpf-sys build output the launcher links, libbpf-bootstrap
//     style: the same libbpf, statically linked)
//   system:   cc -O2 c_loader.c -lbpf -lelf -lz   (the distribution's libbpf)
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	sigset_t stop_signals;
	int err, sig;

	if (argc == 2 && strcmp(argv[1], "--libbpf-version") == 0) {
		printf("%s\n", libbpf_version_string());
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o BTF_FILE\n"
			"       %s --libbpf-version\n", argv[0], argv[0]);
		return 2;
	}
	/* Blocked now and taken with sigwait: no window where a signal is lost. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);

	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = argv[2]);
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		fprintf(stderr, "cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "cannot load %s: %s\n", argv[1], strerror(-err));
		bpf_object__close(obj);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		/* Links are released by the process exit. */
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			bpf_object__close(obj);
			return 1;
		}
	}
	fprintf(stderr, "attached\n");
	fflush(stderr);

	sigwait(&stop_signals, &sig);
	bpf_object__close(obj);
	return 0;
}
