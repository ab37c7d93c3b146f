/* A spinlock for core/: freestanding (C11 atomics), the same in the kernel and hosted. */
#ifndef CORE_LOCK_H
#define CORE_LOCK_H

#include <stdatomic.h>

struct spinlock {
	atomic_flag flag;
};

static inline void spin_lock(struct spinlock *l)
{
	while (atomic_flag_test_and_set_explicit(&l->flag, memory_order_acquire)) {
		__builtin_ia32_pause();
	}
}

static inline void spin_unlock(struct spinlock *l)
{
	atomic_flag_clear_explicit(&l->flag, memory_order_release);
}

#endif
