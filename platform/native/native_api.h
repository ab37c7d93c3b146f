/* What the native platform offers the kernel that hosts it: the kernel starts it and
 * nothing else; the platform uses the kernel through kernel/hostif.h. */
#ifndef PLATFORM_NATIVE_NATIVE_API_H
#define PLATFORM_NATIVE_NATIVE_API_H

/* Take over memory (Donjon keeps the first 16 MiB, the guest gets the rest), start every
 * CPU, launch the protocol test guest at VMPL2 and run it until it stops; then leave QEMU
 * with the guest's verdict. Options from the kernel command line: mode=hostile (the test
 * guest's hostile SMP checks), touch=unvalidated (its last access goes to memory it never
 * validated), bench=boot|calls|shootdown (what make bench measures). */
__attribute__((noreturn)) void native_run_guest(void);

/* test=core: the core's portable tests (tests/core) on this platform. */
__attribute__((noreturn)) void native_run_core_tests(void);

#endif
