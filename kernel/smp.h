/* SMP: starting every CPU the firmware lists, and per-CPU data. The calls a hosted
 * platform uses are declared in hostif.h. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include "hostif.h"

#endif
