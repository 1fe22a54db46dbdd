#include <mpi.h>

// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM…) are macros taking the address of
// library globals, which Swift does not import: these functions hand them over.
static inline MPI_Comm flowtrain_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype flowtrain_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype flowtrain_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype flowtrain_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype flowtrain_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op flowtrain_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op flowtrain_mpi_max(void) { return MPI_MAX; }
static inline void *flowtrain_mpi_in_place(void) { return MPI_IN_PLACE; }
