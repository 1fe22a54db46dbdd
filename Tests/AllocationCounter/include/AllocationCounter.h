// Counts heap allocations made by the calling thread, by interposing malloc and friends in
// the test executable. Used to show that a steady-state training step allocates nothing.
#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made by
/// this thread since it started.
long allocation_count_this_thread(void);

#endif
