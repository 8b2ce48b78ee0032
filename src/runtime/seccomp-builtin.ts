// The seccomp rules containers run under when containers-common's seccomp.json is not installed:
// the same rules Podman 4.3 applies (the syscalls a container may make, those it may make only with
// a capability, on an architecture, or with given arguments), kept here as tables and turned into
// a profile in Docker's format, which seccomp.ts translates like any other.

/** Allowed to everyone. */
const ALLOWED = `
_llseek _newselect accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
clock_nanosleep_time64 clone clone3 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create
epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2
execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir
fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr
fsconfig fsetxattr fsmount fsopen fspick fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64
futex futex_time64 futimesat get_mempolicy get_robust_list get_thread_area getcpu getcwd getdents getdents64
getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid
getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit getrusage
getsid getsockname getsockopt gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init
inotify_init1 inotify_rm_watch io_cancel io_destroy io_getevents io_setup io_submit ioctl ioprio_get
ioprio_set ipc keyctl kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32
lgetxattr link linkat listen listxattr llistxattr lremovexattr lseek lsetxattr lstat lstat64 madvise mbind
membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2
mount mount_setattr move_mount mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64
mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
name_to_handle_at nanosleep newfstatat open open_tree openat openat2 pause pidfd_getfd pidfd_open
pidfd_send_signal pipe pipe2 pivot_root pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl
pread64 preadv preadv2 prlimit64 process_mrelease process_vm_readv process_vm_writev pselect6 pselect6_time64
ptrace pwrite64 pwritev pwritev2 read readahead readdir readlink readlinkat readv reboot recv recvfrom
recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir
rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_get_priority_max sched_get_priority_min sched_getaffinity
sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget
semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto set_mempolicy
set_robust_list set_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
setgroups setgroups32 setitimer setns setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
setresuid32 setreuid setreuid32 setrlimit setsid setsockopt setuid setuid32 setxattr shmat shmctl shmdt shmget
shutdown sigaction sigaltstack signal signalfd signalfd4 sigpending sigprocmask sigreturn sigsuspend
socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs
syscall sysinfo syslog tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime
timer_gettime64 timer_settime timer_settime64 timerfd timerfd_create timerfd_gettime timerfd_gettime64
timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask umount umount2 uname unlink
unlinkat unshare utime utimensat utimensat_time64 utimes vfork wait4 waitid waitpid write writev
`;

/** Refused with EPERM (not ENOSYS, the default): old or dangerous calls a program may try and must see fail as forbidden. */
const REFUSED = `
bdflush io_pgetevents kexec_file_load kexec_load migrate_pages move_pages nfsservctl nice oldfstat oldlstat
oldolduname oldstat olduname pciconfig_iobase pciconfig_read pciconfig_write sgetmask ssetmask swapcontext
swapoff swapon sysfs uselib userfaultfd ustat vm86 vm86old vmsplice
`;

/** Allowed with the capability, refused with EPERM without it. */
const BY_CAPABILITY: Record<string, string> = {
  CAP_DAC_READ_SEARCH: 'open_by_handle_at',
  CAP_SYS_ADMIN: 'bpf fanotify_init lookup_dcookie perf_event_open quotactl setdomainname sethostname setns',
  CAP_SYS_CHROOT: 'chroot',
  CAP_SYS_MODULE: 'delete_module finit_module init_module query_module',
  CAP_SYS_PACCT: 'acct',
  CAP_SYS_PTRACE: 'kcmp process_madvise',
  CAP_SYS_RAWIO: 'ioperm iopl',
  CAP_SYS_TIME: 'clock_settime clock_settime64 settimeofday stime',
  CAP_SYS_TTY_CONFIG: 'vhangup',
};

/** Allowed on these architectures only (the profile's names for them). */
const BY_ARCH: Array<[string[], string]> = [
  [['ppc64le'], 'sync_file_range2'],
  [['arm', 'arm64'], 'arm_fadvise64_64 arm_sync_file_range breakpoint cacheflush set_tls sync_file_range2'],
  [['amd64', 'x32'], 'arch_prctl'],
  [['amd64', 'x32', 'x86'], 'modify_ldt'],
  [['s390', 's390x'], 's390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr'],
];

/** personality(2) with these personas only: PER_LINUX, UNAME26, PER_LINUX32, their mix, and the query (0xffffffff). */
const PERSONAS = [0, 8, 131072, 131080, 4294967295];

/** The architectures each machine's filter covers: its own and those it can run. */
const ARCH_MAP: Array<[string, string[]]> = [
  ['SCMP_ARCH_X86_64', ['SCMP_ARCH_X86', 'SCMP_ARCH_X32']],
  ['SCMP_ARCH_AARCH64', ['SCMP_ARCH_ARM']],
  ['SCMP_ARCH_MIPS64', ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32']],
  ['SCMP_ARCH_MIPS64N32', ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64']],
  ['SCMP_ARCH_MIPSEL64', ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32']],
  ['SCMP_ARCH_MIPSEL64N32', ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64']],
  ['SCMP_ARCH_S390X', ['SCMP_ARCH_S390']],
];

const words = (s: string) => s.split(/\s+/).filter(Boolean);
const eq = (index: number, value: number) => ({ index, value, valueTwo: 0, op: 'SCMP_CMP_EQ' });
const ne = (index: number, value: number) => ({ index, value, valueTwo: 0, op: 'SCMP_CMP_NE' });
const AF_NETLINK = 16, NETLINK_AUDIT = 9;

/** The built-in profile, in Docker's seccomp.json format. */
export function builtinProfile(): object {
  return {
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38,
    archMap: ARCH_MAP.map(([architecture, subArchitectures]) => ({ architecture, subArchitectures })),
    syscalls: [
      { names: words(REFUSED), action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      { names: words(ALLOWED), action: 'SCMP_ACT_ALLOW' },
      ...PERSONAS.map((p) => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [eq(0, p)] })),
      ...BY_ARCH.map(([arches, names]) => ({ names: words(names), action: 'SCMP_ACT_ALLOW', includes: { arches } })),
      ...Object.entries(BY_CAPABILITY).flatMap(([cap, names]) => [
        { names: words(names), action: 'SCMP_ACT_ALLOW', includes: { caps: [cap] } },
        { names: words(names), action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: [cap] } },
      ]),
      // Without CAP_AUDIT_WRITE a netlink audit socket is refused (EINVAL), any other socket allowed.
      { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [eq(0, AF_NETLINK), eq(2, NETLINK_AUDIT)], excludes: { caps: ['CAP_AUDIT_WRITE'] } },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [ne(2, NETLINK_AUDIT)], excludes: { caps: ['CAP_AUDIT_WRITE'] } },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [ne(0, AF_NETLINK)], excludes: { caps: ['CAP_AUDIT_WRITE'] } },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_AUDIT_WRITE'] } },
    ],
  };
}
